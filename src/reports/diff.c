// SPDX-License-Identifier: MIT
// Diff of two logs (see diff.h). Sites of each run are built as for `memtrace report`, then
// matched by a normalized stack: function and file names interned in one symbolizer (two
// symbolizers' pointers never compare), files by base name (the build directory differs
// between builds), modules ignored for named frames (a renamed or rebuilt
// binary is the same code) and kept by name for unnamed ones. Linear in the sites of both runs.
#include "diff.h"
#include "grow.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Source files compare by base name: DWARF names them relative to the build directory
 * (../src/a.c) or absolutely, and both change with where a build ran. With the function and
 * the line beside it, the base name is as good as unique. */
static const char *mt_diff_file_key(const char *f)
{
    const char *s = strrchr(f, '/');
    return s ? s + 1 : f;
}

/* The match key of a site's stack, interned in sym. NULL on ENOMEM. */
static mt_frame_t *mt_diff_key(const mt_site_t *s, const mt_modules_t *mods, mt_symbolizer_t *sym)
{
    mt_frame_t *k = calloc(s->nframes ? s->nframes : 1, sizeof *k);
    if (!k)
        return NULL;
    for (size_t i = 0; i < s->nframes; i++) {
        const mt_frame_t *f = &s->frames[i];
        k[i].line = f->line;
        k[i].inlined = f->inlined;
        k[i].module = 0;
        if (f->function) {
            k[i].function = mt_symbolizer_intern(sym, f->function);
            if (f->file && !(k[i].file = mt_symbolizer_intern(sym, mt_diff_file_key(f->file))))
                goto fail;
            if (!k[i].function)
                goto fail;
        } else {
            const mt_module_t *m = mt_modules_get(mods, f->module);
            k[i].address = f->address;
            if (m && !(k[i].file = mt_symbolizer_intern(sym, m->basename)))
                goto fail;
        }
    }
    return k;
fail:
    free(k);
    return NULL;
}

static void mt_diff_add(mt_diff_figures_t *f, const mt_site_t *s)
{
    f->peak_bytes += s->peak_bytes;
    f->peak_blocks += s->peak_blocks;
    f->leaked_bytes += s->leaked_bytes;
    f->leaked_blocks += s->leaked_blocks;
    f->allocations += s->allocations;
    f->bytes_allocated += s->bytes_allocated;
}

static void mt_diff_totals(mt_diff_figures_t *f, const mt_analysis_t *a)
{
    const mt_replay_t *r = &a->replay;
    f->peak_bytes = r->peak_heap_bytes;
    f->peak_blocks = r->peak_heap_blocks;
    mt_held_t held = mt_analysis_held(a);
    f->leaked_bytes = held.bytes;
    f->leaked_blocks = held.blocks;
    f->allocations = r->allocations;
    f->bytes_allocated = r->bytes_allocated;
}

typedef struct mt_diff_table {
    size_t *slot; /* index + 1, 0 = empty */
    size_t mask;
} mt_diff_table_t;

static int mt_diff_insert(mt_diff_t *d, mt_diff_table_t *t, size_t *cap, const mt_site_t *s,
                          const mt_analysis_t *a, mt_symbolizer_t *sym, int is_new)
{
    mt_frame_t *key = mt_diff_key(s, a->modules, sym);
    if (!key)
        return -ENOMEM;
    if ((d->n + 1) * 2 > t->mask + 1) {
        size_t nc = (t->mask + 1) * 2;
        size_t *ns = calloc(nc, sizeof *ns);
        if (!ns) {
            free(key);
            return -ENOMEM;
        }
        for (size_t i = 0; i < d->n; i++) {
            size_t j = mt_sites_stack_hash(d->v[i].key, d->v[i].nkey) & (nc - 1);
            while (ns[j])
                j = (j + 1) & (nc - 1);
            ns[j] = i + 1;
        }
        free(t->slot);
        t->slot = ns;
        t->mask = nc - 1;
    }
    size_t j = mt_sites_stack_hash(key, s->nframes) & t->mask;
    mt_diff_site_t *e = NULL;
    for (; t->slot[j]; j = (j + 1) & t->mask) {
        mt_diff_site_t *c = &d->v[t->slot[j] - 1];
        if (mt_sites_stack_equal(c->key, c->nkey, key, s->nframes)) {
            e = c;
            break;
        }
    }
    if (e) {
        free(key);
    } else {
        if (MT_GROW(d->v, *cap, d->n + 1, 256) < 0) {
            free(key);
            return -ENOMEM;
        }
        e = &d->v[d->n++];
        memset(e, 0, sizeof *e);
        e->key = key;
        e->nkey = s->nframes;
        t->slot[j] = d->n;
    }
    if (is_new) {
        if (!e->in_new) { /* show the new run's stack: that is the code people have now */
            e->shown = s;
            e->mods = a->modules;
        }
        e->in_new = 1;
        mt_diff_add(&e->new_, s);
    } else {
        if (!e->shown) {
            e->shown = s;
            e->mods = a->modules;
        }
        e->in_old = 1;
        mt_diff_add(&e->old, s);
    }
    return 0;
}

int64_t mt_diff_site_delta(const mt_diff_site_t *s, enum mt_diff_by by)
{
    if (by == MT_DIFF_BY_LEAKED)
        return (int64_t)(s->new_.leaked_bytes - s->old.leaked_bytes);
    return (int64_t)(s->new_.peak_bytes - s->old.peak_bytes);
}

int64_t mt_diff_total_delta(const mt_diff_t *d, enum mt_diff_by by)
{
    if (by == MT_DIFF_BY_LEAKED)
        return (int64_t)(d->new_.leaked_bytes - d->old.leaked_bytes);
    return (int64_t)(d->new_.peak_bytes - d->old.peak_bytes);
}

/* Larger changes first, whichever their sign (a site that shrank by 40 MB matters more than
 * one that grew by 3 KB); at equal size, growth before shrinkage. */
static int mt_cmp_i64_desc(int64_t a, int64_t b)
{
    uint64_t ma = a < 0 ? (uint64_t)0 - (uint64_t)a : (uint64_t)a;
    uint64_t mb = b < 0 ? (uint64_t)0 - (uint64_t)b : (uint64_t)b;
    if (ma != mb)
        return ma > mb ? -1 : 1;
    return a > b ? -1 : a < b;
}

static int mt_diff_cmp(const void *pa, const void *pb, void *arg)
{
    const mt_diff_t *d = arg;
    const mt_diff_site_t *a = &d->v[*(const size_t *)pa], *b = &d->v[*(const size_t *)pb];
    enum mt_diff_by other = d->by == MT_DIFF_BY_PEAK ? MT_DIFF_BY_LEAKED : MT_DIFF_BY_PEAK;
    int c = mt_cmp_i64_desc(mt_diff_site_delta(a, d->by), mt_diff_site_delta(b, d->by));
    if (!c)
        c = mt_cmp_i64_desc(mt_diff_site_delta(a, other), mt_diff_site_delta(b, other));
    if (!c)
        c = mt_cmp_i64_desc((int64_t)(a->new_.bytes_allocated - a->old.bytes_allocated),
                            (int64_t)(b->new_.bytes_allocated - b->old.bytes_allocated));
    if (!c)
        c = *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
    return c;
}

/* ---- second pass: the sites left over, matched by function and call path ---- */

/* A stack's hash without its lines: function and file per frame (or module and address for
 * an unnamed one). */
static uint64_t mt_diff_path_hash(const mt_diff_site_t *e)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ e->nkey;
    for (size_t i = 0; i < e->nkey; i++) {
        const mt_frame_t *f = &e->key[i];
        uint64_t x = (uintptr_t)f->function ^ ((uintptr_t)f->file << 1) ^ (uint64_t)f->inlined;
        if (!f->function)
            x ^= f->address * 31;
        h = (h ^ x) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    return h;
}

static int mt_diff_path_equal(const mt_diff_site_t *a, const mt_diff_site_t *b)
{
    if (a->nkey != b->nkey)
        return 0;
    for (size_t i = 0; i < a->nkey; i++) {
        const mt_frame_t *x = &a->key[i], *y = &b->key[i];
        if (x->function != y->function || x->file != y->file || x->inlined != y->inlined ||
            (!x->function && x->address != y->address))
            return 0;
    }
    return 1;
}

/* Lines, innermost frame first: the order of sites in a file, which a moved block keeps. */
static int mt_diff_lines_cmp(const mt_diff_site_t *a, const mt_diff_site_t *b)
{
    for (size_t i = 0; i < a->nkey && i < b->nkey; i++)
        if (a->key[i].line != b->key[i].line)
            return a->key[i].line < b->key[i].line ? -1 : 1;
    return 0;
}

static uint64_t mt_diff_line_distance(const mt_diff_site_t *a, const mt_diff_site_t *b)
{
    uint64_t d = 0;
    for (size_t i = 0; i < a->nkey; i++)
        d += a->key[i].line > b->key[i].line ? a->key[i].line - b->key[i].line
                                             : b->key[i].line - a->key[i].line;
    return d;
}

typedef struct mt_diff_cand {
    uint64_t hash;
    size_t i; /* entry index */
} mt_diff_cand_t;

static int mt_diff_cand_cmp(const void *pa, const void *pb, void *arg)
{
    const mt_diff_t *d = arg;
    const mt_diff_cand_t *a = pa, *b = pb;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    int c = mt_diff_lines_cmp(&d->v[a->i], &d->v[b->i]);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

/* The new site n takes over the vanished site o: one site whose lines moved. */
static void mt_diff_pair(mt_diff_t *d, size_t o, size_t n)
{
    d->v[n].old = d->v[o].old;
    d->v[n].in_old = 1;
    d->v[n].moved = 1;
    d->v[o].merged = 1;
}

/* Sites only in the old run and sites only in the new one whose stacks differ in lines alone
 * are one site that moved (a comment or a function added above it). Within one function and
 * call path, as many old as new sites pair in the order of their lines (which moving code
 * keeps); otherwise each old site takes the nearest new one. 0 or -ENOMEM. */
static int mt_diff_match_moved(mt_diff_t *d)
{
    size_t nc = 0;
    for (size_t i = 0; i < d->n; i++)
        nc += d->v[i].in_old != d->v[i].in_new;
    if (!nc)
        return 0;
    mt_diff_cand_t *c = malloc(nc * sizeof *c);
    size_t *olds = malloc(nc * sizeof *olds), *news = malloc(nc * sizeof *news);
    uint8_t *done = calloc(nc, 1);
    if (!c || !olds || !news || !done) {
        free(c);
        free(olds);
        free(news);
        free(done);
        return -ENOMEM;
    }
    nc = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].in_old != d->v[i].in_new)
            c[nc++] = (mt_diff_cand_t){mt_diff_path_hash(&d->v[i]), i};
    qsort_r(c, nc, sizeof *c, mt_diff_cand_cmp, d);
    for (size_t a = 0; a < nc; a++) {
        if (done[a])
            continue;
        /* the class of c[a]: same hash (adjacent) and same path; in the order of lines */
        size_t no = 0, nn = 0;
        for (size_t b = a; b < nc && c[b].hash == c[a].hash; b++) {
            if (done[b] || !mt_diff_path_equal(&d->v[c[a].i], &d->v[c[b].i]))
                continue;
            done[b] = 1;
            if (d->v[c[b].i].in_old)
                olds[no++] = c[b].i;
            else
                news[nn++] = c[b].i;
        }
        if (no == nn) {
            for (size_t k = 0; k < no; k++)
                mt_diff_pair(d, olds[k], news[k]);
            continue;
        }
        for (size_t k = 0; k < no; k++) {
            size_t best = SIZE_MAX;
            uint64_t best_d = UINT64_MAX;
            for (size_t m = 0; m < nn; m++) {
                if (d->v[news[m]].in_old)
                    continue; /* taken */
                uint64_t dist = mt_diff_line_distance(&d->v[olds[k]], &d->v[news[m]]);
                if (dist < best_d) {
                    best_d = dist;
                    best = m;
                }
            }
            if (best != SIZE_MAX)
                mt_diff_pair(d, olds[k], news[best]);
        }
    }
    free(c);
    free(olds);
    free(news);
    free(done);
    return 0;
}

int mt_diff_build(mt_diff_t *d, const mt_analysis_t *old, mt_symbolizer_t *sym_old,
                  const mt_analysis_t *new_, mt_symbolizer_t *sym_new, enum mt_diff_by by)
{
    memset(d, 0, sizeof *d);
    d->a_old = old;
    d->a_new = new_;
    d->by = by;
    mt_diff_totals(&d->old, old);
    mt_diff_totals(&d->new_, new_);
    mt_diff_table_t t = {calloc(1024, sizeof(size_t)), 1023};
    size_t cap = 0;
    int rc = -ENOMEM;
    if (!t.slot)
        goto fail;
    /* The entries point at the sites they show, and their keys are as long: all frames. */
    if ((rc = mt_sites_build(&d->sites_old, old, sym_old)) < 0 ||
        (rc = mt_sites_build(&d->sites_new, new_, sym_new)) < 0 ||
        (rc = mt_sites_load_all(&d->sites_old)) < 0 || (rc = mt_sites_load_all(&d->sites_new)) < 0)
        goto fail;
    for (size_t i = 0; i < d->sites_old.n; i++)
        if ((rc = mt_diff_insert(d, &t, &cap, &d->sites_old.v[i], old, sym_old, 0)) < 0)
            goto fail;
    for (size_t i = 0; i < d->sites_new.n; i++)
        if ((rc = mt_diff_insert(d, &t, &cap, &d->sites_new.v[i], new_, sym_old, 1)) < 0)
            goto fail;
    if ((rc = mt_diff_match_moved(d)) < 0)
        goto fail;
    rc = -ENOMEM;
    if (!(d->order = malloc((d->n ? d->n : 1) * sizeof *d->order)))
        goto fail;
    size_t m = 0;
    for (size_t i = 0; i < d->n; i++) {
        const mt_diff_site_t *s = &d->v[i];
        if (s->merged)
            continue;
        if (mt_diff_site_delta(s, MT_DIFF_BY_PEAK) || mt_diff_site_delta(s, MT_DIFF_BY_LEAKED) ||
            mt_diff_status(s) != MT_DIFF_CHANGED)
            d->order[m++] = i;
    }
    qsort_r(d->order, m, sizeof *d->order, mt_diff_cmp, d);
    d->norder = m;
    free(t.slot);
    return 0;
fail:
    free(t.slot);
    mt_diff_destroy(d);
    return rc;
}

void mt_diff_destroy(mt_diff_t *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].key);
    free(d->v);
    free(d->order);
    mt_sites_destroy(&d->sites_old);
    mt_sites_destroy(&d->sites_new);
    memset(d, 0, sizeof *d);
}

int mt_diff_threshold_parse(const char *s, mt_diff_threshold_t *t)
{
    char *end;
    while (*s == ' ')
        s++;
    if (!(*s >= '0' && *s <= '9') && *s != '.')
        return -EINVAL;
    double v = strtod(s, &end); /* digits and '.' only: the C locale is not needed */
    if (end == s || !isfinite(v) || v < 0)
        return -EINVAL;
    while (*end == ' ')
        end++;
    static const struct {
        const char *suffix;
        double mult;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1024.0},
        {"kb", 1024.0},
        {"kib", 1024.0},
        {"m", 1048576.0},
        {"mb", 1048576.0},
        {"mib", 1048576.0},
        {"g", 1073741824.0},
        {"gb", 1073741824.0},
        {"gib", 1073741824.0},
    };
    if (strcmp(end, "%") == 0) {
        t->percent = 1;
        t->value = v;
        return 0;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(end, units[i].suffix) == 0) {
            t->percent = 0;
            t->value = v * units[i].mult;
            return 0;
        }
    }
    return -EINVAL;
}

int mt_diff_exceeds(const mt_diff_t *d, const mt_diff_threshold_t *t)
{
    int64_t delta = mt_diff_total_delta(d, d->by);
    if (delta <= 0)
        return 0;
    if (!t->percent)
        return (double)delta > t->value;
    uint64_t base = d->by == MT_DIFF_BY_LEAKED ? d->old.leaked_bytes : d->old.peak_bytes;
    if (!base)
        return 1; /* growth from nothing is above any percentage */
    return (double)delta * 100.0 > t->value * (double)base;
}

// SPDX-License-Identifier: MIT
// The call tree of flame graphs (see flame_tree.h). Two steps: every site's stack is walked
// outermost first into a tree held with a hash of (parent, frame), then the tree is copied in
// preorder with sorted, pruned children. Linear in the frames of the sites (plus the sort); it
// never looks at events, so its cost does not grow with the length of the log.
#include "flame_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

uint64_t mt_flame_figures_cost(const mt_flame_figures_t *f, enum mt_cost cost)
{
    switch (cost) {
    case MT_COST_PEAK:
        return f->peak_bytes;
    case MT_COST_LEAKED:
        return f->leaked_bytes;
    case MT_COST_ALLOCATIONS:
        return f->allocations;
    case MT_COST_TEMPORARY:
        return f->temporary;
    case MT_COST_ALLOCATED:
        return f->bytes_allocated;
    }
    return 0;
}

static void mt_fig_add(mt_flame_figures_t *d, const mt_flame_figures_t *s)
{
    d->allocations += s->allocations;
    d->bytes_allocated += s->bytes_allocated;
    d->peak_bytes += s->peak_bytes;
    d->peak_blocks += s->peak_blocks;
    d->leaked_bytes += s->leaked_bytes;
    d->leaked_blocks += s->leaked_blocks;
    d->temporary += s->temporary;
}

/* ---- step 1: the raw tree ---- */

typedef struct mt_raw {
    mt_flame_node_t *v; /* parent set; value/self/fig summed; the rest filled in step 2 */
    uint32_t *first_child, *next_sibling, *nchildren;
    size_t n, cap;
    uint32_t *table; /* node index + 1; 0 = empty */
    size_t tcap;
    uint32_t program; /* module index of the traced executable, or MT_NO_MODULE */
} mt_raw_t;

/* Frames are one node when a person would call them the same function: by name, file and
 * module (two static functions of one name in two files of a program are two functions),
 * or, without a name, by address. Lines differ inside a native function and are not part of
 * it. A Python frame is a line (file:line function), as in memray and py-spy: a script's
 * <module> is one function of a thousand lines, and "<module> (several lines)" would say
 * nothing. */
static int mt_frame_same(const mt_frame_t *a, const mt_frame_t *b)
{
    if (a->function != b->function || a->module != b->module || a->python != b->python ||
        a->file != b->file)
        return 0;
    if (a->python)
        return a->line == b->line;
    return a->function || a->address == b->address;
}

static size_t mt_raw_hash(uint32_t parent, const mt_frame_t *f)
{
    uint64_t h = (uint64_t)parent * 0x9e3779b97f4a7c15ull;
    h ^= (uintptr_t)f->function * 0x100000001b3ull;
    h ^= ((uint64_t)f->module << 1 | (uint64_t)f->python) * 0xff51afd7ed558ccdull;
    if (!f->function)
        h ^= f->address * 0xc4ceb9fe1a85ec53ull;
    h ^= (uintptr_t)f->file * 0x9e3779b97f4a7c15ull;
    if (f->python)
        h ^= (uint64_t)f->line * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 31;
    return (size_t)h;
}

static uint64_t mt_raw_node_hash(const void *arg, size_t i)
{
    const mt_raw_t *r = arg;
    return mt_raw_hash(r->v[i].parent, &r->v[i].frame);
}

static int mt_raw_grow_table(mt_raw_t *r)
{
    /* from 1: the root is never looked up */
    return mt_grow_slots(&r->table, &r->tcap, 1024, 1, r->n, mt_raw_node_hash, r);
}

static int mt_raw_grow_nodes(mt_raw_t *r)
{
    size_t nc = r->cap ? r->cap * 2 : 256;
    if (nc > UINT32_MAX / 2)
        return -ENOMEM;
    mt_flame_node_t *v = realloc(r->v, nc * sizeof *v);
    if (!v)
        return -ENOMEM;
    r->v = v;
    uint32_t **arrs[3] = {&r->first_child, &r->next_sibling, &r->nchildren};
    for (int k = 0; k < 3; k++) {
        uint32_t *a = realloc(*arrs[k], nc * sizeof *a);
        if (!a)
            return -ENOMEM;
        *arrs[k] = a;
    }
    r->cap = nc;
    return 0;
}

static unsigned mt_raw_kind(const mt_raw_t *r, const mt_frame_t *f)
{
    if (f->python)
        return MT_FLAME_PYTHON;
    if (f->module == MT_NO_MODULE)
        return MT_FLAME_UNKNOWN;
    return f->module == r->program ? MT_FLAME_PROGRAM : MT_FLAME_LIBRARY;
}

/* The child of parent for frame f, created when missing; UINT32_MAX on ENOMEM. */
static uint32_t mt_raw_child(mt_raw_t *r, uint32_t parent, const mt_frame_t *f)
{
    if ((r->n + 1) * 2 > r->tcap && mt_raw_grow_table(r) < 0)
        return UINT32_MAX;
    size_t j = mt_raw_hash(parent, f) & (r->tcap - 1);
    for (; r->table[j]; j = (j + 1) & (r->tcap - 1)) {
        mt_flame_node_t *c = &r->v[r->table[j] - 1];
        if (c->parent == parent && mt_frame_same(&c->frame, f)) {
            /* The same function reached from several lines: no single line to show. */
            if (c->frame.line != f->line)
                c->frame.line = 0;
            if (!f->inlined)
                c->frame.inlined = 0;
            return r->table[j] - 1;
        }
    }
    if (r->n == r->cap && mt_raw_grow_nodes(r) < 0)
        return UINT32_MAX;
    uint32_t id = (uint32_t)r->n++;
    mt_flame_node_t *c = &r->v[id];
    memset(c, 0, sizeof *c);
    c->frame = *f;
    c->parent = parent;
    c->depth = r->v[parent].depth + 1;
    c->kind = mt_raw_kind(r, f);
    r->first_child[id] = 0;
    r->nchildren[id] = 0;
    r->next_sibling[id] = r->first_child[parent];
    r->first_child[parent] = id;
    r->nchildren[parent]++;
    r->table[j] = id + 1;
    return id;
}

static void mt_raw_free(mt_raw_t *r)
{
    free(r->v);
    free(r->first_child);
    free(r->next_sibling);
    free(r->nchildren);
    free(r->table);
}

static uint32_t mt_program_module(const mt_analysis_t *a)
{
    size_t n = mt_modules_count(a->modules);
    for (size_t i = 0; i < n && a->process.exe; i++) {
        const mt_module_t *m = mt_modules_get(a->modules, (uint32_t)i);
        if (m && m->path && strcmp(m->path, a->process.exe) == 0)
            return (uint32_t)i;
    }
    /* The recorder reports the executable first. */
    return n ? 0 : MT_NO_MODULE;
}

static int mt_raw_build(mt_raw_t *r, const mt_analysis_t *a, mt_sites_t *sites, enum mt_cost cost)
{
    memset(r, 0, sizeof *r);
    r->program = mt_program_module(a);
    if (mt_raw_grow_nodes(r) < 0)
        return -ENOMEM;
    memset(&r->v[0], 0, sizeof r->v[0]);
    r->v[0].frame.module = MT_NO_MODULE;
    r->v[0].kind = MT_FLAME_ROOT;
    r->first_child[0] = 0;
    r->nchildren[0] = 0;
    r->n = 1;
    for (size_t i = 0; i < sites->n; i++) {
        const mt_site_t *s = &sites->v[i];
        mt_flame_figures_t fig = {
            .allocations = s->allocations,
            .bytes_allocated = s->bytes_allocated,
            .peak_bytes = s->peak_bytes,
            .peak_blocks = s->peak_blocks,
            .leaked_bytes = s->leaked_bytes,
            .leaked_blocks = s->leaked_blocks,
            .temporary = s->temporary,
        };
        uint64_t value = mt_flame_figures_cost(&fig, cost);
        if (!value)
            continue;
        int loaded = mt_sites_load(sites, i); /* one site's frames at a time */
        if (loaded < 0)
            return loaded;
        uint32_t at = 0;
        mt_fig_add(&r->v[0].fig, &fig);
        r->v[0].value += value;
        for (size_t k = s->nframes; k-- > 0;) {
            at = mt_raw_child(r, at, &s->frames[k]);
            if (at == UINT32_MAX)
                return -ENOMEM;
            mt_fig_add(&r->v[at].fig, &fig);
            r->v[at].value += value;
        }
        r->v[at].self += value;
        if (loaded)
            mt_sites_drop(sites, i);
    }
    return 0;
}

/* ---- step 2: preorder copy, children sorted and pruned ---- */

static int mt_name_cmp(const char *a, const char *b)
{
    if (a == b)
        return 0;
    if (!a || !b)
        return a ? -1 : 1; /* named frames first */
    return strcmp(a, b);
}

static int mt_child_cmp(const void *pa, const void *pb, void *arg)
{
    const mt_flame_node_t *v = arg;
    uint32_t ia = *(const uint32_t *)pa, ib = *(const uint32_t *)pb;
    const mt_flame_node_t *a = &v[ia], *b = &v[ib];
    if (a->value != b->value)
        return a->value > b->value ? -1 : 1;
    int c = mt_name_cmp(a->frame.function, b->frame.function);
    if (c)
        return c;
    if (a->frame.address != b->frame.address)
        return a->frame.address < b->frame.address ? -1 : 1;
    return ia < ib ? -1 : ia > ib;
}

typedef struct mt_pending {
    uint32_t raw;    /* raw node, or UINT32_MAX for an "other" node */
    uint32_t parent; /* output index */
    mt_flame_node_t other;
} mt_pending_t;

/* Copies the raw tree into t with threshold min (children below it merged). Returns the node
 * count, or -ENOMEM. */
static long mt_copy(const mt_raw_t *r, const uint32_t *kids, const uint32_t *kid_start,
                    uint64_t min, mt_flame_tree_t *t)
{
    size_t cap = r->n * 2 + 1; /* each node, plus at most one "other" per parent */
    mt_pending_t *stack = malloc(cap * sizeof *stack);
    if (!stack)
        return -ENOMEM;
    size_t sp = 0, n = 0;
    t->pruned_value = 0;
    t->pruned_frames = 0;
    t->max_depth = 0;
    stack[sp++] = (mt_pending_t){.raw = 0, .parent = 0};
    while (sp) {
        mt_pending_t e = stack[--sp];
        mt_flame_node_t *o = &t->v[n];
        uint32_t self = (uint32_t)n++;
        if (e.raw == UINT32_MAX) {
            *o = e.other;
        } else {
            *o = r->v[e.raw];
        }
        o->parent = self ? e.parent : 0;
        o->depth = self ? t->v[e.parent].depth + 1 : 0;
        if (o->depth > t->max_depth)
            t->max_depth = o->depth;
        if (e.raw == UINT32_MAX)
            continue;
        const uint32_t *k = kids + kid_start[e.raw];
        uint32_t nk = r->nchildren[e.raw];
        mt_flame_node_t other;
        memset(&other, 0, sizeof other);
        other.frame.module = MT_NO_MODULE;
        other.kind = MT_FLAME_OTHER;
        uint32_t kept = 0;
        for (uint32_t i = 0; i < nk; i++) {
            const mt_flame_node_t *c = &r->v[k[i]];
            if (c->value >= min) {
                kept++;
                continue;
            }
            other.value += c->value;
            other.self += c->value;
            other.merged++;
            mt_fig_add(&other.fig, &c->fig);
        }
        if (other.merged) {
            t->pruned_value += other.value;
            t->pruned_frames += other.merged;
            stack[sp++] = (mt_pending_t){.raw = UINT32_MAX, .parent = self, .other = other};
        }
        /* children sorted biggest first, so the kept ones are a prefix; pushed in reverse */
        for (uint32_t i = kept; i-- > 0;)
            stack[sp++] = (mt_pending_t){.raw = k[i], .parent = self};
    }
    free(stack);
    return (long)n;
}

static void mt_finish_layout(mt_flame_tree_t *t)
{
    /* end: subtree sizes, children after parents in preorder */
    for (size_t i = 0; i < t->n; i++)
        t->v[i].end = 1;
    for (size_t i = t->n; i-- > 1;)
        t->v[t->v[i].parent].end += t->v[i].end;
    for (size_t i = 0; i < t->n; i++)
        t->v[i].end += (uint32_t)i;
    /* offset: each child starts where its previous sibling ended. The previous sibling is an
     * ancestor-or-self of i - 1, so the walks up cost O(n) in total. */
    t->v[0].offset = 0;
    for (size_t i = 1; i < t->n; i++) {
        uint32_t p = t->v[i].parent;
        uint32_t prev = (uint32_t)i - 1;
        while (prev != p && t->v[prev].parent != p)
            prev = t->v[prev].parent;
        t->v[i].offset = prev == p ? t->v[p].offset : t->v[prev].offset + t->v[prev].value;
    }
}

/* The nodes a copy at threshold min would make, counting stops past limit: the kept nodes
 * (every ancestor and itself at least min) and one "other" per kept node with a child below it.
 * The count never rises with min: a parent that gains an "other" loses at least the child it
 * merged. stack holds r->n entries. */
static size_t mt_count(const mt_raw_t *r, const uint32_t *kids, const uint32_t *kid_start,
                       uint64_t min, size_t limit, uint32_t *stack)
{
    size_t n = 0, sp = 0;
    stack[sp++] = 0;
    while (sp && n <= limit) {
        uint32_t i = stack[--sp];
        const uint32_t *k = kids + kid_start[i];
        uint32_t nk = r->nchildren[i], kept = 0;
        while (kept < nk && r->v[k[kept]].value >= min)
            stack[sp++] = k[kept++];
        n += 1 + (kept < nk);
    }
    return n;
}

/* The smallest threshold at which the tree has at most max_nodes nodes (max_nodes >= 2: above
 * the biggest child of the root only the root and its "other" are left). Because the count
 * never rises with the threshold, the search is a bisection, and the answer depends on the
 * tree alone: a user's threshold above it is kept as it is, one below it is raised to it, so
 * a bigger --min-percent never draws more frames. Each count stops past max_nodes. */
static uint64_t mt_threshold_for(const mt_raw_t *r, const uint32_t *kids, const uint32_t *kid_start,
                                 size_t max_nodes, uint32_t *stack)
{
    if (mt_count(r, kids, kid_start, 0, max_nodes, stack) <= max_nodes)
        return 0;
    uint64_t lo = 0, hi = r->v[0].value + 1; /* count(lo) > max_nodes >= count(hi) */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (mt_count(r, kids, kid_start, mid, max_nodes, stack) <= max_nodes)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

static int mt_copy_at(const mt_raw_t *r, const uint32_t *kids, const uint32_t *kid_start,
                      uint64_t min, mt_flame_tree_t *t)
{
    long n = mt_copy(r, kids, kid_start, min, t);
    if (n < 0)
        return (int)n;
    t->n = (size_t)n;
    t->min_value = min;
    mt_finish_layout(t);
    return 0;
}

int mt_flame_tree_build(mt_flame_tree_t *t, const mt_analysis_t *a, mt_sites_t *sites,
                        const mt_flame_opts_t *o)
{
    memset(t, 0, sizeof *t);
    t->cost = o->cost;
    mt_raw_t r;
    int rc = mt_raw_build(&r, a, sites, o->cost);
    uint32_t *kids = NULL, *kid_start = NULL, *stack = NULL;
    if (rc < 0)
        goto out;
    rc = -ENOMEM;
    kids = malloc(r.n * sizeof *kids);
    kid_start = malloc(r.n * sizeof *kid_start);
    stack = malloc(r.n * sizeof *stack);
    t->v = malloc((r.n * 2 + 1) * sizeof *t->v);
    if (!kids || !kid_start || !stack || !t->v)
        goto out;
    uint32_t at = 0;
    for (size_t i = 0; i < r.n; i++) {
        kid_start[i] = at;
        for (uint32_t c = r.first_child[i]; c; c = r.next_sibling[c])
            kids[at++] = c;
        qsort_r(kids + kid_start[i], r.nchildren[i], sizeof *kids, mt_child_cmp, r.v);
    }
    uint64_t total = r.v[0].value;
    double share = o->min_share > 0 ? o->min_share : 0;
    uint64_t min = (uint64_t)(share * (double)total);
    if (share > 0 && (double)min < share * (double)total)
        min++; /* at least the share: a frame of exactly 0.1% stays at 0.1% */
    /* The cap's threshold, from the tree alone (never from min), so that the frames drawn are
     * the same function of the user's threshold whatever the cap and the budget did. */
    size_t cap = o->max_nodes ? (o->max_nodes < 2 ? 2 : o->max_nodes) : 0;
    uint64_t cut = cap ? mt_threshold_for(&r, kids, kid_start, cap, stack) : 0;
    if (o->size) {
        for (;;) {
            rc = mt_copy_at(&r, kids, kid_start, cut, t);
            if (rc < 0)
                goto out;
            size_t size = o->size(t, o->size_arg);
            if (size <= o->max_size || t->n <= 2)
                break;
            /* nodes in proportion to the budget, a little under, and fewer each time */
            double want = (double)t->n * (double)o->max_size / (double)size * 0.95;
            cap = want < 2 ? 2 : want >= (double)t->n ? t->n - 1 : (size_t)want;
            cut = mt_threshold_for(&r, kids, kid_start, cap, stack);
        }
        if (min <= cut) {
            rc = 0;
            goto out;
        }
    }
    rc = mt_copy_at(&r, kids, kid_start, min > cut ? min : cut, t);
out:
    free(kids);
    free(kid_start);
    free(stack);
    mt_raw_free(&r);
    if (rc < 0)
        mt_flame_tree_destroy(t);
    return rc;
}

/* The child of at for frame f, else its "other" child, else UINT32_MAX. Siblings are distinct
 * frames (mt_raw_child), so the first match is the one. */
static uint32_t mt_flame_child_of(const mt_flame_tree_t *t, uint32_t at, const mt_frame_t *f,
                                  int *merged)
{
    uint32_t other = UINT32_MAX;
    for (uint32_t c = at + 1; c < t->v[at].end; c = t->v[c].end) {
        if (t->v[c].kind == MT_FLAME_OTHER)
            other = c;
        else if (mt_frame_same(&t->v[c].frame, f))
            return c;
    }
    *merged = 1;
    return other;
}

int mt_flame_tree_site_nodes(const mt_flame_tree_t *t, mt_sites_t *sites, uint32_t *out)
{
    for (size_t i = 0; i < sites->n; i++) {
        out[i] = 0;
        const mt_site_t *s = &sites->v[i];
        if (!t->n || !mt_site_cost(s, t->cost))
            continue;
        int loaded = mt_sites_load(sites, i);
        if (loaded < 0)
            return loaded;
        uint32_t at = 0;
        int merged = 0;
        for (size_t k = s->nframes; k-- > 0 && !merged;) {
            uint32_t c = mt_flame_child_of(t, at, &s->frames[k], &merged);
            if (c == UINT32_MAX) /* not in a tree of these sites: keep it in the root */
                break;
            at = c;
        }
        out[i] = at;
        if (loaded)
            mt_sites_drop(sites, i);
    }
    return 0;
}

void mt_flame_tree_destroy(mt_flame_tree_t *t)
{
    free(t->v);
    memset(t, 0, sizeof *t);
}

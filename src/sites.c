// SPDX-License-Identifier: MIT
// Sites (see sites.h). Runs once per report over the nodes that allocated, so it may allocate
// freely; it must stay linear in the number of such nodes times the stack depth.
#include "sites.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame_filter.h"
#include "python_files.h"

/* One Python frame (ip with MT_PY_IP_BIT): 1, or -ENOMEM. A location the log never defined
 * (cut between the node and its records) reads as "<python>". */
static int mt_sites_python_frame(const mt_analysis_t *a, mt_symbolizer_t *sym, uint64_t ip,
                                 mt_frame_t *f)
{
    const char *name = "<python>", *file = NULL;
    uint32_t line = 0;
    (void)mt_pyinfo_frame(&a->python, ip, &name, &file, &line);
    memset(f, 0, sizeof *f);
    f->function = mt_symbolizer_intern(sym, name);
    f->file = file ? mt_symbolizer_intern(sym, file) : NULL;
    if (!f->function || (file && !f->file))
        return -ENOMEM;
    f->line = line;
    f->module = MT_NO_MODULE;
    f->address = ip & ~MT_PY_IP_BIT;
    f->python = 1;
    return 1;
}

size_t mt_sites_hide_interpreter(mt_frame_t *v, size_t n, uint32_t interp_module)
{
    /* Below the outermost Python frame is only the interpreter's start-up (main, libc's
     * start, a thread's start routine): nothing of the program's. */
    size_t last = n;
    while (last > 0 && !v[last - 1].python)
        last--;
    if (last == 0)
        return n;
    size_t k = 0;
    for (size_t i = 0; i < last; i++)
        if (v[i].python || interp_module == MT_NO_MODULE || v[i].module != interp_module)
            v[k++] = v[i];
    return k;
}

size_t mt_sites_hide_import(mt_frame_t *v, size_t n)
{
    size_t k = 0;
    int kept_python = 0, dropped = 0;
    mt_frame_t outermost = {.function = NULL}; /* set with dropped */
    for (size_t i = 0; i < n; i++) {
        if (v[i].python && mt_pyfile_is_import_machinery(v[i].file)) {
            outermost = v[i];
            dropped = 1;
            continue;
        }
        kept_python |= v[i].python;
        v[k++] = v[i];
    }
    if (dropped && !kept_python)
        v[k++] = outermost; /* k < n: at least one frame was dropped */
    return k;
}

int mt_sites_node_imported(const mt_analysis_t *a, uint32_t node)
{
    uint32_t steps = 0;
    for (uint32_t id = node; id != 0 && id < a->nodes.n && steps < MT_STACK_MAX_NODES;
         id = a->nodes.v[id].parent, steps++) {
        const char *name, *file;
        uint32_t line;
        uint64_t ip = mt_nodes_ip(&a->nodes, id);
        if ((ip & MT_PY_IP_BIT) && mt_pyinfo_frame(&a->python, ip, &name, &file, &line) == 0 &&
            mt_pyfile_is_import_machinery(file))
            return 1;
    }
    return 0;
}

int mt_sites_node_stack(const mt_analysis_t *a, mt_symbolizer_t *sym, uint32_t node,
                        mt_frame_t **out)
{
    size_t cap = 16, n = 0;
    mt_frame_t *v = malloc(cap * sizeof *v);
    if (!v)
        return -ENOMEM;
    /* Parents are always defined before children, so this walk ends at the root; it takes at
     * most MT_STACK_MAX_NODES steps, so a crafted chain of 20,000 frames under 20,000 leaves
     * costs 20,000 short stacks, not 400 million frames. */
    int below_top = 0, has_python = 0;
    uint32_t id = node, steps = 0;
    for (; id != 0 && steps < MT_STACK_MAX_NODES; id = a->nodes.v[id].parent, steps++) {
        const mt_node_loc_t *nd = mt_nodes_loc(&a->nodes, id);
        int ours = mt_filter_is_memtrace_module(mt_modules_get(a->modules, nd->module));
        /* Under the program's own frames, memtrace's are the main() wrapper of the recorder:
         * never shown. Those on top go with the allocator's frames (mt_filter_top). */
        if (ours && below_top)
            continue;
        below_top |= !ours;
        const mt_frame_t *fr;
        mt_frame_t pyf;
        int k;
        if (nd->ip & MT_PY_IP_BIT) {
            k = mt_sites_python_frame(a, sym, nd->ip, &pyf);
            fr = &pyf;
            has_python = 1;
        } else {
            /* The recorder drops its own frames, so every recorded ip is a return address. */
            k = mt_symbolizer_lookup(sym, nd->module, nd->rel, 1, &fr);
        }
        if (k < 0) {
            free(v);
            return k;
        }
        if (n + (size_t)k > cap) {
            while (n + (size_t)k > cap)
                cap *= 2;
            mt_frame_t *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                free(v);
                return -ENOMEM;
            }
            v = nv;
        }
        memcpy(v + n, fr, (size_t)k * sizeof *fr);
        n += (size_t)k;
    }
    if (has_python)
        n = mt_sites_hide_interpreter(v, n, a->python.interp_module);
    if (has_python && !a->show_import_machinery)
        n = mt_sites_hide_import(v, n);
    if (id != 0) { /* cut: one frame says so */
        const char *more = mt_symbolizer_intern(sym, MT_STACK_CUT_FUNCTION);
        if (!more) {
            free(v);
            return -ENOMEM;
        }
        if (n == cap) {
            mt_frame_t *nv = realloc(v, (cap + 1) * sizeof *nv);
            if (!nv) {
                free(v);
                return -ENOMEM;
            }
            v = nv;
        }
        v[n++] = (mt_frame_t){.function = more, .module = MT_NO_MODULE};
    }
    /* Sites and leaks keep this array: no slack in it (a million stacks of 4 frames). */
    if (n < cap) {
        mt_frame_t *nv = realloc(v, (n ? n : 1) * sizeof *nv);
        if (nv)
            v = nv;
    }
    *out = v;
    return (int)n;
}

uint64_t mt_sites_stack_hash(const mt_frame_t *f, size_t n)
{
    uint64_t h = 0x12345678abcdefull ^ n;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = (uintptr_t)f[i].function ^ ((uintptr_t)f[i].file << 1) ^
                     ((uint64_t)f[i].line << 32) ^ f[i].module;
        if (!f[i].function)
            x ^= f[i].address * 31;
        h = (h ^ x) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    /* Tables index by the low bits, which a multiply fills only from below: a final mix
     * (murmur3's) keeps a million stacks that differ in one address from clustering. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

int mt_sites_stack_equal(const mt_frame_t *a, size_t na, const mt_frame_t *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++) {
        if (a[i].function != b[i].function || a[i].file != b[i].file || a[i].line != b[i].line ||
            a[i].module != b[i].module || a[i].inlined != b[i].inlined)
            return 0;
        if (!a[i].function && a[i].address != b[i].address)
            return 0;
    }
    return 1;
}

/* Adds thread index idx to the site's list (sorted and made unique at the end). */
static int mt_sites_add_thread(mt_site_t *site, uint32_t idx)
{
    if (site->nthreads && site->threads[site->nthreads - 1] == idx)
        return 0;
    if ((site->nthreads & (site->nthreads - 1)) == 0) { /* 0, 1, 2, 4, ...: full */
        uint32_t *nv =
            realloc(site->threads, (site->nthreads ? site->nthreads * 2 : 1) * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        site->threads = nv;
    }
    site->threads[site->nthreads++] = idx;
    return 0;
}

/* The threads that allocated at node (replay.h: the first, then the others). */
static int mt_sites_node_threads(mt_site_t *site, const mt_replay_t *r, uint32_t node,
                                 const mt_node_stats_t *st)
{
    if (!st->thread)
        return 0;
    int rc = mt_sites_add_thread(site, st->thread - 1);
    size_t n = 0;
    const uint64_t *pairs = st->multi ? mt_replay_node_pairs(r, node, &n) : NULL;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = mt_sites_add_thread(site, (uint32_t)pairs[i] - 1);
    return rc;
}

static int mt_sites_u32_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return (a > b) - (a < b);
}

static void mt_sites_threads_finish(mt_sites_t *out)
{
    for (size_t i = 0; i < out->n; i++) {
        mt_site_t *s = &out->v[i];
        if (s->nthreads < 2)
            continue;
        qsort(s->threads, s->nthreads, sizeof *s->threads, mt_sites_u32_cmp);
        uint32_t k = 1;
        for (uint32_t j = 1; j < s->nthreads; j++)
            if (s->threads[j] != s->threads[k - 1])
                s->threads[k++] = s->threads[j];
        s->nthreads = k;
    }
}

int mt_sites_build(mt_sites_t *out, const mt_analysis_t *a, mt_symbolizer_t *sym)
{
    memset(out, 0, sizeof *out);
    const mt_replay_t *r = &a->replay;
    uint32_t nn = mt_replay_node_count(r);
    if (nn > a->nodes.n)
        nn = a->nodes.n;
    size_t cap = 0, hcap = 0;
    size_t *table = NULL; /* site index + 1, 0 = empty */
    int rc = 0;
    for (uint32_t id = 0; id < nn; id++) {
        mt_node_stats_t st = mt_replay_node(r, id);
        uint64_t held_bytes, held_blocks; /* at the end of a Python script (analysis.h) */
        mt_analysis_node_held(a, id, &held_bytes, &held_blocks);
        if (st.allocations == 0 && st.live_blocks == 0 && held_blocks == 0)
            continue;
        mt_frame_t *frames;
        int n = mt_sites_node_stack(a, sym, id, &frames);
        if (n < 0) {
            rc = n;
            break;
        }
        size_t skip = mt_filter_top(frames, (size_t)n, a->modules);
        size_t keep = (size_t)n - skip;
        memmove(frames, frames + skip, keep * sizeof *frames);
        if ((out->n + 1) * 2 > hcap) {
            size_t nh = hcap ? hcap * 2 : 1024;
            size_t *nt = calloc(nh, sizeof *nt);
            if (!nt) {
                free(frames);
                rc = -ENOMEM;
                break;
            }
            for (size_t i = 0; i < out->n; i++) {
                size_t j = mt_sites_stack_hash(out->v[i].frames, out->v[i].nframes) & (nh - 1);
                while (nt[j])
                    j = (j + 1) & (nh - 1);
                nt[j] = i + 1;
            }
            free(table);
            table = nt;
            hcap = nh;
        }
        size_t j = mt_sites_stack_hash(frames, keep) & (hcap - 1);
        mt_site_t *site = NULL;
        for (; table[j]; j = (j + 1) & (hcap - 1)) {
            mt_site_t *c = &out->v[table[j] - 1];
            if (mt_sites_stack_equal(c->frames, c->nframes, frames, keep)) {
                site = c;
                break;
            }
        }
        if (site) {
            free(frames);
        } else {
            if (out->n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                mt_site_t *nv = realloc(out->v, nc * sizeof *nv);
                if (!nv) {
                    free(frames);
                    rc = -ENOMEM;
                    break;
                }
                out->v = nv;
                cap = nc;
            }
            site = &out->v[out->n++];
            memset(site, 0, sizeof *site);
            site->frames = frames;
            site->nframes = keep;
            table[j] = out->n;
        }
        site->allocations += st.allocations;
        site->bytes_allocated += st.bytes_allocated;
        site->leaked_bytes += held_bytes;
        site->leaked_blocks += held_blocks;
        site->peak_bytes += st.peak_bytes;
        site->peak_blocks += st.peak_blocks;
        site->temporary += st.temporary;
        site->nodes++;
        site->imported += a->python.present && mt_sites_node_imported(a, id);
        if ((rc = mt_sites_node_threads(site, r, id, &st)) < 0)
            break;
    }
    free(table);
    mt_sites_threads_finish(out);
    if (rc < 0)
        mt_sites_destroy(out);
    return rc;
}

void mt_sites_destroy(mt_sites_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].frames);
        free(s->v[i].threads);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

static uint64_t mt_site_key(const mt_site_t *s, enum mt_site_key key)
{
    switch (key) {
    case MT_SITE_BY_BYTES:
        return s->bytes_allocated;
    case MT_SITE_BY_COUNT:
        return s->allocations;
    case MT_SITE_BY_LEAKED:
        return s->leaked_bytes;
    case MT_SITE_BY_PEAK:
        return s->peak_bytes;
    case MT_SITE_BY_TEMPORARY:
        return s->temporary;
    }
    return 0;
}

typedef struct mt_sort_ctx {
    const mt_sites_t *sites;
    enum mt_site_key key;
} mt_sort_ctx_t;

static int mt_cmp_u64_desc(uint64_t a, uint64_t b)
{
    return a > b ? -1 : a < b;
}

static int mt_site_cmp(const void *pa, const void *pb, void *arg)
{
    const mt_sort_ctx_t *ctx = arg;
    const mt_site_t *a = &ctx->sites->v[*(const size_t *)pa];
    const mt_site_t *b = &ctx->sites->v[*(const size_t *)pb];
    int c = mt_cmp_u64_desc(mt_site_key(a, ctx->key), mt_site_key(b, ctx->key));
    if (!c)
        c = mt_cmp_u64_desc(a->bytes_allocated, b->bytes_allocated);
    if (!c)
        c = mt_cmp_u64_desc(a->allocations, b->allocations);
    if (!c)
        c = mt_cmp_u64_desc(a->leaked_bytes, b->leaked_bytes);
    if (!c) /* creation order: node ids, stable across runs of the same log */
        c = *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
    return c;
}

size_t mt_sites_top(const mt_sites_t *s, enum mt_site_key key, size_t n, size_t *idx)
{
    size_t *all = malloc((s->n ? s->n : 1) * sizeof *all);
    size_t m = 0;
    if (!all)
        return 0;
    for (size_t i = 0; i < s->n; i++)
        if (mt_site_key(&s->v[i], key))
            all[m++] = i;
    mt_sort_ctx_t ctx = {s, key};
    qsort_r(all, m, sizeof *all, mt_site_cmp, &ctx); /* glibc's, with a context argument */
    if (m > n)
        m = n;
    memcpy(idx, all, m * sizeof *idx);
    free(all);
    return m;
}

// SPDX-License-Identifier: MIT
// The live view's figures (live.h). Per-node figures for all threads come from the replay;
// per thread, held bytes come from one walk over the live blocks and the calls from a table
// the allocation hook fills. A stack is symbolized once, the first time it is seen allocating,
// up to its site: a refresh costs one pass over the nodes and the new stacks only.
#include "live.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_filter.h"
#include "grow.h"
#include "names.h"
#include "sites.h"

/* (node, tid) -> calls and bytes: open addressing, grown at 50%. */
typedef struct mt_live_calls {
    uint64_t tid; /* with node: the key; node 0 with tid 0 is never an allocation key here */
    uint32_t node, used;
    uint64_t count, bytes;
} mt_live_calls_t;

/* A site: the stacks whose innermost user frame reads the same. */
typedef struct mt_live_site {
    char *function, *where;
} mt_live_site_t;

/* Growable arrays (grow.h) of the rows and of the sites. */
MT_DEFINE_BUF(mt_live_rows_t, mt_live_row_t)
MT_DEFINE_BUF(mt_live_sites_t, mt_live_site_t)
MT_DEFINE_RESERVE(mt_live_rows_reserve, mt_live_rows_t, 256)
MT_DEFINE_RESERVE(mt_live_sites_reserve, mt_live_sites_t, 64)

struct mt_live {
    mt_live_calls_t *calls;
    size_t calls_mask, ncalls;
    int incomplete;
    mt_live_sites_t sites; /* nsites of them */
    size_t nsites;
    uint32_t *site_table; /* open addressing on the label: site index + 1, 0 = empty */
    size_t site_mask;
    uint32_t *node_site; /* node -> site index + 1, 0 = not labelled yet */
    size_t node_site_cap;
    mt_live_rows_t rows; /* per node, then per site (out) */
    mt_live_row_t *out;
    size_t out_cap;
    /* thread view: node -> row index + 1 while rows are gathered */
    uint32_t *slot;
    size_t slot_cap;
};

static uint64_t mt_live_hash(uint32_t node, uint64_t tid)
{
    uint64_t h = ((uint64_t)node << 32 ^ tid) * 0x9e3779b97f4a7c15ull;
    return h ^ h >> 29;
}

int mt_live_new(mt_live_t **out)
{
    mt_live_t *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    *out = l;
    return 0;
}

void mt_live_free(mt_live_t *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nsites; i++) {
        free(l->sites.v[i].function);
        free(l->sites.v[i].where);
    }
    free(l->sites.v);
    free(l->site_table);
    free(l->node_site);
    free(l->out);
    free(l->calls);
    free(l->rows.v);
    free(l->slot);
    free(l);
}

int mt_live_incomplete(const mt_live_t *l)
{
    return l->incomplete;
}

static int mt_live_calls_grow(mt_live_t *l)
{
    size_t cap = l->calls ? (l->calls_mask + 1) * 2 : 1024;
    mt_live_calls_t *nv = calloc(cap, sizeof *nv);
    if (!nv)
        return -ENOMEM;
    for (size_t i = 0; l->calls && i <= l->calls_mask; i++) {
        if (!l->calls[i].used)
            continue;
        size_t j = mt_live_hash(l->calls[i].node, l->calls[i].tid) & (cap - 1);
        while (nv[j].used)
            j = (j + 1) & (cap - 1);
        nv[j] = l->calls[i];
    }
    free(l->calls);
    l->calls = nv;
    l->calls_mask = cap - 1;
    return 0;
}

static mt_live_calls_t *mt_live_calls_find(const mt_live_t *l, uint32_t node, uint64_t tid)
{
    if (!l->calls)
        return NULL;
    for (size_t j = mt_live_hash(node, tid) & l->calls_mask;; j = (j + 1) & l->calls_mask) {
        mt_live_calls_t *c = &l->calls[j];
        if (!c->used)
            return c;
        if (c->node == node && c->tid == tid)
            return c;
    }
}

void mt_live_on_alloc(void *arg, uint32_t node, uint64_t tid, uint64_t size)
{
    mt_live_t *l = arg;
    if (l->incomplete)
        return;
    if ((!l->calls || (l->ncalls + 1) * 2 > l->calls_mask + 1) && mt_live_calls_grow(l) < 0) {
        l->incomplete = 1;
        return;
    }
    mt_live_calls_t *c = mt_live_calls_find(l, node, tid);
    if (!c->used) {
        *c = (mt_live_calls_t){.tid = tid, .node = node, .used = 1};
        l->ncalls++;
    }
    c->count++;
    c->bytes += size;
}

static uint64_t mt_live_key(const mt_live_row_t *r, enum mt_live_sort key, int rank)
{
    /* the key first, then the other figures in a fixed order */
    static const int order[3][3] = {{0, 1, 2}, {1, 0, 2}, {2, 0, 1}};
    uint64_t v[3] = {r->held, r->allocated, r->count};
    return v[order[key][rank]];
}

static enum mt_live_sort mt_live_sort_key;

static int mt_live_cmp(const void *pa, const void *pb)
{
    const mt_live_row_t *a = pa, *b = pb;
    for (int k = 0; k < 3; k++) {
        uint64_t x = mt_live_key(a, mt_live_sort_key, k), y = mt_live_key(b, mt_live_sort_key, k);
        if (x != y)
            return x > y ? -1 : 1;
    }
    return a->site < b->site ? -1 : a->site > b->site;
}

static mt_live_row_t *mt_live_row_add(mt_live_t *l, size_t *n, uint32_t node)
{
    if (mt_live_rows_reserve(&l->rows, *n + 1) < 0)
        return NULL;
    mt_live_row_t *r = &l->rows.v[(*n)++];
    *r = (mt_live_row_t){.site = node};
    return r;
}

/* Grows a map indexed by node or site (uint32, 0 for none) to hold index i, the new part zero;
 * 0 or -ENOMEM with the map unchanged. */
static int mt_live_map_cover(uint32_t **map, size_t *cap, size_t i)
{
    if (i < *cap)
        return 0;
    size_t nc = *cap ? *cap : 1024;
    while (nc <= i)
        nc *= 2;
    uint32_t *nm = realloc(*map, nc * sizeof *nm);
    if (!nm)
        return -ENOMEM;
    memset(nm + *cap, 0, (nc - *cap) * sizeof *nm);
    *map = nm;
    *cap = nc;
    return 0;
}

/* The row of node in the thread view, made at its first block or call. */
static mt_live_row_t *mt_live_thread_row(mt_live_t *l, size_t *n, uint32_t node)
{
    if (mt_live_map_cover(&l->slot, &l->slot_cap, node) < 0)
        return NULL;
    if (l->slot[node])
        return &l->rows.v[l->slot[node] - 1];
    mt_live_row_t *r = mt_live_row_add(l, n, node);
    if (r)
        l->slot[node] = (uint32_t)*n;
    return r;
}

typedef struct mt_live_walk {
    mt_live_t *l;
    size_t *n;
    uint32_t thread; /* index of the chosen thread */
    int failed;
} mt_live_walk_t;

static void mt_live_walk_block(const mt_block_t *b, void *arg)
{
    mt_live_walk_t *w = arg;
    if (b->thread != w->thread || w->failed)
        return;
    mt_live_row_t *r = mt_live_thread_row(w->l, w->n, b->node);
    if (!r) {
        w->failed = 1;
        return;
    }
    r->held += b->size;
    r->blocks++;
}

static int mt_live_site_of(mt_live_t *l, const mt_analysis_t *a, mt_symbolizer_t *sym,
                           uint32_t node, uint32_t *site);

int mt_live_rows(mt_live_t *l, const mt_analysis_t *a, mt_symbolizer_t *sym, int one_thread,
                 uint64_t tid, enum mt_live_sort key, const mt_live_row_t **rows, size_t *nrows)
{
    const mt_replay_t *r = &a->replay;
    size_t n = 0;
    if (!one_thread) {
        uint32_t count = mt_replay_node_count(r);
        for (uint32_t node = 0; node < count; node++) {
            if (!mt_replay_node_allocated(r, node))
                continue;
            mt_node_stats_t st = mt_replay_node(r, node);
            mt_live_row_t *row = mt_live_row_add(l, &n, node);
            if (!row)
                return -ENOMEM;
            row->held = st.live_bytes;
            row->blocks = st.live_blocks;
            row->allocated = st.bytes_allocated;
            row->count = st.allocations;
        }
    } else {
        uint32_t idx = UINT32_MAX;
        for (uint32_t k = 0; k < r->ntstats; k++)
            if (r->tstats[k].tid == tid)
                idx = k;
        mt_live_walk_t w = {l, &n, idx, 0};
        if (idx != UINT32_MAX)
            mt_replay_each_live(r, mt_live_walk_block, &w);
        for (size_t i = 0; !w.failed && l->calls && i <= l->calls_mask; i++) {
            const mt_live_calls_t *c = &l->calls[i];
            if (!c->used || c->tid != tid)
                continue;
            mt_live_row_t *row = mt_live_thread_row(l, &n, c->node);
            if (!row)
                w.failed = 1;
            else {
                row->allocated = c->bytes;
                row->count = c->count;
            }
        }
        for (size_t i = 0; i < n; i++)
            l->slot[l->rows.v[i].site] = 0;
        if (w.failed)
            return -ENOMEM;
    }
    /* per node to per site: the sites' rows in out, found through slot (by site) */
    size_t m = 0;
    if (l->out_cap < n) {
        mt_live_row_t *no = realloc(l->out, n * sizeof *no);
        if (!no)
            return -ENOMEM;
        l->out = no;
        l->out_cap = n;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint32_t site;
        if ((rc = mt_live_site_of(l, a, sym, l->rows.v[i].site, &site)) < 0)
            break;
        if ((rc = mt_live_map_cover(&l->slot, &l->slot_cap, site)) < 0)
            break;
        if (!l->slot[site]) {
            l->out[m] = (mt_live_row_t){.site = site};
            l->slot[site] = (uint32_t)++m;
        }
        mt_live_row_t *o = &l->out[l->slot[site] - 1];
        o->held += l->rows.v[i].held;
        o->blocks += l->rows.v[i].blocks;
        o->allocated += l->rows.v[i].allocated;
        o->count += l->rows.v[i].count;
    }
    for (size_t i = 0; i < m; i++)
        l->slot[l->out[i].site] = 0;
    if (rc < 0)
        return rc;
    /* qsort has no argument: the key is set just before (one view thread calls this) */
    mt_live_sort_key = key;
    if (m)
        qsort(l->out, m, sizeof *l->out, mt_live_cmp);
    *rows = l->out;
    *nrows = m;
    return 0;
}

/* function and where of frame f, malloc'ed. */
static int mt_live_describe(const mt_analysis_t *a, const mt_frame_t *f, char **function,
                            char **where)
{
    char buf[512], fn[512];
    if (f->function)
        snprintf(fn, sizeof fn, "%s", mt_name_show(f->function, buf, sizeof buf));
    else
        snprintf(fn, sizeof fn, "0x%" PRIx64, f->address);
    char at[512];
    if (f->file) {
        const char *slash = strrchr(f->file, '/');
        snprintf(at, sizeof at, "%s:%" PRIu32, slash ? slash + 1 : f->file, f->line);
    } else {
        const mt_module_t *m = mt_modules_get(a->modules, f->module);
        snprintf(at, sizeof at, "%s+0x%" PRIx64, m ? m->basename : "?", f->address);
    }
    *function = strdup(fn);
    *where = strdup(at);
    if (!*function || !*where) {
        free(*function);
        free(*where);
        return -ENOMEM;
    }
    return 0;
}

static uint64_t mt_live_str_hash(const char *a, const char *b)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *a; a++)
        h = (h ^ (unsigned char)*a) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;
    for (; *b; b++)
        h = (h ^ (unsigned char)*b) * 0x100000001b3ull;
    return h ^ h >> 31;
}

/* The site labelled (function, where), made when new: takes the strings. */
static int mt_live_site_find(mt_live_t *l, char *function, char *where, uint32_t *site)
{
    if (!l->site_table || (l->nsites + 1) * 2 > l->site_mask + 1) {
        size_t cap = l->site_table ? (l->site_mask + 1) * 2 : 256;
        uint32_t *nt = calloc(cap, sizeof *nt);
        if (!nt)
            goto fail;
        for (size_t i = 0; i < l->nsites; i++) {
            size_t j = mt_live_str_hash(l->sites.v[i].function, l->sites.v[i].where) & (cap - 1);
            while (nt[j])
                j = (j + 1) & (cap - 1);
            nt[j] = (uint32_t)i + 1;
        }
        free(l->site_table);
        l->site_table = nt;
        l->site_mask = cap - 1;
    }
    size_t j = mt_live_str_hash(function, where) & l->site_mask;
    for (; l->site_table[j]; j = (j + 1) & l->site_mask) {
        const mt_live_site_t *x = &l->sites.v[l->site_table[j] - 1];
        if (strcmp(x->function, function) == 0 && strcmp(x->where, where) == 0) {
            *site = l->site_table[j] - 1;
            free(function);
            free(where);
            return 0;
        }
    }
    if (mt_live_sites_reserve(&l->sites, l->nsites + 1) < 0)
        goto fail;
    l->sites.v[l->nsites] = (mt_live_site_t){function, where};
    *site = (uint32_t)l->nsites++;
    l->site_table[j] = *site + 1;
    return 0;
fail:
    free(function);
    free(where);
    return -ENOMEM;
}

/* The site of node, labelled at its first call (its stack symbolized once). */
static int mt_live_site_of(mt_live_t *l, const mt_analysis_t *a, mt_symbolizer_t *sym,
                           uint32_t node, uint32_t *site)
{
    if (node < l->node_site_cap && l->node_site[node]) {
        *site = l->node_site[node] - 1;
        return 0;
    }
    int rc = mt_live_map_cover(&l->node_site, &l->node_site_cap, node);
    if (rc < 0)
        return rc;
    mt_frame_t *f = NULL;
    int n = node ? mt_sites_node_stack(a, sym, node, &f) : 0;
    if (n < 0)
        return n;
    long i = mt_filter_first_user(f, (size_t)n, a->modules);
    if (i < 0) {
        size_t top = mt_filter_top(f, (size_t)n, a->modules);
        i = top < (size_t)n ? (long)top : -1;
    }
    char *function = NULL, *where = NULL;
    if (i >= 0) {
        rc = mt_live_describe(a, &f[i], &function, &where);
    } else {
        function = strdup("(no stack)");
        where = strdup("");
        if (!function || !where) {
            free(function);
            free(where);
            rc = -ENOMEM;
        }
    }
    free(f);
    if (rc < 0 || (rc = mt_live_site_find(l, function, where, site)) < 0)
        return rc;
    l->node_site[node] = *site + 1;
    return 0;
}

void mt_live_site(const mt_live_t *l, uint32_t site, const char **function, const char **where)
{
    *function = l->sites.v[site].function;
    *where = l->sites.v[site].where;
}

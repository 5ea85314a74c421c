// SPDX-License-Identifier: MIT
// Sites (see sites.h). Runs once per report over the nodes that allocated, so it may allocate
// freely; it must stay linear in the number of such nodes times the stack depth. The build
// symbolizes first (every location, in the order the merge reads them), closes the
// symbolizer's files, then merges stacks as frame ids (stack_ids.h); frames are rebuilt only
// for the sites a report shows (mt_sites_load).
#include "sites.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_filter.h"
#include "grow.h"
#include "python_files.h"
#include "stack_ids.h"

/* One Python frame (ip with MT_PY_IP_BIT): 1, or -ENOMEM. A location the log never defined
 * (cut between the node and its records) reads as "<python>". */
static int mt_sites_python_frame(const mt_analysis_t *a, mt_symbolizer_t *sym, uint64_t ip,
                                 mt_frame_t *f)
{
    const char *name = "<python>", *file = NULL;
    uint32_t line = 0;
    char gap[64];
    if (ip & MT_PY_IP_GAP) {
        (void)snprintf(gap, sizeof gap, MT_STACK_GAP_FUNCTION, (uint32_t)ip);
        name = gap;
    } else {
        (void)mt_pyinfo_frame(&a->python, ip, &name, &file, &line);
    }
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

/* A growable frame array, reused from stack to stack. */
MT_DEFINE_BUF(mt_stack_buf_t, mt_frame_t)

MT_DEFINE_RESERVE(mt_stack_reserve, mt_stack_buf_t, 16)

/* Per trace-node location (a distinct return address), the symbolizer's answer: building
 * 360,000 stacks 90 deep then costs one array read per frame, not one hash lookup. */
struct mt_stack_memo {
    uint32_t *ref;   /* mt_symbolizer_lookup_ref's */
    uint32_t *count; /* frames; 0 = not asked yet */
    uint32_t nlocs;
};

static struct mt_stack_memo *mt_stack_memo_new(const mt_nodes_t *nodes)
{
    struct mt_stack_memo *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nlocs = nodes->nlocs;
    m->ref = malloc((m->nlocs ? m->nlocs : 1) * sizeof *m->ref);
    m->count = calloc(m->nlocs ? m->nlocs : 1, sizeof *m->count);
    if (!m->ref || !m->count) {
        free(m->ref);
        free(m->count);
        free(m);
        return NULL;
    }
    return m;
}

static void mt_stack_memo_free(struct mt_stack_memo *m)
{
    if (m) {
        free(m->ref);
        free(m->count);
        free(m);
    }
}

/* The native frames of one node: k >= 1 and *fr, or -ENOMEM. */
static int mt_stack_native(mt_symbolizer_t *sym, struct mt_stack_memo *memo, uint32_t loc,
                           const mt_node_loc_t *nd, const mt_frame_t **fr)
{
    uint32_t ref;
    int k;
    if (memo && loc < memo->nlocs && memo->count[loc]) {
        ref = memo->ref[loc];
        k = (int)memo->count[loc];
    } else {
        /* The recorder drops its own frames, so every recorded ip is a return address. */
        k = mt_symbolizer_lookup_ref(sym, nd->module, nd->rel, 1, &ref);
        if (k < 0)
            return k;
        if (memo && loc < memo->nlocs) {
            memo->ref[loc] = ref;
            memo->count[loc] = (uint32_t)k;
        }
    }
    *fr = mt_symbolizer_frames(sym, ref);
    return k;
}

/* The frames of node's stack into b (see mt_sites_node_stack); the count or -ENOMEM. */
static int mt_stack_of(const mt_analysis_t *a, mt_symbolizer_t *sym, struct mt_stack_memo *memo,
                       uint32_t node, mt_stack_buf_t *b)
{
    size_t n = 0;
    int has_python = 0;
    mt_stack_walk_t walk = mt_stack_walk_begin(a, node);
    const mt_node_loc_t *nd;
    uint32_t id;
    while ((id = mt_stack_walk_next(&walk, &nd)) != 0) {
        const mt_frame_t *fr;
        mt_frame_t pyf;
        int k;
        if (nd->ip & MT_PY_IP_BIT) {
            k = mt_sites_python_frame(a, sym, nd->ip, &pyf);
            fr = &pyf;
            has_python = 1;
        } else {
            k = mt_stack_native(sym, memo, a->nodes.v[id].loc, nd, &fr);
        }
        if (k < 0 || mt_stack_reserve(b, n + (size_t)k) < 0)
            return k < 0 ? k : -ENOMEM;
        memcpy(b->v + n, fr, (size_t)k * sizeof *fr);
        n += (size_t)k;
    }
    if (has_python)
        n = mt_sites_hide_interpreter(b->v, n, a->python.interp_module);
    if (has_python && !a->show_import_machinery)
        n = mt_sites_hide_import(b->v, n);
    if (mt_stack_walk_cut(&walk)) { /* one frame says so */
        const char *more = mt_symbolizer_intern(sym, MT_STACK_CUT_FUNCTION);
        if (!more || mt_stack_reserve(b, n + 1) < 0)
            return -ENOMEM;
        b->v[n++] = (mt_frame_t){.function = more, .module = MT_NO_MODULE};
    }
    return (int)n;
}

int mt_sites_node_stack(const mt_analysis_t *a, mt_symbolizer_t *sym, uint32_t node,
                        mt_frame_t **out)
{
    mt_stack_buf_t b = {0};
    int n = mt_stack_of(a, sym, NULL, node, &b);
    if (n < 0) {
        free(b.v);
        return n;
    }
    /* Sites and leaks keep this array: no slack in it (a million stacks of 4 frames). */
    mt_frame_t *v = realloc(b.v, (n ? (size_t)n : 1) * sizeof *v);
    *out = v ? v : b.v;
    if (!*out)
        return -ENOMEM;
    return n;
}

/* A site's frames: node's stack without the allocator's frames on top, at b->v + *first. */
static int mt_site_stack(const mt_sites_t *s, uint32_t node, mt_stack_buf_t *b, size_t *first)
{
    const mt_analysis_t *a = s->a;
    int n = mt_stack_of(a, s->sym, s->memo, node, b);
    if (n < 0)
        return n;
    *first = mt_filter_top(b->v, (size_t)n, a->modules);
    return n - (int)*first;
}

uint64_t mt_sites_stack_hash(const mt_frame_t *f, size_t n)
{
    uint64_t h = 0x12345678abcdefull ^ n;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = (uintptr_t)f[i].function ^ ((uintptr_t)f[i].file << 1) ^
                     ((uint64_t)f[i].line << 32) ^ f[i].module;
        if (!f[i].function || !f[i].line)
            x ^= f[i].address * 31;
        h = (h ^ x) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    /* Tables index by the low bits, which a multiply fills only from below: a final mix
     * keeps a million stacks that differ in one address from clustering. */
    return mt_sites_hash_mix(h);
}

int mt_sites_stack_equal(const mt_frame_t *a, size_t na, const mt_frame_t *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++) {
        if (a[i].function != b[i].function || a[i].file != b[i].file || a[i].line != b[i].line ||
            a[i].module != b[i].module || a[i].inlined != b[i].inlined)
            return 0;
        /* Without a line, two return addresses are two places, as memcheck counts them:
         * the calls of a function built without debug information are not one site. */
        if ((!a[i].function || !a[i].line) && a[i].address != b[i].address)
            return 0;
    }
    return 1;
}

/* The open-addressing table of the build, sized once for every node that may make a site (at
 * most 70% full, never rehashed): per slot the site index + 1 (0 = empty) in the low half and
 * the top of the stack hash in the high half, so most probes never rebuild a stack. */
typedef struct mt_site_table {
    uint64_t *slots;
    size_t mask;
} mt_site_table_t;

static int mt_site_table_init(mt_site_table_t *t, size_t sites)
{
    size_t cap = 1024;
    while (cap * 7 / 10 < sites)
        cap *= 2;
    t->slots = calloc(cap, sizeof *t->slots);
    t->mask = cap - 1;
    return t->slots ? 0 : -ENOMEM;
}

/* True when node makes a site: it allocated, or holds blocks at a Python script's end. */
static int mt_sites_counts(const mt_analysis_t *a, uint32_t id, mt_node_stats_t *st,
                           uint64_t *held_bytes, uint64_t *held_blocks)
{
    /* a node that never allocated holds nothing, even at a Python script's end */
    if (!mt_replay_node_allocated(&a->replay, id))
        return 0;
    *st = mt_replay_node(&a->replay, id);
    mt_analysis_node_held(a, id, held_bytes, held_blocks);
    return st->allocations || st->live_blocks || *held_blocks;
}

/* Symbolizes every location the build will read, in the order it will (warnings follow that
 * order), each stack's walk ending where an earlier one covered the rest. */
static int mt_sites_symbolize(const mt_analysis_t *a, mt_stack_ids_t *ids, uint32_t nn)
{
    uint8_t *seen = calloc(a->nodes.n ? a->nodes.n : 1, sizeof *seen);
    int rc = seen ? 0 : -ENOMEM;
    for (uint32_t id = 0; id < nn && rc == 0; id++) {
        mt_node_stats_t st;
        uint64_t held_bytes, held_blocks;
        if (mt_sites_counts(a, id, &st, &held_bytes, &held_blocks))
            rc = mt_stack_ids_warm(ids, id, seen);
    }
    free(seen);
    return rc;
}

/* mt_replay_node_index of node, which allocated, for walks over the ids in ascending order
 * (*k starts at 0): once the replay is finished that is its rank, counted here. */
static inline uint32_t mt_sites_node_index(const mt_replay_t *r, uint32_t node, uint32_t *k)
{
    return r->node_bits ? (*k)++ : mt_replay_node_index(r, node);
}

/* What the merge knows of a site: its first node and its stack's depth. The figures come in a
 * second pass, into an array made for the sites there are: a clang compile's 380,000 nodes
 * that allocated make 335,000 sites of 96 bytes, which the build's tables need not wait for. */
typedef struct mt_site_key {
    uint32_t node, nframes;
} mt_site_key_t;

/* The site with these frame ids (hash h): its index, or -1 for none (-2 with *rc set). A
 * stored hash equal to h is checked against the site's own stack, its ids rebuilt into other. */
static long mt_sites_find(const mt_site_key_t *keys, mt_site_table_t *t, mt_stack_ids_t *ids,
                          uint64_t h, const uint32_t *v, size_t n, mt_id_buf_t *other, int *rc)
{
    for (size_t j = h & t->mask; t->slots[j]; j = (j + 1) & t->mask) {
        size_t i = (uint32_t)t->slots[j] - 1;
        if (t->slots[j] >> 32 != h >> 32 || keys[i].nframes != n)
            continue;
        size_t first;
        int k = mt_stack_ids_site(ids, keys[i].node, other, &first);
        if (k < 0) {
            *rc = k;
            return -2;
        }
        if ((size_t)k == n && memcmp(other->v + first, v, n * sizeof *v) == 0)
            return (long)i;
    }
    return -1;
}

/* A new site for node, in the table under hash h: its index. */
static size_t mt_sites_add(mt_site_key_t *keys, size_t *nkeys, mt_site_table_t *t, uint64_t h,
                           uint32_t node, size_t nframes)
{
    size_t i = (*nkeys)++;
    keys[i] = (mt_site_key_t){.node = node, .nframes = (uint32_t)nframes};
    size_t j = h & t->mask;
    while (t->slots[j])
        j = (j + 1) & t->mask;
    t->slots[j] = (h >> 32) << 32 | (uint32_t)(i + 1);
    return i;
}

/* Adds thread index idx to the site's threads (sorted and made unique at the end): inline
 * while there is one, a list from the second on. */
static int mt_sites_add_thread(mt_site_t *site, uint32_t idx)
{
    uint32_t n = site->nthreads;
    if (n && mt_site_thread(site, n - 1) == idx)
        return 0;
    if (n == 0) {
        site->thread = idx;
        site->nthreads = 1;
        return 0;
    }
    if ((n & (n - 1)) == 0) { /* 1, 2, 4, ...: full */
        uint32_t *nv = realloc(site->threads, (size_t)n * 2 * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        if (n == 1)
            nv[0] = site->thread;
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
        if (k == 1) { /* one thread after all: inline */
            s->thread = s->threads[0];
            free(s->threads);
            s->threads = NULL;
        }
    }
}

/* The merge: each node that makes a site gets its site's index + 1 in node_site (by
 * mt_replay_node_index); *keys (malloc'ed) and *nkeys say what the sites are. */
static int mt_sites_merge(mt_sites_t *out, mt_stack_ids_t *ids, uint32_t nn, mt_site_key_t **keys,
                          size_t *nkeys)
{
    const mt_analysis_t *a = out->a;
    const mt_replay_t *r = &a->replay;
    /* Sized once for every node that allocated (at least one per site): a million sites must
     * not be copied while the array doubles. */
    size_t cap = mt_replay_nodes_allocated(r);
    mt_site_table_t t = {0};
    mt_id_buf_t b = {0}, other = {0};
    *nkeys = 0;
    *keys = malloc((cap ? cap : 1) * sizeof **keys);
    int rc = *keys ? mt_site_table_init(&t, cap) : -ENOMEM;
    for (uint32_t id = 0, k = 0; id < nn && rc == 0; id++) {
        mt_node_stats_t st;
        uint64_t held_bytes, held_blocks;
        if (!mt_replay_node_allocated(r, id))
            continue;
        uint32_t idx = mt_sites_node_index(r, id, &k);
        if (!mt_sites_counts(a, id, &st, &held_bytes, &held_blocks))
            continue;
        size_t first;
        int n = mt_stack_ids_site(ids, id, &b, &first);
        if (n < 0) {
            rc = n;
            break;
        }
        uint64_t h = mt_stack_ids_hash(b.v + first, (size_t)n);
        long i = mt_sites_find(*keys, &t, ids, h, b.v + first, (size_t)n, &other, &rc);
        if (i == -2)
            break;
        if (i < 0)
            i = (long)mt_sites_add(*keys, nkeys, &t, h, id, (size_t)n);
        out->node_site[idx] = (uint32_t)i + 1;
    }
    free(t.slots);
    free(b.v);
    free(other.v);
    return rc;
}

int mt_sites_build(mt_sites_t *out, const mt_analysis_t *a, mt_symbolizer_t *sym)
{
    memset(out, 0, sizeof *out);
    out->a = a;
    out->sym = sym;
    const mt_replay_t *r = &a->replay;
    uint32_t nn = mt_replay_node_count(r);
    if (nn > a->nodes.n)
        nn = a->nodes.n;
    mt_stack_ids_t *ids = NULL;
    int rc = mt_stack_ids_new(&ids, a, sym);
    if (rc == 0)
        rc = mt_sites_symbolize(a, ids, nn);
    if (rc < 0) {
        mt_stack_ids_free(ids);
        return rc;
    }
    /* Every answer is in: the files go before the sites come (a debug libc is 15 MB). glibc
     * keeps the pages freed inside its heap: given back, they do not add to the peak. */
    mt_symbolizer_release_files(sym);
    malloc_trim(0);
    uint32_t nalloc = mt_replay_nodes_allocated(r);
    mt_site_key_t *keys = NULL;
    size_t nkeys = 0;
    out->memo = mt_stack_memo_new(&a->nodes);
    out->node_site = calloc(nalloc ? nalloc : 1, sizeof *out->node_site);
    out->nnode_site = nn;
    rc = out->memo && out->node_site ? mt_sites_merge(out, ids, nn, &keys, &nkeys) : -ENOMEM;
    mt_stack_ids_free(ids);
    malloc_trim(0); /* the merge's tables, before the sites' array */
    out->v = rc == 0 ? calloc(nkeys ? nkeys : 1, sizeof *out->v) : NULL;
    if (rc == 0 && !out->v)
        rc = -ENOMEM;
    for (size_t i = 0; i < nkeys && rc == 0; i++) {
        out->v[i].node = keys[i].node;
        out->v[i].nframes = keys[i].nframes;
    }
    free(keys);
    out->n = rc == 0 ? nkeys : 0;
    /* The figures, node by node in id order as the merge went. */
    for (uint32_t id = 0, k = 0; id < nn && rc == 0; id++) {
        mt_node_stats_t st;
        uint64_t held_bytes, held_blocks; /* at the end of a Python script (analysis.h) */
        if (!mt_replay_node_allocated(r, id))
            continue;
        uint32_t site_id = out->node_site[mt_sites_node_index(r, id, &k)];
        if (!site_id || !mt_sites_counts(a, id, &st, &held_bytes, &held_blocks))
            continue;
        mt_site_t *site = &out->v[site_id - 1];
        site->allocations += st.allocations;
        site->bytes_allocated += st.bytes_allocated;
        site->leaked_bytes += held_bytes;
        site->leaked_blocks += held_blocks;
        site->peak_bytes += st.peak_bytes;
        site->peak_blocks += st.peak_blocks;
        site->temporary += st.temporary;
        site->nodes++;
        site->imported += a->python.present && mt_sites_node_imported(a, id);
        rc = mt_sites_node_threads(site, r, id, &st);
    }
    mt_sites_threads_finish(out);
    if (rc < 0) {
        mt_sites_destroy(out);
        return rc;
    }
    return 0;
}

uint32_t mt_sites_node_site(const mt_sites_t *s, uint32_t id)
{
    const mt_replay_t *r = &s->a->replay;
    if (id >= s->nnode_site || !mt_replay_node_allocated(r, id))
        return 0;
    return s->node_site[mt_replay_node_index(r, id)];
}

void mt_sites_destroy(mt_sites_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].frames);
        free(s->v[i].threads);
    }
    free(s->v);
    free(s->node_site);
    mt_stack_memo_free(s->memo);
    memset(s, 0, sizeof *s);
}

int mt_sites_load(mt_sites_t *s, size_t i)
{
    mt_site_t *site = &s->v[i];
    if (site->frames)
        return 0;
    mt_stack_buf_t b = {0};
    size_t first;
    int n = mt_site_stack(s, site->node, &b, &first);
    if (n < 0) {
        free(b.v);
        return n;
    }
    /* The same node, the same symbolizer: the same frames as when the site was built. */
    site->frames = malloc((n ? (size_t)n : 1) * sizeof *site->frames);
    if (site->frames)
        memcpy(site->frames, b.v + first, (size_t)n * sizeof *site->frames);
    free(b.v);
    if (!site->frames)
        return -ENOMEM;
    site->nframes = (uint32_t)n;
    return 1;
}

void mt_sites_drop(mt_sites_t *s, size_t i)
{
    free(s->v[i].frames);
    s->v[i].frames = NULL;
}

int mt_sites_load_list(mt_sites_t *s, const size_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = mt_sites_load(s, idx[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int mt_sites_load_all(mt_sites_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        int rc = mt_sites_load(s, i);
        if (rc < 0)
            return rc;
    }
    return 0;
}

uint64_t mt_site_cost(const mt_site_t *s, enum mt_cost key)
{
    switch (key) {
    case MT_COST_ALLOCATED:
        return s->bytes_allocated;
    case MT_COST_ALLOCATIONS:
        return s->allocations;
    case MT_COST_LEAKED:
        return s->leaked_bytes;
    case MT_COST_PEAK:
        return s->peak_bytes;
    case MT_COST_TEMPORARY:
        return s->temporary;
    }
    return 0;
}

typedef struct mt_sort_ctx {
    const mt_sites_t *sites;
    enum mt_cost key;
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
    int c = mt_cmp_u64_desc(mt_site_cost(a, ctx->key), mt_site_cost(b, ctx->key));
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

/* Moves heap[i] down the heap whose root is the last of the kept sites in the order. */
static void mt_top_sift(size_t *heap, size_t n, size_t i, mt_sort_ctx_t *ctx)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, worst = i;
        if (l < n && mt_site_cmp(&heap[l], &heap[worst], ctx) > 0)
            worst = l;
        if (r < n && mt_site_cmp(&heap[r], &heap[worst], ctx) > 0)
            worst = r;
        if (worst == i)
            return;
        size_t t = heap[i];
        heap[i] = heap[worst];
        heap[worst] = t;
        i = worst;
    }
}

size_t mt_sites_top(const mt_sites_t *s, enum mt_cost key, size_t n, size_t *idx)
{
    mt_sort_ctx_t ctx = {s, key};
    size_t m = 0;
    if (n == 0)
        return 0;
    /* The first n of the full order (a total order: ties end on the index), kept in a heap of n
     * while the sites pass: 360,000 sites are not sorted to show 10. */
    for (size_t i = 0; i < s->n; i++) {
        if (!mt_site_cost(&s->v[i], key))
            continue;
        if (m < n) {
            idx[m++] = i;
            if (m == n)
                for (size_t k = n / 2; k-- > 0;)
                    mt_top_sift(idx, n, k, &ctx);
        } else if (mt_site_cmp(&i, &idx[0], &ctx) < 0) {
            idx[0] = i;
            mt_top_sift(idx, n, 0, &ctx);
        }
    }
    qsort_r(idx, m, sizeof *idx, mt_site_cmp, &ctx); /* glibc's, with a context argument */
    return m;
}

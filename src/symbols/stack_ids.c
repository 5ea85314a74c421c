// SPDX-License-Identifier: MIT
// Stacks as frame ids (see stack_ids.h). The walk is mt_sites_node_stack's, location by
// location (memtrace's own frames below the program's are skipped, at most
// MT_STACK_MAX_NODES nodes, then the cut frame); a stack with a Python frame, whose
// interpreter frames are hidden by a rule over the whole stack, is built as frames by
// mt_sites_node_stack itself and its frames given ids one by one. The allocator frames on
// top are counted on each id's first frame: mt_filter_top reads only function and module,
// which are part of the identity.
#include "stack_ids.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame_filter.h"
#include "grow.h"
#include "sites.h"

struct mt_stack_ids {
    const mt_analysis_t *a;
    mt_symbolizer_t *sym;
    mt_frame_t *frames; /* by id: the first frame met with that identity */
    uint8_t *top;       /* by id: 1 when an allocator's frame (mt_filter_is_allocator_frame) */
    uint32_t nframes, frames_cap;
    uint32_t *slots; /* open addressing on the frame hash: id + 1, 0 = empty */
    size_t slots_cap;
    uint32_t *loc_first; /* by trace-node location: its ids at pool[first - 1 ..], 0 = not yet */
    uint32_t *loc_count;
    uint32_t nlocs;
    uint32_t *pool;
    size_t npool, pool_cap;
    uint32_t cut; /* the id of the frame that ends a cut stack, UINT32_MAX until needed */
};

int mt_stack_ids_new(mt_stack_ids_t **out, const mt_analysis_t *a, mt_symbolizer_t *sym)
{
    mt_stack_ids_t *x = calloc(1, sizeof *x);
    if (!x)
        return -ENOMEM;
    x->a = a;
    x->sym = sym;
    x->cut = UINT32_MAX;
    x->nlocs = a->nodes.nlocs;
    x->loc_first = calloc(x->nlocs ? x->nlocs : 1, sizeof *x->loc_first);
    x->loc_count = malloc((x->nlocs ? x->nlocs : 1) * sizeof *x->loc_count);
    if (!x->loc_first || !x->loc_count) {
        mt_stack_ids_free(x);
        return -ENOMEM;
    }
    *out = x;
    return 0;
}

void mt_stack_ids_free(mt_stack_ids_t *x)
{
    if (!x)
        return;
    free(x->frames);
    free(x->top);
    free(x->slots);
    free(x->loc_first);
    free(x->loc_count);
    free(x->pool);
    free(x);
}

static uint64_t mt_ids_frame_hash(const void *arg, size_t i)
{
    const mt_stack_ids_t *x = arg;
    return mt_sites_stack_hash(&x->frames[i], 1);
}

static int mt_ids_grow_slots(mt_stack_ids_t *x)
{
    return mt_grow_slots(&x->slots, &x->slots_cap, 1024, 0, x->nframes, mt_ids_frame_hash, x);
}

/* The id of f's identity, made at its first sight. 0 or -ENOMEM. */
static int mt_ids_of(mt_stack_ids_t *x, const mt_frame_t *f, uint32_t *id)
{
    if ((x->nframes + 1) * 2 > x->slots_cap && mt_ids_grow_slots(x) < 0)
        return -ENOMEM;
    size_t j = mt_sites_stack_hash(f, 1) & (x->slots_cap - 1);
    for (; x->slots[j]; j = (j + 1) & (x->slots_cap - 1)) {
        if (mt_sites_stack_equal(&x->frames[x->slots[j] - 1], 1, f, 1)) {
            *id = x->slots[j] - 1;
            return 0;
        }
    }
    if (x->nframes == x->frames_cap) {
        uint32_t nc = x->frames_cap ? x->frames_cap * 2 : 1024;
        mt_frame_t *nf = realloc(x->frames, nc * sizeof *nf);
        if (!nf)
            return -ENOMEM;
        x->frames = nf;
        uint8_t *nt = realloc(x->top, nc);
        if (!nt)
            return -ENOMEM;
        x->top = nt;
        x->frames_cap = nc;
    }
    x->frames[x->nframes] = *f;
    /* Asked of every stack's top frames (seven name prefixes each): once per identity, as
     * function and module are part of it. */
    x->top[x->nframes] =
        (uint8_t)mt_filter_is_allocator_frame(f, mt_modules_get(x->a->modules, f->module));
    x->slots[j] = ++x->nframes;
    *id = x->nframes - 1;
    return 0;
}

MT_DEFINE_RESERVE(mt_ids_reserve, mt_id_buf_t, 64)

static int mt_ids_loc_new(mt_stack_ids_t *x, uint32_t loc, size_t *at) __attribute__((noinline));

/* The ids of a native location's frames, symbolized at its first use: count >= 1 or -ENOMEM;
 * they are at pool[*at ..]. Asked at every step of every stack walked (a hundred per stack
 * on clang's log): the answer known is read inline. */
static inline int mt_ids_loc(mt_stack_ids_t *x, uint32_t loc, size_t *at)
{
    if (__builtin_expect(x->loc_first[loc] != 0, 1)) {
        *at = x->loc_first[loc] - 1;
        return (int)x->loc_count[loc];
    }
    return mt_ids_loc_new(x, loc, at);
}

static int mt_ids_loc_new(mt_stack_ids_t *x, uint32_t loc, size_t *at)
{
    const mt_node_loc_t *nd = &x->a->nodes.locs[loc];
    const mt_frame_t *fr;
    /* The recorder drops its own frames, so every recorded ip is a return address. */
    int k = mt_symbolizer_lookup(x->sym, nd->module, nd->rel, 1, &fr);
    if (k < 0)
        return k;
    if (x->npool + (size_t)k >= UINT32_MAX)
        return -ENOMEM;
    if (MT_GROW(x->pool, x->pool_cap, x->npool + (size_t)k, 1024) < 0)
        return -ENOMEM;
    /* fr stays valid: interning frames does not call the symbolizer */
    for (int i = 0; i < k; i++)
        if (mt_ids_of(x, &fr[i], &x->pool[x->npool + (size_t)i]) < 0)
            return -ENOMEM;
    *at = x->npool;
    x->loc_first[loc] = (uint32_t)x->npool + 1;
    x->loc_count[loc] = (uint32_t)k;
    x->npool += (size_t)k;
    return k;
}

/* A stack with a Python frame: mt_sites_node_stack's frames, given ids. */
static int mt_ids_python(mt_stack_ids_t *x, uint32_t node, mt_id_buf_t *b, size_t *first)
{
    mt_frame_t *f;
    int n = mt_sites_node_stack(x->a, x->sym, node, &f);
    if (n < 0)
        return n;
    size_t skip = mt_filter_top(f, (size_t)n, x->a->modules);
    int rc = mt_ids_reserve(b, (size_t)n + 1);
    for (size_t i = skip; i < (size_t)n && rc == 0; i++)
        rc = mt_ids_of(x, &f[i], &b->v[i - skip]);
    free(f);
    *first = 0;
    return rc < 0 ? rc : n - (int)skip;
}

/* How many ids on top are the allocator's (mt_filter_top on their frames). */
static size_t mt_ids_filter_top(const mt_stack_ids_t *x, const uint32_t *v, size_t n)
{
    size_t k = 0;
    while (k < n && x->top[v[k]])
        k++;
    return k == n ? 0 : k;
}

int mt_stack_ids_site(mt_stack_ids_t *x, uint32_t node, mt_id_buf_t *b, size_t *first)
{
    const mt_analysis_t *a = x->a;
    size_t n = 0;
    mt_stack_walk_t walk = mt_stack_walk_begin(a, node);
    const mt_node_loc_t *nd;
    uint32_t id;
    while ((id = mt_stack_walk_next(&walk, &nd)) != 0) {
        if (nd->ip & MT_PY_IP_BIT)
            return mt_ids_python(x, node, b, first);
        size_t at;
        int k = mt_ids_loc(x, a->nodes.v[id].loc, &at);
        if (k < 0 || mt_ids_reserve(b, n + (size_t)k) < 0)
            return k < 0 ? k : -ENOMEM;
        /* one id or a few (inlined frames): not worth a call to memcpy */
        for (int i = 0; i < k; i++)
            b->v[n + (size_t)i] = x->pool[at + (size_t)i];
        n += (size_t)k;
    }
    if (mt_stack_walk_cut(&walk)) { /* the frame that says so */
        if (x->cut == UINT32_MAX) {
            const char *more = mt_symbolizer_intern(x->sym, MT_STACK_CUT_FUNCTION);
            mt_frame_t f = {.function = more, .module = MT_NO_MODULE};
            if (!more || mt_ids_of(x, &f, &x->cut) < 0)
                return -ENOMEM;
        }
        if (mt_ids_reserve(b, n + 1) < 0)
            return -ENOMEM;
        b->v[n++] = x->cut;
    }
    *first = mt_ids_filter_top(x, b->v, n);
    return (int)(n - *first);
}

/* What a walk symbolizes from a node on depends only on the steps it has left and on whether
 * it met a frame of the program yet (below_top); past the program's first frame (every node but
 * memtrace's own few on top) a walk with at least as many steps left did it all. seen[node]
 * keeps half the steps left (rounded down) of the last walk through it past that frame, 0 for
 * none: up to MT_STACK_MAX_NODES / 2 fits a byte, where the steps themselves (capped at 255)
 * made every stack deeper than 129 frames walk on to its 129th whatever was seen before
 * (clang's 2.8 million trace nodes: a fifth of the sites' build). Twice that is at most what
 * the earlier walk had, so a walk it says is covered was. */
_Static_assert(MT_STACK_MAX_NODES / 2 <= 255, "half the steps of a walk fit seen's byte");
static int mt_ids_covered(uint8_t seen, unsigned left, int below_top)
{
    return below_top && 2u * seen >= left;
}

int mt_stack_ids_warm(mt_stack_ids_t *x, uint32_t node, uint8_t *seen)
{
    const mt_analysis_t *a = x->a;
    mt_filter_walk_t w = {0};
    uint32_t id = node, steps = 0;
    for (; id != 0 && steps < MT_STACK_MAX_NODES; id = a->nodes.v[id].parent, steps++) {
        unsigned left = MT_STACK_MAX_NODES - steps;
        if (mt_ids_covered(seen[id], left, w.below_top))
            return 0;
        if (w.below_top)
            seen[id] = (uint8_t)(left / 2);
        const mt_node_loc_t *nd = mt_nodes_loc(&a->nodes, id);
        if (mt_filter_walk_skip(&w, a->modules, nd->module))
            continue;
        size_t at;
        if (!(nd->ip & MT_PY_IP_BIT) && mt_ids_loc(x, a->nodes.v[id].loc, &at) < 0)
            return -ENOMEM;
    }
    return 0;
}

uint64_t mt_stack_ids_hash(const uint32_t *v, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    size_t i = 0;
    for (; i + 1 < n; i += 2) { /* two ids per multiply: stacks are 90 deep */
        h = (h ^ ((uint64_t)v[i] << 32 | v[i + 1])) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    if (i < n) {
        h = (h ^ v[i]) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    return mt_sites_hash_mix(h); /* tables index by the low bits */
}

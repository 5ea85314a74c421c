// SPDX-License-Identifier: MIT
// The trace tree: node ids for stacks, emitted once as TRACE_NODE records. The fast path looks
// the whole stack's two hashes (stack_hash.h) up in a direct-mapped cache of leaf ids; the slow
// path inserts frame by frame into an open-addressing (parent, ip) table. Runs under the recorder
// lock; memory comes from mmap only (never malloc, which would recurse into the hooks).
#include "trace_tree.h"

#include <errno.h>
#include <string.h>

typedef struct mt_edge {
    uint64_t ip;
    uint32_t parent;
    uint32_t id; /* 0: empty slot */
} mt_edge_t;

typedef struct mt_cache_entry {
    uint64_t hash, hash2;
    uint32_t leaf; /* 0: empty */
    uint32_t n;
} mt_cache_entry_t;

#define MT_CACHE_SIZE (1u << 16)

/* A node by id, for a forked child's log, which must describe the nodes its inherited blocks
 * name (trace_tree.h). */
typedef struct mt_node_rec {
    uint64_t ip;
    uint32_t parent;
} mt_node_rec_t;

static struct {
    uint32_t next_id;
    mt_node_rec_t *nodes; /* by id; nodes_cap entries */
    size_t nodes_cap;
    mt_edge_t *edges;
    size_t edges_cap; /* power of two */
    size_t edges_used;
    mt_cache_entry_t *cache;
    uint32_t epoch; /* bumped whenever ids may stop meaning what callers cached */
} mt_tree = {.epoch = 1};

int mt_tree_init(void)
{
    mt_tree.edges_cap = 1u << 16;
    mt_tree.edges = mt_map(mt_tree.edges_cap * sizeof(mt_edge_t));
    mt_tree.cache = mt_map(MT_CACHE_SIZE * sizeof(mt_cache_entry_t));
    if (!mt_tree.edges || !mt_tree.cache)
        return -ENOMEM;
    mt_tree.next_id = 1;
    mt_tree.edges_used = 0;
    mt_tree.nodes_cap = 1u << 16;
    mt_tree.nodes = mt_map(mt_tree.nodes_cap * sizeof(mt_node_rec_t));
    return mt_tree.nodes ? 0 : -ENOMEM;
}

/* Records id's (parent, ip); 0 or -ENOMEM. */
static int mt_tree_note_node(uint32_t id, uint32_t parent, uint64_t ip)
{
    if (id >= mt_tree.nodes_cap) {
        size_t cap = mt_tree.nodes_cap * 2;
        mt_node_rec_t *n = mt_map(cap * sizeof(mt_node_rec_t));
        if (!n)
            return -ENOMEM;
        memcpy(n, mt_tree.nodes, mt_tree.nodes_cap * sizeof(mt_node_rec_t));
        mt_unmap(mt_tree.nodes, mt_tree.nodes_cap * sizeof(mt_node_rec_t));
        mt_tree.nodes = n;
        mt_tree.nodes_cap = cap;
    }
    mt_tree.nodes[id] = (mt_node_rec_t){ip, parent};
    return 0;
}

uint32_t mt_tree_count(void)
{
    return mt_tree.next_id - 1;
}

void mt_tree_node(uint32_t id, uint32_t *parent, uint64_t *ip)
{
    *parent = mt_tree.nodes[id].parent;
    *ip = mt_tree.nodes[id].ip;
}

static size_t mt_tree_slot(uint32_t parent, uint64_t ip, size_t mask)
{
    uint64_t h = (ip ^ ((uint64_t)parent << 32 | parent)) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 20) & mask;
}

static int mt_tree_grow_edges(void)
{
    size_t cap = mt_tree.edges_cap * 2;
    mt_edge_t *e = mt_map(cap * sizeof(mt_edge_t));
    if (!e)
        return -ENOMEM;
    for (size_t i = 0; i < mt_tree.edges_cap; i++) {
        mt_edge_t *old = &mt_tree.edges[i];
        if (!old->id)
            continue;
        size_t s = mt_tree_slot(old->parent, old->ip, cap - 1);
        while (e[s].id)
            s = (s + 1) & (cap - 1);
        e[s] = *old;
    }
    mt_unmap(mt_tree.edges, mt_tree.edges_cap * sizeof(mt_edge_t));
    mt_tree.edges = e;
    mt_tree.edges_cap = cap;
    return 0;
}

/* Child of parent for ip, created (and emitted) when missing; 0 when out of memory. */
static uint32_t mt_tree_child(uint32_t parent, uint64_t ip, mt_enc_t *enc)
{
    size_t mask = mt_tree.edges_cap - 1;
    size_t s = mt_tree_slot(parent, ip, mask);
    for (;; s = (s + 1) & mask) {
        mt_edge_t *e = &mt_tree.edges[s];
        if (!e->id)
            break;
        if (e->ip == ip && e->parent == parent)
            return e->id;
    }
    if (mt_tree.edges_used * 2 >= mt_tree.edges_cap) {
        if (mt_tree_grow_edges() < 0)
            return 0;
        return mt_tree_child(parent, ip, enc); /* the table moved: probe again */
    }
    if (MT_UNLIKELY(mt_tree.next_id == UINT32_MAX))
        return 0; /* ids exhausted: treated like out of memory */
    uint32_t id = mt_tree.next_id;
    if (mt_tree_note_node(id, parent, ip) < 0)
        return 0;
    mt_tree.next_id++;
    mt_tree.edges[s] = (mt_edge_t){ip, parent, id};
    mt_tree.edges_used++;
    mt_enc_trace_node(enc, id, parent, ip);
    return id;
}

/* The last stack the slow path walked, outermost frame first, with the node of each frame. A
 * stack that misses the whole-stack cache usually shares its outer frames with the previous
 * one (the same callers, one level deeper or on the next line: imports nest 50 to 100 frames
 * deep), so only the frames after the first difference are looked up in the edge table, whose
 * probes are cache misses. Valid for one epoch; writer lock held. */
static struct {
    uint64_t ip[MT_UNWIND_MAX];
    uint32_t node[MT_UNWIND_MAX];
    uint32_t n, epoch;
} mt_path;

/* How many outer frames st shares with the last path walked. */
static uint32_t mt_path_common(const mt_stack_t *st)
{
    if (mt_path.epoch != mt_tree.epoch)
        return 0;
    uint32_t n = st->n, lim = n < mt_path.n ? n : mt_path.n, k = 0;
    while (k < lim && mt_path.ip[k] == st->ip[n - 1 - k])
        k++;
    return k;
}

static uint32_t mt_tree_walk(const mt_stack_t *st, mt_enc_t *enc)
{
    uint32_t n = st->n, k = mt_path_common(st);
    uint32_t id = k ? mt_path.node[k - 1] : 0;
    mt_path.epoch = mt_tree.epoch;
    for (uint32_t i = k; i < n; i++) {
        id = mt_tree_child(id, st->ip[n - 1 - i], enc);
        if (!id) {
            mt_path.n = i;
            return 0;
        }
        mt_path.ip[i] = st->ip[n - 1 - i];
        mt_path.node[i] = id;
    }
    mt_path.n = n;
    return id;
}

uint32_t mt_tree_intern(const mt_stack_t *st, mt_enc_t *enc)
{
    if (st->n == 0 || st->n > MT_UNWIND_MAX)
        return 0;
    /* Both hashes and the depth equal: the same stack (stack_hash.c). Walking the leaf's
     * parents to confirm it took 9% of recording churn.c, under the lock. */
    mt_cache_entry_t *c = &mt_tree.cache[(st->hash ^ st->hash2) & (MT_CACHE_SIZE - 1)];
    if (c->hash == st->hash && c->hash2 == st->hash2 && c->n == st->n && c->leaf)
        return c->leaf;
    uint32_t id = mt_tree_walk(st, enc);
    if (id)
        *c = (mt_cache_entry_t){st->hash, st->hash2, id, st->n};
    return id;
}

void mt_tree_forget(void)
{
    memset(mt_tree.edges, 0, mt_tree.edges_cap * sizeof(mt_edge_t));
    memset(mt_tree.cache, 0, MT_CACHE_SIZE * sizeof(mt_cache_entry_t));
    mt_tree.edges_used = 0;
    mt_tree.epoch++;
}

uint32_t mt_tree_epoch(void)
{
    return mt_tree.epoch;
}

void mt_tree_reset(void)
{
    mt_tree_forget();
    mt_tree.next_id = 1;
}

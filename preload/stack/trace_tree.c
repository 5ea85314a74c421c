// SPDX-License-Identifier: MIT
// The trace tree: node ids for stacks, emitted as TRACE_NODE records. The fast path looks the
// whole stack's two hashes (stack_hash.h) up in a direct-mapped cache of leaf ids; the slow path
// goes frame by frame through two bounded generations of (parent, ip) edges. Runs under the
// recorder lock; memory comes from mmap only (never malloc, which would recurse into the hooks)
// and stays bounded whatever the number of stacks.
#include "stack/trace_tree.h"

#include <errno.h>
#include <string.h>

typedef struct mt_edge {
    uint64_t ip;
    uint32_t parent;
    uint32_t id; /* 0: empty slot */
} mt_edge_t;

/* 16 bytes: the 96 bits of hash kept make a false hit as unlikely as the two full hashes did
 * (the hashes cover the depth), and the cache costs 1 MiB instead of 1.5. */
typedef struct mt_cache_entry {
    uint64_t hash;
    uint32_t hash2; /* its low half */
    uint32_t leaf;  /* 0: empty */
} mt_cache_entry_t;

#define MT_CACHE_SIZE (1u << 16)

/*
 * The (parent, ip) -> id edges live in two generations of fixed size: a lookup that misses the
 * young one but finds the edge in the old one copies it over, with its id; when the young one
 * is full it becomes the old one and the old one is cleared. Memory stays at 2 x 1 MiB however
 * many nodes a program makes (a clang++ compile makes 2.5 million: the single table of before
 * grew to 128 MiB, resident), and an edge that was used in the last generation keeps its id.
 * A forgotten edge only costs its node again under a new id: 3.1 million nodes on that compile
 * (2.7 million with generations twice as large), each about a third of a byte of the log.
 */
#define MT_GEN_BITS 16
#define MT_GEN_SLOTS (1u << MT_GEN_BITS)
#define MT_GEN_MAX_USED (MT_GEN_SLOTS / 2) /* half full: short probes */

/* A node by id, for a forked child's log under --leak-check, which must describe the nodes
 * its inherited blocks name (trace_tree.h). Kept only then: 16 bytes per node. */
typedef struct mt_node_rec {
    uint64_t ip;
    uint32_t parent;
} mt_node_rec_t;

static struct {
    uint32_t next_id;
    mt_node_rec_t *nodes; /* by id; nodes_cap entries; NULL unless kept */
    size_t nodes_cap;
    bool keep_nodes;
    mt_edge_t *gen[2]; /* young, old */
    size_t young_used;
    mt_cache_entry_t *cache;
    uint32_t epoch; /* bumped whenever ids may stop meaning what callers cached */
} mt_tree = {.epoch = 1};

int mt_tree_init(bool keep_nodes)
{
    mt_tree.gen[0] = mt_map(MT_GEN_SLOTS * sizeof(mt_edge_t));
    mt_tree.gen[1] = mt_map(MT_GEN_SLOTS * sizeof(mt_edge_t));
    mt_tree.cache = mt_map(MT_CACHE_SIZE * sizeof(mt_cache_entry_t));
    if (!mt_tree.gen[0] || !mt_tree.gen[1] || !mt_tree.cache)
        return -ENOMEM;
    mt_tree.next_id = 1;
    mt_tree.young_used = 0;
    mt_tree.keep_nodes = keep_nodes;
    if (!keep_nodes)
        return 0;
    mt_tree.nodes_cap = 1u << 16;
    mt_tree.nodes = mt_map(mt_tree.nodes_cap * sizeof(mt_node_rec_t));
    return mt_tree.nodes ? 0 : -ENOMEM;
}

/* Records id's (parent, ip) when nodes are kept; 0 or -ENOMEM. */
static int mt_tree_note_node(uint32_t id, uint32_t parent, uint64_t ip)
{
    if (!mt_tree.keep_nodes)
        return 0;
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
    return mt_tree.keep_nodes ? mt_tree.next_id - 1 : 0;
}

void mt_tree_node(uint32_t id, uint32_t *parent, uint64_t *ip)
{
    *parent = mt_tree.nodes[id].parent;
    *ip = mt_tree.nodes[id].ip;
}

static size_t mt_tree_slot(uint32_t parent, uint64_t ip)
{
    uint64_t h = (ip ^ ((uint64_t)parent << 32 | parent)) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> (64 - MT_GEN_BITS));
}

/* The slot of (parent, ip) in a generation: its edge, or the empty slot where it would go. */
static mt_edge_t *mt_tree_probe(mt_edge_t *gen, uint32_t parent, uint64_t ip)
{
    for (size_t s = mt_tree_slot(parent, ip);; s = (s + 1) & (MT_GEN_SLOTS - 1)) {
        mt_edge_t *e = &gen[s];
        if (!e->id || (e->ip == ip && e->parent == parent))
            return e;
    }
}

/* The young generation is full: it becomes the old one, the old one is cleared for reuse. */
static void mt_tree_age(void)
{
    mt_edge_t *old = mt_tree.gen[1];
    memset(old, 0, MT_GEN_SLOTS * sizeof(mt_edge_t));
    mt_tree.gen[1] = mt_tree.gen[0];
    mt_tree.gen[0] = old;
    mt_tree.young_used = 0;
}

/* Child of parent for ip, created (and emitted) when missing; 0 when out of memory. */
static uint32_t mt_tree_child(uint32_t parent, uint64_t ip, mt_enc_t *enc)
{
    mt_edge_t *e = mt_tree_probe(mt_tree.gen[0], parent, ip);
    if (e->id)
        return e->id;
    if (mt_tree.young_used >= MT_GEN_MAX_USED) {
        mt_tree_age();
        e = mt_tree_probe(mt_tree.gen[0], parent, ip);
    }
    const mt_edge_t *old = mt_tree_probe(mt_tree.gen[1], parent, ip);
    uint32_t id = old->id;
    if (!id) {
        if (MT_UNLIKELY(mt_tree.next_id == UINT32_MAX))
            return 0; /* ids exhausted: treated like out of memory */
        id = mt_tree.next_id;
        if (mt_tree_note_node(id, parent, ip) < 0)
            return 0;
        mt_tree.next_id++;
        mt_enc_trace_node(enc, id, parent, ip);
    }
    *e = (mt_edge_t){ip, parent, id};
    mt_tree.young_used++;
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
    /* The hash and the low half of the second equal (both cover the depth): the same stack,
     * but for a 2^-96 chance (stack_hash.c). Walking the leaf's parents to confirm it took 9%
     * of recording churn.c, under the lock. */
    mt_cache_entry_t *c = &mt_tree.cache[(st->hash ^ st->hash2) & (MT_CACHE_SIZE - 1)];
    if (c->hash == st->hash && c->hash2 == (uint32_t)st->hash2 && c->leaf)
        return c->leaf;
    uint32_t id = mt_tree_walk(st, enc);
    if (id)
        *c = (mt_cache_entry_t){st->hash, (uint32_t)st->hash2, id};
    return id;
}

uint32_t mt_tree_extend(uint32_t node, const uintptr_t *ip, uint32_t n, mt_enc_t *enc)
{
    for (uint32_t i = n; i-- > 0 && node;)
        node = mt_tree_child(node, ip[i], enc);
    return node;
}

void mt_tree_forget(void)
{
    for (int g = 0; g < 2; g++)
        memset(mt_tree.gen[g], 0, MT_GEN_SLOTS * sizeof(mt_edge_t));
    memset(mt_tree.cache, 0, MT_CACHE_SIZE * sizeof(mt_cache_entry_t));
    mt_tree.young_used = 0;
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

// SPDX-License-Identifier: MIT
// Stack deduplication: a trie of (parent node, ip) whose node ids go into the log instead of
// stacks. Shared by all threads: lookups that hit take no lock, misses take the tree's own
// (MT_LOCK_TREE), never the writer's. A new node's TRACE_NODE definition is queued before its
// id can be seen by any thread; whoever encodes an event drains the queue first
// (mt_tree_defs_pending, mt_tree_defs_take), so a definition always precedes its uses in the
// log; a caller that holds the writer lock encodes its own at once (mt_tree_direct_begin). Memory
// comes from mmap, never malloc, and is bounded: the trie keeps the edges used lately, a stack
// whose edges were forgotten gets new nodes (ids are never reused).
#ifndef MT_TRACE_TREE_H
#define MT_TRACE_TREE_H

#include <stdbool.h>
#include <stdint.h>

#include "log_format.h"
#include "stack/unwinder.h"

/* A queued TRACE_NODE: node id is ip called from parent. */
typedef struct mt_tree_def {
    uint64_t ip;
    uint32_t parent, id;
} mt_tree_def_t;

/* Maps the tree's tables; 0 or -ENOMEM. keep_nodes: remember every node by id (16 bytes each),
 * for mt_tree_node (the leak check's forked children). */
MT_WUR int mt_tree_init(bool keep_nodes);

/* Returns the leaf node id for st (0 for an empty stack, or when out of memory). No lock when
 * every edge is known; never call it with the tree lock held. */
uint32_t mt_tree_intern(const mt_stack_t *st);

/* The node of the stack made of node's stack and, beyond it (innermost), ip[n-1] down to ip[0]
 * (innermost first, like a stack): the node mt_tree_intern gives that whole stack, when node
 * is the one it gives the outer part. 0 when out of memory. */
uint32_t mt_tree_extend(uint32_t node, const uintptr_t *ip, uint32_t n);

/* Definitions queued and not taken yet; read without a lock. An id returned by intern or
 * extend (or read from a cache filled with one) was queued before it was returned: a thread
 * that has one and then finds this 0 knows its definition was taken already. */
extern size_t mt_tree_defs_queued;

static inline bool mt_tree_defs_pending(void)
{
    return __atomic_load_n(&mt_tree_defs_queued, __ATOMIC_ACQUIRE) != 0;
}

/* Takes up to max queued definitions, oldest first, into out; returns how many. The caller
 * encodes them, in that order, before any event it encodes next (one taker at a time: the
 * writer lock's holder). */
uint32_t mt_tree_defs_take(mt_tree_def_t *out, uint32_t max);

/*
 * For a caller that holds the writer lock and has begun e (the Python paths, which intern
 * under it): from mt_tree_direct_begin to mt_tree_direct_end, the definitions of the nodes its
 * intern and extend calls make are encoded into e at once, with no queue round trip, and the
 * tree lock its first miss takes (draining into e what other threads queued, so that parents
 * come first) is kept to the end, not taken again per call. Call mt_tree_defs_take only after
 * mt_tree_direct_end; encode the event after the section's interns. Nothing between the two
 * may wait (mt_writer_end may, for a free buffer): the tree lock is held.
 */
void mt_tree_direct_begin(mt_enc_t *e);
void mt_tree_direct_end(void);

/* Forgets all (parent, ip) -> id mappings; ids stay monotonic. For dlclose, where a
 * module's addresses may be reused by another one. */
void mt_tree_forget(void);

/* Forgets everything including ids, and the queued definitions. */
void mt_tree_reset(void);

/* fork: prepare takes the tree lock (after the writer's), parent drops it, the child gets a
 * fresh one and an empty queue (its log lists the nodes it keeps itself). */
void mt_tree_fork_prepare(void);
void mt_tree_fork_parent(void);
void mt_tree_fork_child(void);

/* With keep_nodes, the nodes made so far are 1..mt_tree_count() (0 without);
 * mt_tree_node gives one's parent and ip. A forked child keeps its parent's tree and writes
 * these at the start of its own log, so that the nodes its inherited blocks name mean the same
 * there. */
uint32_t mt_tree_count(void);
void mt_tree_node(uint32_t id, uint32_t *parent, uint64_t *ip);

/* Changes at every forget or reset: a node id cached outside the tree is valid only within
 * the epoch it was interned in. Never 0. */
uint32_t mt_tree_epoch(void);

#endif

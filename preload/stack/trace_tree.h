// SPDX-License-Identifier: MIT
// Stack deduplication: a trie of (parent node, ip) whose node ids go into the log instead of
// stacks. Called with the recorder lock held; new nodes are encoded as TRACE_NODE records
// right there, before the event that uses them. Memory comes from mmap, never malloc, and is
// bounded: the trie keeps the edges used lately, a stack whose edges were forgotten gets new
// nodes (ids are never reused, so every id in the log keeps its meaning).
#ifndef MT_TRACE_TREE_H
#define MT_TRACE_TREE_H

#include <stdbool.h>
#include <stdint.h>

#include "log_format.h"
#include "stack/unwinder.h"

/* Worst case bytes a single mt_tree_intern() call writes (every frame new). */
#define MT_TREE_MAX_EMIT ((size_t)MT_UNWIND_MAX * MT_ENC_NODE_MAX)

/* Maps the tree's tables; 0 or -ENOMEM. keep_nodes: remember every node by id (16 bytes each),
 * for mt_tree_node (the leak check's forked children). */
MT_WUR int mt_tree_init(bool keep_nodes);

/* Returns the leaf node id for st (0 for an empty stack, or when out of memory). */
uint32_t mt_tree_intern(const mt_stack_t *st, mt_enc_t *enc);

/* The node of the stack made of node's stack and, beyond it (innermost), ip[n-1] down to ip[0]
 * (innermost first, like a stack): the node mt_tree_intern gives that whole stack, when node
 * is the one it gives the outer part. 0 when out of memory. */
uint32_t mt_tree_extend(uint32_t node, const uintptr_t *ip, uint32_t n, mt_enc_t *enc);

/* Forgets all (parent, ip) -> id mappings; ids stay monotonic. For dlclose, where a
 * module's addresses may be reused by another one. */
void mt_tree_forget(void);

/* Forgets everything including ids. */
void mt_tree_reset(void);

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

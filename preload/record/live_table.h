// SPDX-License-Identifier: MIT
// The set of live heap blocks (address -> requested size), kept only when the leak check is
// on, so that the exit scan knows what to classify. Sharded, with a lock per shard: add and
// remove need no other lock; count, export and each want every shard held (mt_live_lock_all)
// or a single thread (a forked child). Memory comes from mt_map, never from malloc.
#ifndef MT_LIVE_TABLE_H
#define MT_LIVE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "leak/leak_graph.h"

/* 0, or -ENOMEM: the table could not be created and the leak check is off. */
__attribute__((warn_unused_result)) int mt_live_init(void);
/* Every change from now on is made under one lock of the caller's (the writer lock: the
 * aggregated log, aggregate.h), which also holds the table still for whoever reads it: the
 * shard locks, a third of the table's cost there, are skipped. Before the first change. */
void mt_live_one_lock(void);
/* False once the table failed to grow: its contents are incomplete and must not be scanned. */
int mt_live_ok(void);
/* Set in a size for a block that is not a glibc chunk (pymalloc's objects): its allocator
 * metadata is unknown, and glibc's malloc_usable_size must never be asked about it. */
#define MT_LIVE_NOT_GLIBC (1ull << 63)
/* size may carry MT_LIVE_NOT_GLIBC; node is the block's trace node. */
void mt_live_add(uintptr_t addr, uint64_t size, uint32_t node);
/* Removes addr; returns its size (with its flag), or 0 when it was not in the table, and its
 * node in *node. */
uint64_t mt_live_remove(uintptr_t addr, uint32_t *node);
/* A block as the aggregated log keeps it: size (with MT_LIVE_NOT_GLIBC when so), node and its
 * mt_alloc_kind (mt_live_add's blocks have kind 0). */
typedef struct mt_live_block {
    uint64_t size;
    uint32_t node;
    uint32_t kind;
} mt_live_block_t;
/* Inserts addr: 0 when it was not live, 1 when it was (its figures in *old, now replaced),
 * -ENOMEM when the table cannot hold it (then it is off for good: mt_live_ok). */
__attribute__((warn_unused_result)) int mt_live_put(uintptr_t addr, const mt_live_block_t *b,
                                                    mt_live_block_t *old);
/* Removes addr into *out: 1, or 0 when it was not in the table. */
__attribute__((warn_unused_result)) int mt_live_take(uintptr_t addr, mt_live_block_t *out);
/* Empties the table (a forked child under --aggregate: its log covers its own blocks). */
void mt_live_clear(void);
/* Every shard's lock, in index order, and back (the leak check's export, fork's prepare). */
void mt_live_lock_all(void);
void mt_live_unlock_all(void);
/* In a forked child, whose only thread held them all since prepare: fresh locks. */
void mt_live_child(void);
/* Calls fn for every block (size without its flag). */
void mt_live_each(void (*fn)(uintptr_t addr, uint64_t size, uint32_t node, void *ctx), void *ctx);
size_t mt_live_count(void);
/* Calls fn for every block, kind included (size without its flag). */
void mt_live_each_block(void (*fn)(uintptr_t addr, const mt_live_block_t *b, void *ctx), void *ctx);
/* Copies every block into out (room for mt_live_count() entries); returns the number. */
size_t mt_live_export(mt_leak_block_t *out);
/* A forked child keeps the table: the parent's blocks are in its heap too and take part in
 * its reachability graph (its log does not list them, so the analyzer skips them). */

#endif

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
/* Every shard's lock, in index order, and back (the leak check's export, fork's prepare). */
void mt_live_lock_all(void);
void mt_live_unlock_all(void);
/* In a forked child, whose only thread held them all since prepare: fresh locks. */
void mt_live_child(void);
/* Calls fn for every block (size without its flag). */
void mt_live_each(void (*fn)(uintptr_t addr, uint64_t size, uint32_t node, void *ctx), void *ctx);
size_t mt_live_count(void);
/* Copies every block into out (room for mt_live_count() entries); returns the number. */
size_t mt_live_export(mt_leak_block_t *out);
/* A forked child keeps the table: the parent's blocks are in its heap too and take part in
 * its reachability graph (its log does not list them, so the analyzer skips them). */

#endif

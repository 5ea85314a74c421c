// SPDX-License-Identifier: MIT
// The aggregated log (`memtrace run --aggregate`): per trace node its calls, bytes, what it
// holds now and held at the heap's peak, kept in the process and written once at the end
// (AGG_* records, docs/log-format.md) instead of an event per call. Writer lock held for
// every change; never malloc (tables come from mt_map), no stdio.
#ifndef MT_AGGREGATE_H
#define MT_AGGREGATE_H

#include <stdint.h>

#include "log_format.h"

/* 0, or -ENOMEM: no aggregated log (the recorder says so once). Needs mt_live_init first. */
__attribute__((warn_unused_result)) int mt_agg_init(void);
/* Writer lock held. An allocation call of kind at addr (0: failed, counted as a call only);
 * now_us 0: the clock is read here if the call sets a new high. */
void mt_agg_alloc(enum mt_alloc_kind kind, uintptr_t addr, uint64_t size, uint32_t node,
                  uint64_t now_us);
/* Writer lock held. tag: MT_TAG_FREE, MT_TAG_CUSTOM_FREE, MT_TAG_REALLOC_RELEASE or
 * MT_TAG_REALLOC_FAILED (the block the thread's last release took comes back). */
void mt_agg_free(enum mt_tag tag, uintptr_t addr, uint64_t now_us);
/* Writer lock held, every node the figures name defined in the log already: writes AGG_HEAP,
 * an AGG_SITE per node that allocated and an AGG_LIVE per live block. Once per log, but for
 * an exec that failed: the writer then cut them off with its EXIT (mt_agg_exec_failed). Under
 * an exec's hold (log_writer.h) full buffers are written at once, as the EXIT chunk is. */
void mt_agg_emit(uint64_t now_us);
/* The exec whose hold the figures were written under failed, and the writer cut them off:
 * they are written again at the end. */
void mt_agg_exec_failed(void);
/* A forked child: its log covers what it does itself, so every figure and the block table
 * start empty (its parent's blocks, freed by it, are frees of unknown blocks). */
void mt_agg_child(void);

#endif

// SPDX-License-Identifier: MIT
// The figures of `memtrace run --live`: the allocation sites of a log still being written,
// ranked by held bytes, bytes allocated or allocation count, for every thread or one. A site
// is what a person reads as one place: the stacks whose innermost user frame has the same
// function and file:line (memray live's "location"); each stack is symbolized once, when it
// first allocates, and its site cached. No terminal I/O; the caller owns the locking between
// the analysis that grows and these reads.
#ifndef MT_LIVE_H
#define MT_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "symbolizer.h"

enum mt_live_sort { MT_LIVE_HELD, MT_LIVE_ALLOCATED, MT_LIVE_COUNT };

/* One site with its figures, for all threads or the one chosen. */
typedef struct mt_live_row {
    uint32_t site;         /* mt_live_site */
    uint64_t held, blocks; /* live now */
    uint64_t allocated, count;
} mt_live_row_t;

typedef struct mt_live mt_live_t;

/* 0 or -ENOMEM. */
int mt_live_new(mt_live_t **out) MT_WUR;
void mt_live_free(mt_live_t *l);

/* The analysis hook (mt_live_hooks_t.alloc, arg an mt_live_t): what each thread allocated at
 * each node, which the replay keeps for all threads only. Out of memory, the per-thread
 * figures stop growing and mt_live_incomplete says so. */
void mt_live_on_alloc(void *l, uint32_t node, uint64_t tid, uint64_t size);
int mt_live_incomplete(const mt_live_t *l);

/* Every site that allocated (all threads: one_thread 0; else the blocks and calls of thread
 * tid), sorted by key, biggest first, ties by the other figures then by site. *rows is owned
 * by l and valid until the next call. Stacks new since the last call are symbolized with sym
 * (made for a's modules). 0 or -ENOMEM. */
int mt_live_rows(mt_live_t *l, const mt_analysis_t *a, mt_symbolizer_t *sym, int one_thread,
                 uint64_t tid, enum mt_live_sort key, const mt_live_row_t **rows, size_t *n) MT_WUR;

/* A site's label: the function and "file:line" (base name) of its innermost user frame
 * (frame_filter.h), or of its innermost frame outside the allocator when it has none
 * ("libfoo.so+0x12" without a file). Raw strings (escape them to print), as long as l. */
void mt_live_site(const mt_live_t *l, uint32_t site, const char **function, const char **where);

#endif

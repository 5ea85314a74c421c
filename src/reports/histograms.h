// SPDX-License-Identifier: MIT
// The histograms of `memtrace report`: freed blocks by lifetime, allocation calls by size. The
// report chooses the buckets, from the finer figures the replay counts (replay.h); built from a
// replay once, no I/O, no allocation.
#ifndef MT_HISTOGRAMS_H
#define MT_HISTOGRAMS_H

#include <stdint.h>

#include "replay.h"

/* Lifetime buckets of freed blocks: <1 ms, <10 ms, <100 ms, <1 s, longer. */
#define MT_LIFETIME_BUCKETS 5
/* Size buckets of allocation calls: 0 holds size 0, i > 0 holds [2^(i-1), 2^i). */
#define MT_SIZE_BUCKETS MT_REPLAY_SIZE_BITS

typedef struct mt_histograms {
    uint64_t lifetimes[MT_LIFETIME_BUCKETS]; /* freed blocks (free or realloc) by lifetime */
    uint64_t never_freed;                    /* blocks live at the end */
    uint64_t sizes[MT_SIZE_BUCKETS];         /* allocation calls by requested size */
} mt_histograms_t;

void mt_histograms_build(mt_histograms_t *h, const mt_replay_t *r);

/* Label of a lifetime bucket ("<1ms", ..., ">=1s"). */
const char *mt_histograms_lifetime_label(unsigned i);
/* The smallest and the largest size of a size bucket (inclusive). */
uint64_t mt_histograms_size_lo(unsigned i);
uint64_t mt_histograms_size_hi(unsigned i);

#endif

// SPDX-License-Identifier: MIT
// The glibc heap in use as the recorder sees it (usable bytes of the malloc-family blocks it
// recorded), and when that total reaches a new high worth a SAMPLE. Pure bookkeeping: the
// caller holds the recorder lock for every call except mt_heap_total_pending; no allocation,
// no calls out.
#ifndef MT_HEAP_TOTAL_H
#define MT_HEAP_TOTAL_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Peak samples (docs/log-format.md, "Samples"): the timer samples mallinfo2 every
 * --sample-interval ms, which misses a heap peak that comes and goes between two ticks. So
 * the total is kept here, and when it passes its threshold the peak is pending; the first
 * event that lowers the total afterwards (a free, a realloc's release) takes a sample before
 * the block goes back to glibc, i.e. of the heap at its high-water mark exactly. The
 * threshold is then set MT_HEAP_PEAK_MARGIN above that high: a heap creeping up takes one
 * sample per 1% of growth (about 70 per doubling), not one per allocation. Below
 * MT_HEAP_PEAK_MIN no peak is sampled: start-up would cost hundreds of samples for heaps
 * whose fragmentation the timer and the exit sample describe well enough.
 */
#define MT_HEAP_PEAK_MIN (1ull << 20)
#define MT_HEAP_PEAK_MARGIN 100 /* a new high must exceed the last sampled one by 1/100 */

typedef struct mt_heap_total {
    uint64_t cur;       /* usable bytes of the live blocks (malloc_usable_size) */
    uint64_t threshold; /* a total at or above this is a high worth sampling */
    int pending;        /* such a high was reached and not sampled yet (read unlocked too) */
    bool on;            /* the malloc we forward to is glibc's and samples are wanted */
} mt_heap_total_t;

/* Starts from an empty heap (also the state a disabled total keeps). */
void mt_heap_total_init(mt_heap_total_t *h, bool on);

/* A block of n usable bytes became live. */
static inline void mt_heap_total_add(mt_heap_total_t *h, uint64_t n)
{
    h->cur += n;
    if (__builtin_expect(h->cur >= h->threshold, 0) && !h->pending)
        __atomic_store_n(&h->pending, 1, __ATOMIC_RELAXED);
}

/* A block of n usable bytes left. Saturates at 0: a block allocated before recording started
 * (or while the total was off) is freed without ever having been added. */
static inline void mt_heap_total_sub(mt_heap_total_t *h, uint64_t n)
{
    h->cur -= n; /* no total reaches 2^63: a wrap shows as the top bit */
    if (__builtin_expect((int64_t)h->cur < 0, 0))
        h->cur = 0;
}

/* The unlocked hint for the hooks: true when the next lowering event should read a sample
 * first. Confirm with mt_heap_total_claim under the lock (another thread may take it). */
static inline bool mt_heap_total_pending(const mt_heap_total_t *h)
{
    return __atomic_load_n(&h->pending, __ATOMIC_RELAXED) != 0;
}

/* Before an event that lowers the total, with a sample read after the pending hint: true when
 * the sample is to be written (the peak is now taken, the next one must be MT_HEAP_PEAK_MARGIN
 * higher); false when no peak is pending any more. */
bool mt_heap_total_claim(mt_heap_total_t *h);

/* In a forked child: the total is inherited (the child's heap is a copy), but the child's log
 * starts now, so its highs count from what it inherited. */
void mt_heap_total_child(mt_heap_total_t *h);

#endif

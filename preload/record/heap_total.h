// SPDX-License-Identifier: MIT
// The glibc heap in use as the recorder sees it (usable bytes of the malloc-family blocks it
// recorded), and when that total reaches a new high worth a SAMPLE. Pure bookkeeping on
// atomics, no lock (every thread's events change it, and none may wait for another's); no
// allocation, no calls out.
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

/*
 * Every field is read and written with atomics. pending: 0 none, 1 a high was reached and is
 * not sampled yet, 2 a thread is claiming it (mt_heap_total_claim moves the threshold, then
 * clears it). Between the claim and the next high an add that read the old threshold may set
 * it again: one sample more, never one less, and each still of the total at its moment.
 */
typedef struct mt_heap_total {
    uint64_t cur;       /* usable bytes of the live blocks (malloc_usable_size) */
    uint64_t threshold; /* a total at or above this is a high worth sampling */
    int pending;        /* 0, 1 or 2 (above) */
    bool on;            /* the malloc we forward to is glibc's and samples are wanted */
} mt_heap_total_t;

/* Starts from an empty heap (also the state a disabled total keeps). */
void mt_heap_total_init(mt_heap_total_t *h, bool on);

/* A block of n usable bytes became live. */
static inline void mt_heap_total_add(mt_heap_total_t *h, uint64_t n)
{
    uint64_t cur = __atomic_add_fetch(&h->cur, n, __ATOMIC_RELAXED);
    if (__builtin_expect(cur >= __atomic_load_n(&h->threshold, __ATOMIC_RELAXED), 0) &&
        !__atomic_load_n(&h->pending, __ATOMIC_RELAXED)) {
        int none = 0;
        __atomic_compare_exchange_n(&h->pending, &none, 1, false, __ATOMIC_RELEASE,
                                    __ATOMIC_RELAXED);
    }
}

/* A block of n usable bytes left. Saturates at 0: a block allocated before recording started
 * (or while the total was off) is freed without ever having been added. */
static inline void mt_heap_total_sub(mt_heap_total_t *h, uint64_t n)
{
    uint64_t cur = __atomic_load_n(&h->cur, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&h->cur, &cur, cur > n ? cur - n : 0, true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* The hint for the hooks: true when the next lowering event should read a sample first.
 * Confirm with mt_heap_total_claim (another thread may take it). */
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

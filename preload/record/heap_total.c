// SPDX-License-Identifier: MIT
// The glibc heap total's slow paths (see heap_total.h): what happens at a peak sample and at
// fork. Atomics, no lock; no allocation, no calls out.
#include "record/heap_total.h"

/* The next high worth a sample: MT_HEAP_PEAK_MARGIN above the last one, at least the floor. */
static uint64_t mt_heap_total_next(uint64_t high)
{
    uint64_t t = high + high / MT_HEAP_PEAK_MARGIN + 1;
    return t > MT_HEAP_PEAK_MIN ? t : MT_HEAP_PEAK_MIN;
}

void mt_heap_total_init(mt_heap_total_t *h, bool on)
{
    __atomic_store_n(&h->cur, 0, __ATOMIC_RELAXED);
    /* Off: a threshold no total reaches, so pending is never set. */
    __atomic_store_n(&h->threshold, on ? MT_HEAP_PEAK_MIN : UINT64_MAX, __ATOMIC_RELAXED);
    __atomic_store_n(&h->pending, 0, __ATOMIC_RELAXED);
    h->on = on;
}

bool mt_heap_total_claim(mt_heap_total_t *h)
{
    int one = 1;
    if (!__atomic_compare_exchange_n(&h->pending, &one, 2, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return false; /* none pending, or another thread is taking it */
    /* Nothing lowered the total since it passed the threshold (every lowering event claims
     * first), so it is the high-water mark now. */
    uint64_t cur = __atomic_load_n(&h->cur, __ATOMIC_RELAXED);
    __atomic_store_n(&h->threshold, mt_heap_total_next(cur), __ATOMIC_RELAXED);
    __atomic_store_n(&h->pending, 0, __ATOMIC_RELEASE);
    return true;
}

void mt_heap_total_child(mt_heap_total_t *h)
{
    if (!h->on)
        return;
    h->threshold = mt_heap_total_next(h->cur); /* the child's only thread */
    __atomic_store_n(&h->pending, 0, __ATOMIC_RELAXED);
}

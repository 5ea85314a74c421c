// SPDX-License-Identifier: MIT
// The glibc heap total's slow paths (see heap_total.h): what happens at a peak sample and at
// fork. Recorder lock held; no allocation, no calls out.
#include "record/heap_total.h"

/* The next high worth a sample: MT_HEAP_PEAK_MARGIN above the last one, at least the floor. */
static uint64_t mt_heap_total_next(uint64_t high)
{
    uint64_t t = high + high / MT_HEAP_PEAK_MARGIN + 1;
    return t > MT_HEAP_PEAK_MIN ? t : MT_HEAP_PEAK_MIN;
}

void mt_heap_total_init(mt_heap_total_t *h, bool on)
{
    h->cur = 0;
    /* Off: a threshold no total reaches, so pending is never set. */
    h->threshold = on ? MT_HEAP_PEAK_MIN : UINT64_MAX;
    __atomic_store_n(&h->pending, 0, __ATOMIC_RELAXED);
    h->on = on;
}

bool mt_heap_total_claim(mt_heap_total_t *h)
{
    if (!h->pending)
        return false;
    /* Nothing lowered the total since it passed the threshold (every lowering event claims
     * first), so it is the high-water mark now. */
    h->threshold = mt_heap_total_next(h->cur);
    __atomic_store_n(&h->pending, 0, __ATOMIC_RELAXED);
    return true;
}

void mt_heap_total_child(mt_heap_total_t *h)
{
    if (!h->on)
        return;
    h->threshold = mt_heap_total_next(h->cur);
    __atomic_store_n(&h->pending, 0, __ATOMIC_RELAXED);
}

// SPDX-License-Identifier: MIT
// memtrace's own address ranges (see own_ranges.h): a fixed table under a spin lock. No
// allocation, no system call.
#include "base/own_ranges.h"

#include "base/lock_order.h"

#define MT_OWN_MAX 256

static mt_own_range_t mt_own[MT_OWN_MAX];
static size_t mt_own_count;

/* Changed from any thread that maps memory for memtrace: a spin lock, as a pthread mutex
 * could be held by a thread that a fork left behind. */
static int mt_own_lock;

static void mt_own_acquire(void)
{
    mt_lock_order_check(MT_LOCK_OWN);
    while (__atomic_exchange_n(&mt_own_lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&mt_own_lock, __ATOMIC_RELAXED))
            __builtin_ia32_pause();
    mt_lock_order_got(MT_LOCK_OWN);
}

static void mt_own_release(void)
{
    mt_lock_order_drop(MT_LOCK_OWN);
    __atomic_store_n(&mt_own_lock, 0, __ATOMIC_RELEASE);
}

void mt_own_add(uintptr_t begin, uintptr_t end)
{
    mt_own_acquire();
    size_t i;
    for (i = 0; i < mt_own_count; i++) {
        if (mt_own[i].end == begin) {
            mt_own[i].end = end;
            break;
        }
        if (mt_own[i].begin == end) {
            mt_own[i].begin = begin;
            break;
        }
    }
    if (i == mt_own_count && mt_own_count < MT_OWN_MAX)
        mt_own[mt_own_count++] = (mt_own_range_t){begin, end};
    mt_own_release();
}

void mt_own_remove(uintptr_t begin, uintptr_t end)
{
    mt_own_acquire();
    for (size_t i = 0; i < mt_own_count; i++) {
        mt_own_range_t *x = &mt_own[i];
        if (x->end <= begin || x->begin >= end)
            continue;
        if (x->begin < begin && x->end > end) { /* a hole in the middle: split */
            if (mt_own_count < MT_OWN_MAX)
                mt_own[mt_own_count++] = (mt_own_range_t){end, x->end};
            x->end = begin;
        } else if (x->begin < begin) {
            x->end = begin;
        } else if (x->end > end) {
            x->begin = end;
        } else {
            *x = mt_own[--mt_own_count];
            i--;
        }
    }
    mt_own_release();
}

const mt_own_range_t *mt_own_ranges(size_t *count)
{
    *count = mt_own_count;
    return mt_own;
}

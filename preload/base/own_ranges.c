// SPDX-License-Identifier: MIT
// Ranges that are never roots (see own_ranges.h): two fixed tables, each under a spin lock.
// No allocation, no system call.
#include "base/own_ranges.h"

#include "base/lock_order.h"

#define MT_OWN_MAX 256
#define MT_OWN_ALLOCATOR_MAX 1024 /* a foreign allocator maps its memory piece by piece */

typedef struct mt_range_set {
    mt_own_range_t *r;
    size_t count, cap;
    /* Changed from any thread that maps memory: a spin lock, as a pthread mutex could be
     * held by a thread that a fork left behind. */
    int lock;
} mt_range_set_t;

static mt_own_range_t mt_own_table[MT_OWN_MAX], mt_own_allocator_table[MT_OWN_ALLOCATOR_MAX];
static mt_range_set_t mt_own = {mt_own_table, 0, MT_OWN_MAX, 0};
static mt_range_set_t mt_own_allocator = {mt_own_allocator_table, 0, MT_OWN_ALLOCATOR_MAX, 0};

static void mt_spin_lock(int *lock)
{
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(lock, __ATOMIC_RELAXED))
            __builtin_ia32_pause();
}

static void mt_spin_unlock(int *lock)
{
    __atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

static void mt_own_acquire(mt_range_set_t *s)
{
    mt_lock_order_check(MT_LOCK_OWN);
    mt_spin_lock(&s->lock);
    mt_lock_order_got(MT_LOCK_OWN);
}

static void mt_own_release(mt_range_set_t *s)
{
    mt_lock_order_drop(MT_LOCK_OWN);
    mt_spin_unlock(&s->lock);
}

static void mt_range_add(mt_range_set_t *s, uintptr_t begin, uintptr_t end)
{
    mt_own_acquire(s);
    size_t i;
    for (i = 0; i < s->count; i++) {
        if (s->r[i].end == begin) {
            s->r[i].end = end;
            break;
        }
        if (s->r[i].begin == end) {
            s->r[i].begin = begin;
            break;
        }
    }
    if (i == s->count && s->count < s->cap)
        s->r[s->count++] = (mt_own_range_t){begin, end};
    mt_own_release(s);
}

static void mt_range_remove(mt_range_set_t *s, uintptr_t begin, uintptr_t end)
{
    mt_own_acquire(s);
    for (size_t i = 0; i < s->count; i++) {
        mt_own_range_t *x = &s->r[i];
        if (x->end <= begin || x->begin >= end)
            continue;
        if (x->begin < begin && x->end > end) { /* a hole in the middle: split */
            if (s->count < s->cap)
                s->r[s->count++] = (mt_own_range_t){end, x->end};
            x->end = begin;
        } else if (x->begin < begin) {
            x->end = begin;
        } else if (x->end > end) {
            x->begin = end;
        } else {
            *x = s->r[--s->count];
            i--;
        }
    }
    mt_own_release(s);
}

void mt_own_add(uintptr_t begin, uintptr_t end)
{
    mt_range_add(&mt_own, begin, end);
}

void mt_own_remove(uintptr_t begin, uintptr_t end)
{
    mt_range_remove(&mt_own, begin, end);
}

const mt_own_range_t *mt_own_ranges(size_t *count)
{
    *count = mt_own.count;
    return mt_own.r;
}

/* ---- the program's allocator's own mappings ---- */

uintptr_t mt_own_allocator_lo, mt_own_allocator_hi;
int mt_own_allocator_known;

/* Mappings made before the allocator's code was known: its start-up (jemalloc maps its
 * metadata in its constructor or first malloc, before memtrace's start). Kept with their
 * caller until mt_own_allocator_text sorts them. */
#define MT_OWN_EARLY_MAX 64
typedef struct mt_own_early_map {
    uintptr_t begin, end, caller;
} mt_own_early_map_t;
static mt_own_early_map_t mt_own_early[MT_OWN_EARLY_MAX];
static size_t mt_own_early_count;
/* Outside the lock order: mt_own_allocator_text takes a set's lock under it. */
static int mt_own_early_lock;

void mt_own_early_mapped(uintptr_t begin, uintptr_t end, uintptr_t caller)
{
    mt_spin_lock(&mt_own_early_lock);
    if (mt_own_early_count < MT_OWN_EARLY_MAX)
        mt_own_early[mt_own_early_count++] = (mt_own_early_map_t){begin, end, caller};
    mt_spin_unlock(&mt_own_early_lock);
}

void mt_own_allocator_text(uintptr_t lo, uintptr_t hi)
{
    mt_own_allocator_lo = lo;
    __atomic_store_n(&mt_own_allocator_hi, hi, __ATOMIC_RELEASE);
    mt_spin_lock(&mt_own_early_lock);
    for (size_t i = 0; i < mt_own_early_count; i++)
        if (mt_own_is_allocator_code(mt_own_early[i].caller))
            mt_own_allocator_mapped(mt_own_early[i].begin, mt_own_early[i].end);
    mt_own_early_count = 0;
    __atomic_store_n(&mt_own_allocator_known, 1, __ATOMIC_RELEASE);
    mt_spin_unlock(&mt_own_early_lock);
}

void mt_own_allocator_mapped(uintptr_t begin, uintptr_t end)
{
    mt_range_add(&mt_own_allocator, begin, end);
}

void mt_own_allocator_unmapped(uintptr_t begin, uintptr_t end)
{
    if (__atomic_load_n(&mt_own_allocator.count, __ATOMIC_RELAXED))
        mt_range_remove(&mt_own_allocator, begin, end);
}

const mt_own_range_t *mt_own_allocator_ranges(size_t *count)
{
    *count = mt_own_allocator.count;
    return mt_own_allocator.r;
}

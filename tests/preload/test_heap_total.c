// SPDX-License-Identifier: MIT
// Unit tests for the recorder's glibc heap total (preload/record/heap_total.c): when a new high is
// worth a peak sample (the 1 MiB floor, the 1% margin), that the sample is taken at the
// high-water mark itself, the saturating release, the disabled total and the forked child.
#include <check.h>

#include "check_main.h"
#include <pthread.h>
#include <stdlib.h>

#include "record/heap_total.h"

#define MIB (1ull << 20)

/* What the recorder does before an event that lowers the total: claims a pending peak. */
static int lower(mt_heap_total_t *h, uint64_t n)
{
    int sampled = mt_heap_total_pending(h) && mt_heap_total_claim(h);
    mt_heap_total_sub(h, n);
    return sampled;
}

START_TEST(floor_and_margin)
{
    mt_heap_total_t h;
    mt_heap_total_init(&h, true);
    mt_heap_total_add(&h, MIB - 1);
    ck_assert(!mt_heap_total_pending(&h)); /* below the floor: never */
    ck_assert(!lower(&h, 100));
    mt_heap_total_add(&h, 101);
    ck_assert(mt_heap_total_pending(&h)); /* exactly 1 MiB */
    ck_assert(lower(&h, 1000));           /* sampled at 1 MiB, before the release */
    ck_assert(!mt_heap_total_pending(&h));
    ck_assert(!lower(&h, 1000)); /* once per high */
    /* back up to 1 MiB + 1%: not yet a new high worth a sample */
    mt_heap_total_add(&h, 2000 + MIB / 100);
    ck_assert(!mt_heap_total_pending(&h));
    mt_heap_total_add(&h, 1);
    ck_assert(mt_heap_total_pending(&h));
    ck_assert(mt_heap_total_claim(&h));
    ck_assert_uint_eq(h.threshold, h.cur + h.cur / 100 + 1);
}
END_TEST

START_TEST(release_saturates)
{
    mt_heap_total_t h;
    mt_heap_total_init(&h, true);
    mt_heap_total_add(&h, 100);
    mt_heap_total_sub(&h, 1000); /* a block from before recording started */
    ck_assert_uint_eq(h.cur, 0);
    mt_heap_total_add(&h, 50);
    ck_assert_uint_eq(h.cur, 50);
}
END_TEST

START_TEST(off_never_pending)
{
    mt_heap_total_t h;
    mt_heap_total_init(&h, false);
    mt_heap_total_add(&h, 1ull << 40);
    ck_assert(!mt_heap_total_pending(&h));
    ck_assert(!mt_heap_total_claim(&h));
    mt_heap_total_child(&h);
    ck_assert(!mt_heap_total_pending(&h));
}
END_TEST

START_TEST(child_counts_from_inherited)
{
    mt_heap_total_t h;
    mt_heap_total_init(&h, true);
    mt_heap_total_add(&h, 100 * MIB);
    ck_assert(mt_heap_total_pending(&h));
    mt_heap_total_child(&h); /* the parent's pending peak is not the child's */
    ck_assert(!mt_heap_total_pending(&h));
    ck_assert_uint_eq(h.cur, 100 * MIB);
    mt_heap_total_add(&h, MIB / 2);
    ck_assert(!mt_heap_total_pending(&h));
    mt_heap_total_add(&h, MIB);
    ck_assert(mt_heap_total_pending(&h));
}
END_TEST

/* A random walk of allocations and releases against the rule as the docs state it: a sample
 * is due at the first release after the total reached 1 MiB and 1% more than the last sampled
 * high; it is taken at the top of that rise (nothing was released since), and the count stays
 * logarithmic in the heap's growth, not proportional to the events. */
START_TEST(samples_at_highs_random)
{
    mt_heap_total_t h;
    mt_heap_total_init(&h, true);
    srand(12345);
    static uint64_t live[1 << 16];
    size_t n = 0, samples = 0;
    uint64_t cur = 0, rise_top = 0, last = 0;
    int due = 0;
    for (int i = 0; i < 2000000; i++) {
        /* a slow upward drift with noise, up to some hundreds of MiB */
        int grow = n == 0 || (n < (1 << 16) && rand() % 1000 < 505);
        if (grow) {
            uint64_t size = 16 + (uint64_t)(rand() % 4096) * (rand() % 8 == 0 ? 64 : 1);
            live[n++] = size;
            mt_heap_total_add(&h, size);
            cur += size;
            rise_top = cur;
            if (cur >= MIB && cur > last + last / 100)
                due = 1;
            continue;
        }
        size_t k = (size_t)rand() % n;
        uint64_t size = live[k];
        live[k] = live[--n];
        ck_assert_uint_eq(h.cur, cur);
        int sampled = lower(&h, size);
        ck_assert_int_eq(sampled, due);
        if (sampled) {
            ck_assert_uint_eq(cur, rise_top); /* the high-water mark itself */
            last = cur;
            samples++;
            due = 0;
        }
        cur -= size;
    }
    ck_assert_uint_gt(samples, 10);
    ck_assert_uint_lt(samples, 1000);
}
END_TEST

/* Threads change the total at once, without a lock: not one byte is lost, and a peak that
 * was reached is claimed once, by one of the lowering threads. */
#define TT_THREADS 4
#define TT_OPS 200000

static mt_heap_total_t tt_h;
static int tt_claims;

static void *tt_run(void *arg)
{
    uint64_t r = (uintptr_t)arg * 0x9e3779b97f4a7c15ull | 1;
    for (int i = 0; i < TT_OPS; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        uint64_t n = 16 + r % 4096;
        mt_heap_total_add(&tt_h, n);
        if (mt_heap_total_pending(&tt_h) && mt_heap_total_claim(&tt_h))
            __atomic_add_fetch(&tt_claims, 1, __ATOMIC_RELAXED);
        mt_heap_total_sub(&tt_h, n);
    }
    return NULL;
}

START_TEST(threads_lose_nothing)
{
    mt_heap_total_init(&tt_h, true);
    mt_heap_total_add(&tt_h, MIB - 1); /* the threads' blocks cross the floor, again and again */
    tt_claims = 0;
    pthread_t t[TT_THREADS];
    for (uintptr_t k = 0; k < TT_THREADS; k++)
        ck_assert_int_eq(pthread_create(&t[k], NULL, tt_run, (void *)(k + 1)), 0);
    for (int k = 0; k < TT_THREADS; k++)
        pthread_join(t[k], NULL);
    ck_assert_uint_eq(tt_h.cur, MIB - 1);
    ck_assert_int_ge(tt_claims, 1);
    ck_assert_int_eq(tt_h.pending, 0);
    /* every claim moved the threshold to 1% above a total of at least the floor */
    ck_assert_uint_ge(tt_h.threshold, MIB + MIB / 100 + 1);
}
END_TEST

MT_SUITE(.name = "heap_total", .tests = MT_TESTS(floor_and_margin, release_saturates,
                                                 off_never_pending, child_counts_from_inherited,
                                                 samples_at_highs_random, threads_lose_nothing));

// SPDX-License-Identifier: MIT
// Unit tests of the summary report's figures (report_summary.c) on a crafted log:
// temporary allocations counted per thread, and the blocks' lifetimes.

#include "check_main.h"
#include "crafted_log.h"
#include "histograms.h"

START_TEST(temporary_per_thread)
{
    mt_crafted_begin();
    /* thread 1 allocates A; thread 2 allocates B and C, frees B and C; then thread 1 frees A:
     * A is temporary (thread 1's next event is its free, whatever other threads did), B is
     * not (C came between), C is not (the free of B came between). Times only go forward. */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 10, 100, 0xA000, 1);
    mt_lb_thread(&b, 2);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 11, 3000, 0xB000, 2);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 12, 0, 0xC000, 2);
    mt_lb_free_(&b, MT_TAG_FREE, 13, 0xB000); /* <1ms */
    mt_lb_free_(&b, MT_TAG_FREE, 14, 0xC000); /* <1ms */
    mt_lb_thread(&b, 1);
    mt_lb_free_(&b, MT_TAG_FREE, 20010, 0xA000); /* lived 20,000 us: <100ms */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 20020, 8, 0xD000, 3);
    mt_lb_free_(&b, MT_TAG_REALLOC_RELEASE, 20021, 0xD000);
    mt_lb_alloc(&b, MT_ALLOC_REALLOC, 20022, 16, 0xE000, 3);
    mt_lb_free_(&b, MT_TAG_FREE, 2000000, 0xE000);           /* >=1s */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2020030, 1, 0xF000, 3); /* never freed */
    mt_lb_exit(&b, 3000000, MT_EXIT_NORMAL, 0);
    mt_crafted_load();
    const mt_replay_t *r = &a->replay;
    ck_assert_uint_eq(r->temporary_allocations, 2);
    ck_assert_uint_eq(mt_replay_node(r, 1).temporary, 1);
    ck_assert_uint_eq(mt_replay_node(r, 2).temporary, 0);
    ck_assert_uint_eq(mt_replay_node(r, 3).temporary, 1);
    /* lifetimes: B, C, D (realloc'ed after 1 us) <1ms; A <100ms; E >=1s; F never freed */
    mt_histograms_t h;
    mt_histograms_build(&h, r);
    ck_assert_uint_eq(h.lifetimes[0], 3);
    ck_assert_uint_eq(h.lifetimes[1], 0);
    ck_assert_uint_eq(h.lifetimes[2], 1);
    ck_assert_uint_eq(h.lifetimes[3], 0);
    ck_assert_uint_eq(h.lifetimes[4], 1);
    ck_assert_uint_eq(h.never_freed, 1);
    /* sizes: 0 -> [0]; 1 -> [1]; 8 -> [4] (8..15); 16 -> [5]; 100 -> [7] (64..127);
     * 3000 -> [12] (2048..4095) */
    ck_assert_uint_eq(h.sizes[0], 1);
    ck_assert_uint_eq(h.sizes[1], 1);
    ck_assert_uint_eq(h.sizes[4], 1);
    ck_assert_uint_eq(h.sizes[5], 1);
    ck_assert_uint_eq(h.sizes[7], 1);
    ck_assert_uint_eq(h.sizes[12], 1);
    ck_assert_uint_eq(mt_replay_size_bucket(4095), 12);
    ck_assert_uint_eq(mt_replay_size_bucket(4096), 13);
    ck_assert_uint_eq(mt_replay_size_bucket(UINT64_MAX), 64);
}
END_TEST

/* Each bucket's bounds: a block freed 999 us after its allocation is under 1 ms, one freed
 * after 1,000 us is not (the replay counts digits, the report folds them). */
START_TEST(lifetime_bounds)
{
    static const struct {
        uint64_t lived_us;
        unsigned bucket;
    } cases[] = {{0, 0},     {999, 0},    {1000, 1},   {9999, 1},    {10000, 2},
                 {99999, 2}, {100000, 3}, {999999, 3}, {1000000, 4}, {UINT64_C(86400000000), 4}};
    const size_t n = sizeof cases / sizeof cases[0];
    uint64_t expect[MT_LIFETIME_BUCKETS] = {0};
    mt_crafted_begin();
    uint64_t t = 10;
    for (size_t i = 0; i < n; i++) {
        mt_lb_alloc(&b, MT_ALLOC_MALLOC, t, 16, 0xA000, 1);
        t += cases[i].lived_us;
        mt_lb_free_(&b, MT_TAG_FREE, t, 0xA000);
        expect[cases[i].bucket]++;
    }
    mt_lb_exit(&b, t + 1, MT_EXIT_NORMAL, 0);
    mt_crafted_load();
    mt_histograms_t h;
    mt_histograms_build(&h, &a->replay);
    for (unsigned i = 0; i < MT_LIFETIME_BUCKETS; i++)
        ck_assert_uint_eq(h.lifetimes[i], expect[i]);
    ck_assert_uint_eq(h.never_freed, 0);
    ck_assert_uint_eq(h.sizes[5], n);
}
END_TEST

MT_SUITE(.name = "report_summary", .tcase = "peak", .teardown = mt_crafted_teardown,
         .tests = MT_TESTS(temporary_per_thread, lifetime_bounds));

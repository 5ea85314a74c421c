// SPDX-License-Identifier: MIT
// Unit tests of the timeline (render_svg_timeline.c) on crafted logs: its series bounded
// whatever the number of events, ending at the last value, and its text.
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "crafted_log.h"
#include "render_svg_timeline.h"

START_TEST(timeline_bounded)
{
    mt_crafted_begin();
    /* 200,000 events over 1000 s with one spike: the series stays bounded and keeps it */
    uint64_t t = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t size = i == 77777 ? 5000000 : 100;
        mt_lb_alloc(&b, MT_ALLOC_MALLOC, t += 5000, size, 0x1000, 1);
        mt_lb_free_(&b, MT_TAG_FREE, t += 5000, 0x1000);
    }
    mt_lb_exit(&b, t + 1, MT_EXIT_NORMAL, 0);
    mt_crafted_load();
    const mt_replay_t *r = &a->replay;
    ck_assert_uint_le(r->nseries, MT_REPLAY_SERIES_MAX);
    ck_assert_uint_eq(r->peak_heap_bytes, 5000000);
    static mt_timeline_point_t pts[MT_TIMELINE_MAX_POINTS];
    size_t n = mt_timeline_series(r, MT_TL_HEAP, pts, MT_TIMELINE_MAX_POINTS);
    ck_assert_uint_le(n, MT_TIMELINE_MAX_POINTS);
    ck_assert_uint_gt(n, MT_TIMELINE_MAX_POINTS / 4);
    uint64_t max = 0, spike_t = 0;
    for (size_t i = 0; i < n; i++) {
        if (i)
            ck_assert_uint_gt(pts[i].time_us, pts[i - 1].time_us);
        if (pts[i].value > max) {
            max = pts[i].value;
            spike_t = pts[i].time_us;
        }
    }
    ck_assert_uint_eq(max, 5000000);
    ck_assert_uint_le(spike_t, r->peak_time_us);
    /* a tiny bound still keeps the maximum */
    n = mt_timeline_series(r, MT_TL_HEAP, pts, 7);
    ck_assert_uint_le(n, 7);
    max = 0;
    for (size_t i = 0; i < n; i++)
        max = pts[i].value > max ? pts[i].value : max;
    ck_assert_uint_eq(max, 5000000);

    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert_int_eq(mt_timeline_svg(a, f), 0);
    fclose(f);
    ck_assert_uint_lt(len, 200000); /* bounded whatever the log */
    ck_assert_ptr_nonnull(strstr(out, "peak 4.77 MiB"));
    free(out);
}
END_TEST

/* The heap line ends at what the last event left, also when the run ends at the start of the
 * last bucket (times in 1 ms ticks: a short run's frees and its end share the tick). */
START_TEST(timeline_ends_at_the_last_value)
{
    mt_crafted_begin();
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1000, 90000, 0x10000, 1);
    mt_lb_free_(&b, MT_TAG_FREE, 1000, 0x10000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2000, 4096, 0x20000, 1);
    mt_lb_free_(&b, MT_TAG_FREE, 2000, 0x20000);
    mt_lb_exit(&b, 2000, MT_EXIT_NORMAL, 0);
    mt_crafted_load();
    mt_timeline_point_t pts[16];
    size_t n = mt_timeline_series(&a->replay, MT_TL_HEAP, pts, 16);
    ck_assert_uint_ge(n, 2);
    ck_assert_uint_eq(pts[n - 2].value, 4096); /* the last bucket's maximum */
    ck_assert_uint_eq(pts[n - 1].time_us, 2000);
    ck_assert_uint_eq(pts[n - 1].value, 0);
}
END_TEST

/* A peak after the last event: the text chart must place it without an out-of-range
 * conversion (UBSan in the sanitizer build; found by the fuzzer when version 2 logs restarted
 * the clock in every chunk; version 3's clock never goes back, so the state is made here). */
START_TEST(timeline_text_peak_after_last_event)
{
    mt_crafted_begin();
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 4000000000000000ull, 100, 0x1000, 1);
    mt_lb_flush(&b);
    mt_lb_free_(&b, MT_TAG_FREE, 10, 0x1000);
    mt_crafted_load();
    a->replay.last_time_us = 10;
    ck_assert_uint_gt(a->replay.peak_time_us, a->replay.last_time_us);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert_int_eq(mt_timeline_text(a, f, 0, 40, 4), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(out, "---^\n")); /* past the end: the last column */
    free(out);
}
END_TEST

MT_SUITE(.name = "render_svg_timeline", .tcase = "peak", .teardown = mt_crafted_teardown,
         .tests = MT_TESTS(timeline_bounded, timeline_ends_at_the_last_value,
                           timeline_text_peak_after_last_event));

// SPDX-License-Identifier: MIT
// Unit tests for the peak, temporary-allocation, timeline and fragmentation figures, on logs
// crafted with log_builder so every expected number is known exactly. Stacks are bare
// addresses (no modules), so sites are told apart by their innermost address.
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "log_builder.h"
#include "render_svg_timeline.h"
#include "render_fragmentation.h"
#include "render_peak.h"
#include "symbolizer.h"

static mt_lb_t b;
static mt_analysis_t *a;
static mt_symbolizer_t *sym;

static void lb_start(void)
{
    mt_lb_init(&b, 100, 0);
    mt_lb_thread(&b, 1);
    /* three sites: node 1 (0x1000), node 2 (0x2000), node 3 (0x3000) */
    mt_lb_node(&b, 1, 0, 0x1000);
    mt_lb_node(&b, 2, 0, 0x2000);
    mt_lb_node(&b, 3, 0, 0x3000);
}

static void lb_load(void)
{
    char err[256];
    mt_lb_flush(&b);
    ck_assert_int_eq(mt_analysis_load_mem(&a, b.file, b.len, "test.mtr", err, sizeof err), 0);
    ck_assert_int_eq(mt_symbolizer_new(&sym, a->modules), 0);
}

static void teardown(void)
{
    if (sym)
        mt_symbolizer_free(sym);
    mt_analysis_free(a);
    mt_lb_free(&b);
    sym = NULL;
    a = NULL;
}

START_TEST(peak_sites_exact)
{
    lb_start();
    uint64_t t = 10;
    /* node 3 churns 100 x 1000 bytes, one at a time: 100,000 in total, the most of any */
    for (int i = 0; i < 100; i++) {
        mt_lb_alloc(&b, MT_ALLOC_MALLOC, t++, 1000, 0x900000, 3);
        mt_lb_free_(&b, MT_TAG_FREE, t++, 0x900000);
    }
    /* node 1 holds 3 x 1000, node 2 holds 2 x 500: peak 4000 at the 5th alloc */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1000, 1000, 0x10000, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1001, 500, 0x20000, 2);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1002, 1000, 0x11000, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1003, 500, 0x21000, 2);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1004, 1000, 0x12000, 1);
    mt_lb_free_(&b, MT_TAG_FREE, 1005, 0x10000);
    mt_lb_free_(&b, MT_TAG_FREE, 1006, 0x11000);
    /* below the peak afterwards: node 2 grows to 1500 but the total stays 3500 */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1007, 500, 0x22000, 2);
    mt_lb_exit(&b, 2000, MT_EXIT_NORMAL, 0);
    lb_load();
    mt_report_peak_t rep;
    ck_assert_int_eq(mt_report_peak_build(&rep, a, sym, 10), 0);
    ck_assert_uint_eq(a->replay.peak_heap_bytes, 4000);
    ck_assert_uint_eq(a->replay.peak_time_us, 1004);
    ck_assert_uint_eq(rep.n, 2); /* node 3 held nothing at the peak: not listed */
    const mt_site_t *s0 = &rep.sites.v[rep.idx[0]], *s1 = &rep.sites.v[rep.idx[1]];
    ck_assert_uint_eq(s0->peak_bytes, 3000);
    ck_assert_uint_eq(s0->peak_blocks, 3);
    ck_assert_uint_eq(s0->frames[0].address, 0x1000);
    ck_assert_uint_eq(s1->peak_bytes, 1000);
    ck_assert_uint_eq(s1->peak_blocks, 2);
    ck_assert_uint_eq(s1->frames[0].address, 0x2000);
    mt_report_peak_destroy(&rep);

    /* --top 1: the rest is summed, not dropped */
    ck_assert_int_eq(mt_report_peak_build(&rep, a, sym, 1), 0);
    ck_assert_uint_eq(rep.n, 1);
    ck_assert_uint_eq(rep.other_sites, 1);
    ck_assert_uint_eq(rep.other_bytes, 1000);
    ck_assert_uint_eq(rep.other_blocks, 2);

    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert_int_eq(mt_render_peak_json(&rep, f, 0), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(out, "\"peak_heap_bytes\":4000,"));
    ck_assert_ptr_nonnull(strstr(out, "\"sites\":[{\"bytes\":3000,\"blocks\":3,\"stack\":["));
    ck_assert_ptr_nonnull(strstr(out, "\"peak_rss_bytes\":null"));
    free(out);
    mt_report_peak_destroy(&rep);
}
END_TEST

START_TEST(temporary_per_thread)
{
    lb_start();
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
    lb_load();
    const mt_replay_t *r = &a->replay;
    ck_assert_uint_eq(r->temporary_allocations, 2);
    ck_assert_uint_eq(mt_replay_node(r, 1).temporary, 1);
    ck_assert_uint_eq(mt_replay_node(r, 2).temporary, 0);
    ck_assert_uint_eq(mt_replay_node(r, 3).temporary, 1);
    /* lifetimes: B, C, D (realloc'ed after 1 us) <1ms; A <100ms; E >=1s; F never freed */
    ck_assert_uint_eq(r->lifetimes[0], 3);
    ck_assert_uint_eq(r->lifetimes[1], 0);
    ck_assert_uint_eq(r->lifetimes[2], 1);
    ck_assert_uint_eq(r->lifetimes[3], 0);
    ck_assert_uint_eq(r->lifetimes[4], 1);
    ck_assert_uint_eq(r->heap_blocks, 1);
    /* sizes: 0 -> [0]; 1 -> [1]; 8 -> [4] (8..15); 16 -> [5]; 100 -> [7] (64..127);
     * 3000 -> [12] (2048..4095) */
    ck_assert_uint_eq(r->sizes[0], 1);
    ck_assert_uint_eq(r->sizes[1], 1);
    ck_assert_uint_eq(r->sizes[4], 1);
    ck_assert_uint_eq(r->sizes[5], 1);
    ck_assert_uint_eq(r->sizes[7], 1);
    ck_assert_uint_eq(r->sizes[12], 1);
    ck_assert_uint_eq(mt_replay_size_bucket(4095), 12);
    ck_assert_uint_eq(mt_replay_size_bucket(4096), 13);
    ck_assert_uint_eq(mt_replay_size_bucket(UINT64_MAX), 64);
}
END_TEST

START_TEST(timeline_bounded)
{
    lb_start();
    /* 200,000 events over 1000 s with one spike: the series stays bounded and keeps it */
    uint64_t t = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t size = i == 77777 ? 5000000 : 100;
        mt_lb_alloc(&b, MT_ALLOC_MALLOC, t += 5000, size, 0x1000, 1);
        mt_lb_free_(&b, MT_TAG_FREE, t += 5000, 0x1000);
    }
    mt_lb_exit(&b, t + 1, MT_EXIT_NORMAL, 0);
    lb_load();
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
    lb_start();
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1000, 90000, 0x10000, 1);
    mt_lb_free_(&b, MT_TAG_FREE, 1000, 0x10000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2000, 4096, 0x20000, 1);
    mt_lb_free_(&b, MT_TAG_FREE, 2000, 0x20000);
    mt_lb_exit(&b, 2000, MT_EXIT_NORMAL, 0);
    lb_load();
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
    lb_start();
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 4000000000000000ull, 100, 0x1000, 1);
    mt_lb_flush(&b);
    mt_lb_free_(&b, MT_TAG_FREE, 10, 0x1000);
    lb_load();
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

START_TEST(fragmentation_holes)
{
    ck_assert_uint_eq(mt_frag_chunk_size(0), 32);
    ck_assert_uint_eq(mt_frag_chunk_size(24), 32);
    ck_assert_uint_eq(mt_frag_chunk_size(25), 48);
    ck_assert_uint_eq(mt_frag_chunk_size(1000), 1008);
    lb_start();
    /* three 1000-byte blocks 1008 bytes apart (adjacent chunks), then one 3024 bytes further:
     * exactly one hole of 2016 bytes */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1, 1000, 0x10010, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2, 1000, 0x10010 + 1008, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 3, 1000, 0x10010 + 2016, 2);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 4, 1000, 0x10010 + 5040, 2);
    mt_lb_exit(&b, 5, MT_EXIT_NORMAL, 0);
    lb_load();
    mt_report_fragmentation_t rep;
    ck_assert_int_eq(mt_report_fragmentation_build(&rep, a, sym, 10), 0);
    ck_assert_uint_eq(rep.nholes, 1);
    ck_assert_uint_eq(rep.largest_hole, 2016);
    ck_assert_uint_eq(rep.holes[mt_replay_size_bucket(2016)], 1);
    ck_assert_uint_eq(rep.requested_bytes, 4000);
    ck_assert_uint_eq(rep.usable_bytes, 4000);
    ck_assert_uint_eq(rep.at_exit.live_bytes, 4000);
    ck_assert_int_eq(rep.at_exit.sampled, 0);
    mt_report_fragmentation_destroy(&rep);
}
END_TEST

/* At the peak: the sample taken with the heap at its peak (the recorder's, at the first free
 * after the high), not the timer sample nearer in time; none when all are more than 10% off. */
START_TEST(fragmentation_at_peak_sample)
{
    lb_start();
    mt_sample_t timer = {.arena = 8192, .fordblks = 100}, peak = {.arena = 16384, .fordblks = 777};
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 10, 4000, 0x10010, 1);
    mt_lb_sample(&b, 1990, &timer); /* 4000 live: far from the peak */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2000, 6000, 0x20010, 2);
    mt_lb_sample(&b, 2400, &peak); /* 10000 live: the peak */
    mt_lb_free_(&b, MT_TAG_FREE, 2400, 0x20010);
    mt_lb_sample(&b, 2500, &timer);
    mt_lb_exit(&b, 3000, MT_EXIT_NORMAL, 0);
    lb_load();
    mt_report_fragmentation_t rep;
    ck_assert_int_eq(mt_report_fragmentation_build(&rep, a, sym, 10), 0);
    ck_assert_uint_eq(rep.at_peak.live_bytes, 10000);
    ck_assert_int_eq(rep.at_peak.sampled, 1);
    ck_assert_uint_eq(rep.at_peak.sample_time_us, 2400);
    ck_assert_uint_eq(rep.at_peak.free_held_bytes, 777);
    ck_assert_uint_eq(rep.at_peak.footprint_bytes, 16384);
    mt_report_fragmentation_destroy(&rep);
    teardown();

    lb_start(); /* the same without the peak sample: nothing within 10% */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 10, 4000, 0x10010, 1);
    mt_lb_sample(&b, 1990, &timer);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2000, 6000, 0x20010, 2);
    mt_lb_free_(&b, MT_TAG_FREE, 2400, 0x20010);
    mt_lb_sample(&b, 2500, &timer);
    mt_lb_exit(&b, 3000, MT_EXIT_NORMAL, 0);
    lb_load();
    ck_assert_int_eq(mt_report_fragmentation_build(&rep, a, sym, 10), 0);
    ck_assert_int_eq(rep.at_peak.sampled, 0);
    ck_assert_int_eq(rep.at_exit.sampled, 1);
    mt_report_fragmentation_destroy(&rep);
}
END_TEST

/* A Python heap: small PyObject/PyMem blocks (1..512 bytes) live in pymalloc's arenas, not in
 * glibc's heap, and the fragmentation report says how much of the live bytes they are. */
START_TEST(fragmentation_counts_arena_objects_apart)
{
    lb_start();
    mt_lb_alloc(&b, MT_ALLOC_PYOBJECT, 1, 100, 0x10000, 1); /* arena */
    mt_lb_alloc(&b, MT_ALLOC_PYMEM, 2, 512, 0x10100, 1);    /* arena: the largest small size */
    mt_lb_alloc(&b, MT_ALLOC_PYOBJECT, 3, 513, 0x20000, 2); /* malloc */
    mt_lb_alloc(&b, MT_ALLOC_PYOBJECT, 4, 0, 0x30000, 2);   /* malloc: pymalloc refuses 0 */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 5, 100, 0x40000, 3);
    mt_lb_free_(&b, MT_TAG_FREE, 6, 0x10000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 7, 50, 0x50000, 3);
    mt_lb_exit(&b, 8, MT_EXIT_NORMAL, 0);
    lb_load();
    ck_assert_uint_eq(a->replay.peak_heap_bytes, 100 + 512 + 513 + 100);
    ck_assert_uint_eq(a->replay.peak_arena_obj_bytes, 612);
    ck_assert_uint_eq(a->replay.arena_obj_bytes, 512);
    mt_report_fragmentation_t rep;
    ck_assert_int_eq(mt_report_fragmentation_build(&rep, a, sym, 10), 0);
    ck_assert_uint_eq(rep.at_peak.arena_obj_bytes, 612);
    ck_assert_uint_eq(rep.at_exit.arena_obj_bytes, 512);
    ck_assert_uint_eq(rep.at_exit.live_bytes, 512 + 513 + 100 + 50);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert_int_eq(mt_render_fragmentation_json(&rep, f, 0), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(out, "\"pymalloc_object_bytes\":612"));
    free(out);
    f = open_memstream(&out, &len);
    ck_assert_int_eq(mt_render_fragmentation_text(&rep, f, 0, 4), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(out, "(612 B of the live bytes are small Python objects"));
    free(out);
    mt_report_fragmentation_destroy(&rep);
}
END_TEST

/* Two trace nodes whose stacks read the same once the interpreter's frames are hidden (one
 * Python line reached through two C paths) pin the heap as one site, not two equal rows. */
START_TEST(fragmentation_pinning_merges_equal_stacks)
{
    static const uint64_t segs[1][3] = {{0, 0x100000, 5}};
    const uint64_t interp = 0x400000, p1 = 0x100010 + 60016, p2 = p1 + 80 + 2000;
    mt_lb_init(&b, 100, 0);
    mt_lb_module(&b, 1, interp, "/nonexistent/python3.11", "", 0, 1, segs);
    mt_lb_py_interp(&b, 3, 11, MT_PY_FRAMES, interp + 0x1000, interp + 0x9000);
    mt_lb_py_code(&b, 1, 7, "make_record", "app.py");
    mt_lb_py_location(&b, 1, 1, 8);
    mt_lb_thread(&b, 1);
    mt_lb_node(&b, 1, 0, interp + 0x500);
    mt_lb_node(&b, 2, 1, MT_PY_IP_BIT | 1);
    mt_lb_node(&b, 3, 2, interp + 0x2000); /* two C paths from the same line */
    mt_lb_node(&b, 4, 2, interp + 0x3000);
    mt_lb_node(&b, 5, 0, interp + 0x600);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1, 60000, 0x100010, 5);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2, 64, p1, 3);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 3, 64, p2, 4);
    mt_lb_free_(&b, MT_TAG_FREE, 4, 0x100010);
    mt_lb_exit(&b, 5, MT_EXIT_NORMAL, 0);
    lb_load();
    mt_report_fragmentation_t rep;
    ck_assert_int_eq(mt_report_fragmentation_build(&rep, a, sym, 10), 0);
    ck_assert_uint_eq(rep.nholes, 2);
    ck_assert_uint_eq(rep.npinning, 1);
    ck_assert_uint_eq(rep.pinned[0], 60016 + 2000);
    ck_assert_uint_eq(rep.pinning[0].leaked_blocks, 2);
    ck_assert_uint_eq(rep.pinning[0].leaked_bytes, 128);
    ck_assert_uint_eq(rep.pinning[0].nframes, 1);
    ck_assert_str_eq(rep.pinning[0].frames[0].function, "make_record");
    mt_report_fragmentation_destroy(&rep);
}
END_TEST

static Suite *reports_suite(void)
{
    Suite *s = suite_create("reports");
    TCase *tc = tcase_create("peak");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, peak_sites_exact);
    tcase_add_test(tc, temporary_per_thread);
    tcase_add_test(tc, timeline_bounded);
    tcase_add_test(tc, timeline_text_peak_after_last_event);
    tcase_add_test(tc, timeline_ends_at_the_last_value);
    tcase_add_test(tc, fragmentation_holes);
    tcase_add_test(tc, fragmentation_at_peak_sample);
    tcase_add_test(tc, fragmentation_counts_arena_objects_apart);
    tcase_add_test(tc, fragmentation_pinning_merges_equal_stacks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reports_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

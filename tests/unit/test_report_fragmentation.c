// SPDX-License-Identifier: MIT
// Unit tests of the fragmentation report (report_fragmentation.c) on crafted logs: holes
// between live blocks, the allocator sample taken at the peak, pymalloc arena objects
// counted apart, pinning sites merged by stack.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "crafted_log.h"
#include "render_fragmentation.h"

START_TEST(fragmentation_holes)
{
    ck_assert_uint_eq(mt_frag_chunk_size(0), 32);
    ck_assert_uint_eq(mt_frag_chunk_size(24), 32);
    ck_assert_uint_eq(mt_frag_chunk_size(25), 48);
    ck_assert_uint_eq(mt_frag_chunk_size(1000), 1008);
    mt_crafted_begin();
    /* three 1000-byte blocks 1008 bytes apart (adjacent chunks), then one 3024 bytes further:
     * exactly one hole of 2016 bytes */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1, 1000, 0x10010, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2, 1000, 0x10010 + 1008, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 3, 1000, 0x10010 + 2016, 2);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 4, 1000, 0x10010 + 5040, 2);
    mt_lb_exit(&b, 5, MT_EXIT_NORMAL, 0);
    mt_crafted_load();
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

/* 4000 bytes live, 6000 more from 2000 to 2400 us (the peak): timer samples at 1990 and 2500,
 * and with with_peak the recorder's at 2400, the heap at its peak. Loaded. */
static void peak_sample_log(int with_peak)
{
    mt_sample_t timer = {.arena = 8192, .fordblks = 100}, peak = {.arena = 16384, .fordblks = 777};
    mt_crafted_begin();
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 10, 4000, 0x10010, 1);
    mt_lb_sample(&b, 1990, &timer); /* 4000 live: far from the peak */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2000, 6000, 0x20010, 2);
    if (with_peak)
        mt_lb_sample(&b, 2400, &peak); /* 10000 live: the peak */
    mt_lb_free_(&b, MT_TAG_FREE, 2400, 0x20010);
    mt_lb_sample(&b, 2500, &timer);
    mt_lb_exit(&b, 3000, MT_EXIT_NORMAL, 0);
    mt_crafted_load();
}

/* At the peak: the sample taken with the heap at its peak (the recorder's, at the first free
 * after the high), not the timer sample nearer in time; none when all are more than 10% off. */
START_TEST(fragmentation_at_peak_sample)
{
    peak_sample_log(1);
    mt_report_fragmentation_t rep;
    ck_assert_int_eq(mt_report_fragmentation_build(&rep, a, sym, 10), 0);
    ck_assert_uint_eq(rep.at_peak.live_bytes, 10000);
    ck_assert_int_eq(rep.at_peak.sampled, 1);
    ck_assert_uint_eq(rep.at_peak.sample_time_us, 2400);
    ck_assert_uint_eq(rep.at_peak.free_held_bytes, 777);
    ck_assert_uint_eq(rep.at_peak.footprint_bytes, 16384);
    mt_report_fragmentation_destroy(&rep);
    mt_crafted_teardown();

    peak_sample_log(0); /* the same without the peak sample: nothing within 10% */
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
    mt_crafted_begin();
    mt_lb_alloc(&b, MT_ALLOC_PYOBJECT, 1, 100, 0x10000, 1); /* arena */
    mt_lb_alloc(&b, MT_ALLOC_PYMEM, 2, 512, 0x10100, 1);    /* arena: the largest small size */
    mt_lb_alloc(&b, MT_ALLOC_PYOBJECT, 3, 513, 0x20000, 2); /* malloc */
    mt_lb_alloc(&b, MT_ALLOC_PYOBJECT, 4, 0, 0x30000, 2);   /* malloc: pymalloc refuses 0 */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 5, 100, 0x40000, 3);
    mt_lb_free_(&b, MT_TAG_FREE, 6, 0x10000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 7, 50, 0x50000, 3);
    mt_lb_exit(&b, 8, MT_EXIT_NORMAL, 0);
    mt_crafted_load();
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
    mt_crafted_load();
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

MT_SUITE(.name = "report_fragmentation", .tcase = "peak", .teardown = mt_crafted_teardown,
         .tests = MT_TESTS(fragmentation_holes, fragmentation_at_peak_sample,
                           fragmentation_counts_arena_objects_apart,
                           fragmentation_pinning_merges_equal_stacks));

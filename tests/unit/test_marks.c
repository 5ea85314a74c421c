// SPDX-License-Identifier: MIT
// Unit tests of custom blocks (memtrace.h, kind CUSTOM, CUSTOM_FREE) and marks (NOTICE code
// MARK, marks.c) through whole crafted logs: a custom block at its slab's own address stays
// apart from the slab, and marks are kept in order, found by name, and are no notices.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "check_main.h"
#include "log_builder.h"
#include "marks.h"

static mt_analysis_t *load(mt_lb_t *b)
{
    char path[64], err[256];
    snprintf(path, sizeof path, "/tmp/mt-test-marks-%d.mtr", (int)getpid());
    mt_lb_write(b, path);
    mt_lb_free(b);
    mt_analysis_t *a;
    ck_assert_int_eq(mt_analysis_load(&a, path, err, sizeof err), 0);
    unlink(path);
    return a;
}

START_TEST(custom_block_at_its_slabs_address)
{
    mt_lb_t b;
    mt_lb_init(&b, 100, 0);
    mt_lb_thread(&b, 1);
    mt_lb_node(&b, 1, 0, 0x1000);
    mt_lb_node(&b, 2, 0, 0x2000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1, 4096, 0x10000, 1); /* the slab */
    mt_lb_alloc(&b, MT_ALLOC_CUSTOM, 2, 64, 0x10000, 2);   /* its first object */
    mt_lb_alloc(&b, MT_ALLOC_CUSTOM, 3, 64, 0x10040, 2);   /* its second */
    mt_lb_free_(&b, MT_TAG_CUSTOM_FREE, 4, 0x10040);       /* freed */
    mt_lb_free_(&b, MT_TAG_FREE, 5, 0x10000);              /* the slab, not the object */
    mt_lb_free_(&b, MT_TAG_CUSTOM_FREE, 6, 0x20000);       /* unknown */
    mt_lb_exit(&b, 7, MT_EXIT_NORMAL, 0);
    mt_analysis_t *a = load(&b);
    const mt_replay_t *r = &a->replay;
    ck_assert_uint_eq(r->allocations, 3);
    ck_assert_uint_eq(r->allocs_by_kind[MT_ALLOC_CUSTOM], 2);
    ck_assert_uint_eq(r->custom_bytes_allocated, 128);
    ck_assert_uint_eq(r->frees, 2);
    ck_assert_uint_eq(r->unknown_frees, 1);
    ck_assert_uint_eq(r->replaced_blocks, 0); /* the object did not replace the slab */
    ck_assert_uint_eq(r->heap_blocks, 1);     /* the first object, leaked */
    ck_assert_uint_eq(r->heap_bytes, 64);
    ck_assert_uint_eq(r->custom_blocks, 1);
    ck_assert_uint_eq(r->custom_bytes, 64);
    ck_assert_uint_eq(r->peak_heap_bytes, 4096 + 128);
    ck_assert_uint_eq(r->heap_low_addr, 0x10000);
    mt_node_stats_t ns = mt_replay_node(r, 2);
    ck_assert_uint_eq(ns.live_blocks, 1);
    ck_assert_uint_eq(ns.live_bytes, 64);
    mt_analysis_free(a);
}
END_TEST

START_TEST(marks_in_order_and_no_notices)
{
    mt_lb_t b;
    mt_lb_init(&b, 100, 0);
    mt_lb_thread(&b, 1);
    mt_lb_notice(&b, 1000, MT_NOTICE_MARK, "start");
    mt_lb_notice(&b, 2500, MT_NOTICE_MARK, "phase 2");
    mt_lb_notice(&b, 2600, MT_NOTICE_UNWIND_FAILED, "a real notice");
    mt_lb_notice(&b, 4000, MT_NOTICE_MARK, "start"); /* a name may come again */
    mt_lb_exit(&b, 5000, MT_EXIT_NORMAL, 0);
    mt_analysis_t *a = load(&b);
    ck_assert_uint_eq(a->marks.n, 3);
    ck_assert_str_eq(a->marks.v[0].name, "start");
    ck_assert_uint_eq(a->marks.v[0].time_us, 1000);
    ck_assert_str_eq(a->marks.v[1].name, "phase 2");
    ck_assert_uint_eq(a->marks.v[1].time_us, 2500);
    ck_assert_uint_eq(a->marks.v[2].time_us, 4000);
    ck_assert_uint_eq(a->notices[MT_NOTICE_MARK], 0);
    ck_assert_uint_eq(a->notices[MT_NOTICE_UNWIND_FAILED], 1);
    long i = mt_marks_find(&a->marks, "phase 2");
    ck_assert_int_ge(i, 0);
    ck_assert_uint_eq(a->marks.v[i].time_us, 2500);
    i = mt_marks_find(&a->marks, "start");
    ck_assert_int_eq(i, 0);
    ck_assert_uint_eq(a->marks.v[i].time_us, 1000); /* the first of that name */
    ck_assert_int_eq(mt_marks_find(&a->marks, "phase"), -ENOENT);
    mt_analysis_free(a);
}
END_TEST

MT_SUITE(.name = "marks",
         .tests = MT_TESTS(custom_block_at_its_slabs_address, marks_in_order_and_no_notices));

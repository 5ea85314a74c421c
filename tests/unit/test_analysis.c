// SPDX-License-Identifier: MIT
// Unit tests of the analysis's --thread filter (analysis.c) through a whole log whose
// thread is named after it allocated: by name, by id, unknown, and allowed to be missing.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "check_main.h"
#include "log_builder.h"

/* A log whose thread 11 allocates first and is named "loader" afterwards (as Python names its
 * threads); thread 12 is "loader" too; thread 13 is someone else. */
static char log_path[64];

static void write_log(void)
{
    mt_lb_t b;
    mt_lb_init(&b, 100, 0);
    mt_lb_thread(&b, 1);
    mt_lb_thread_name(&b, 1, "prog");
    mt_lb_node(&b, 1, 0, 0x1000);
    mt_lb_thread(&b, 11);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1, 1000, 0x10000, 1);
    mt_lb_thread(&b, 12);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2, 2000, 0x20000, 1);
    mt_lb_thread(&b, 13);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 3, 4000, 0x30000, 1);
    mt_lb_flush(&b); /* the names come in a later chunk */
    mt_lb_thread_name(&b, 11, "loader");
    mt_lb_thread_name(&b, 12, "loader");
    mt_lb_thread_name(&b, 13, "other");
    mt_lb_thread(&b, 13);
    mt_lb_free_(&b, MT_TAG_FREE, 4, 0x10000); /* 13 frees 11's block */
    mt_lb_exit(&b, 5, MT_EXIT_NORMAL, 0);
    snprintf(log_path, sizeof log_path, "/tmp/mt-test-threads-%d.mtr", (int)getpid());
    mt_lb_write(&b, log_path);
    mt_lb_free(&b);
}

START_TEST(filter_by_name_through_the_log)
{
    write_log();
    char err[256];
    mt_analysis_t *a;
    const char *specs[] = {"loader"};
    mt_thread_filter_t f = {specs, 1, 0};
    ck_assert_int_eq(mt_analysis_load_filtered(&a, log_path, &f, NULL, NULL, err, sizeof err), 0);
    ck_assert_int_eq(a->thread_filter, 1);
    ck_assert_uint_eq(a->replay.nsel, 2);
    ck_assert_uint_eq(a->replay.allocations, 2);
    ck_assert_uint_eq(a->replay.bytes_allocated, 3000);
    ck_assert_uint_eq(a->replay.frees, 1);
    ck_assert_uint_eq(a->replay.heap_bytes, 2000);
    ck_assert_uint_eq(a->replay.peak_heap_bytes, 3000); /* their part of the 7000 B peak */
    ck_assert_uint_eq(a->replay.all_peak_bytes, 7000);
    char label[64];
    mt_analysis_thread_label(a, 12, label, sizeof label);
    ck_assert_str_eq(label, "loader");
    mt_analysis_thread_label(a, 99, label, sizeof label);
    ck_assert_str_eq(label, "tid 99");
    ck_assert_int_eq(mt_analysis_thread_known(a, "other"), 1);
    ck_assert_int_eq(mt_analysis_thread_known(a, "13"), 1);
    ck_assert_int_eq(mt_analysis_thread_known(a, "14"), 0);
    mt_analysis_free(a);

    const char *by_id[] = {"13"};
    f = (mt_thread_filter_t){by_id, 1, 0};
    ck_assert_int_eq(mt_analysis_load_filtered(&a, log_path, &f, NULL, NULL, err, sizeof err), 0);
    ck_assert_uint_eq(a->replay.bytes_allocated, 4000);
    ck_assert_uint_eq(a->replay.frees, 0); /* it freed 11's block: not its own */
    mt_analysis_free(a);

    const char *unknown[] = {"nobody"};
    f = (mt_thread_filter_t){unknown, 1, 0};
    ck_assert_int_eq(mt_analysis_load_filtered(&a, log_path, &f, NULL, NULL, err, sizeof err),
                     -ENOENT);
    ck_assert_ptr_null(a);
    ck_assert_ptr_nonnull(strstr(err, "no thread named 'nobody'"));
    ck_assert_ptr_nonnull(strstr(err, "loader 11"));
    const char *bad_id[] = {"77"};
    f = (mt_thread_filter_t){bad_id, 1, 0};
    ck_assert_int_eq(mt_analysis_load_filtered(&a, log_path, &f, NULL, NULL, err, sizeof err),
                     -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "no thread with id 77"));
    f.allow_missing = 1; /* diff: a thread of the other log */
    ck_assert_int_eq(mt_analysis_load_filtered(&a, log_path, &f, NULL, NULL, err, sizeof err), 0);
    ck_assert_uint_eq(a->replay.allocations, 0);
    ck_assert_uint_eq(a->thread_specs_matched, 0);
    mt_analysis_free(a);
    unlink(log_path);
}
END_TEST

MT_SUITE(.name = "analysis", .tests = MT_TESTS(filter_by_name_through_the_log));

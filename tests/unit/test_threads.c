// SPDX-License-Identifier: MIT
// Unit tests of the per-thread views: each thread's figures in the replay (its own peak, its
// part of the heap peak, cross-thread frees), the threads of a node, the --thread filter (every
// figure restricted, the peak read at the process's), thread names (the last one wins), and
// the filter by name through a whole log whose thread is named after it allocated.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "analysis.h"
#include "log_builder.h"
#include "replay.h"
#include "thread_names.h"

static mt_replay_t r;

static void setup(void)
{
    ck_assert_int_eq(mt_replay_init(&r), 0);
}

static void teardown(void)
{
    mt_replay_destroy(&r);
}

#define A(tid, t, addr, size, node)                                                                \
    ck_assert_int_eq(mt_replay_alloc(&r, tid, t, addr, size, node, 0), 0)
#define F(tid, t, addr) ck_assert_int_eq(mt_replay_free(&r, tid, t, addr), 0)

/* Thread 10 peaks alone at 300, then holds 100; thread 20 makes the heap peak later; 20 frees
 * one of 10's blocks (a free counts against the block's thread). */
static void two_threads(void)
{
    A(10, 1, 0x1000, 100, 1);
    A(10, 2, 0x2000, 200, 2);
    F(10, 3, 0x2000);         /* 10: own peak 300 at t=2 */
    A(20, 4, 0x3000, 150, 1); /* node 1: two threads */
    A(20, 5, 0x4000, 160, 3); /* heap 410: the peak, at t=5 */
    F(20, 6, 0x4000);
    A(10, 7, 0x5000, 50, 2);
    F(20, 8, 0x5000); /* 20 frees 10's block */
    mt_replay_finish(&r);
}

START_TEST(per_thread_figures)
{
    two_threads();
    ck_assert_uint_eq(r.ntstats, 2);
    mt_thread_stats_t a = mt_replay_thread(&r, 0), b = mt_replay_thread(&r, 1);
    ck_assert_uint_eq(a.tid, 10);
    ck_assert_uint_eq(b.tid, 20);
    ck_assert_uint_eq(a.allocations, 3);
    ck_assert_uint_eq(a.bytes_allocated, 350);
    ck_assert_uint_eq(a.own_peak_bytes, 300);
    ck_assert_uint_eq(a.own_peak_us, 2);
    ck_assert_uint_eq(a.peak_bytes, 100); /* at the heap peak (t=5) */
    ck_assert_uint_eq(a.peak_blocks, 1);
    ck_assert_uint_eq(a.live_bytes, 100);
    ck_assert_uint_eq(b.allocations, 2);
    ck_assert_uint_eq(b.own_peak_bytes, 310);
    ck_assert_uint_eq(b.peak_bytes, 310);
    ck_assert_uint_eq(b.live_bytes, 150);
    ck_assert_uint_eq(a.first_us, 1);
    ck_assert_uint_eq(a.last_us, 7);
    ck_assert_uint_eq(b.last_us, 8);
    ck_assert_uint_eq(r.peak_heap_bytes, 410);
    ck_assert_uint_eq(r.all_peak_bytes, 410);
    ck_assert_uint_eq(r.peak_time_us, 5);
    /* the threads of a node: node 1 was 10's first, then 20's */
    mt_node_stats_t n1 = mt_replay_node(&r, 1), n3 = mt_replay_node(&r, 3);
    ck_assert_uint_eq(n1.thread, 1);
    ck_assert_uint_eq(n1.multi, 1);
    size_t n;
    const uint64_t *pairs = mt_replay_node_pairs(&r, 1, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(pairs[0], (1ull << 32) | 2);
    ck_assert_uint_eq(n3.thread, 2);
    ck_assert_uint_eq(n3.multi, 0);
    (void)mt_replay_node_pairs(&r, 3, &n);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(filter_restricts_every_figure)
{
    uint64_t sel = 10;
    ck_assert_int_eq(mt_replay_select(&r, &sel, 1), 0);
    two_threads();
    ck_assert_uint_eq(r.allocations, 3);
    ck_assert_uint_eq(r.bytes_allocated, 350);
    ck_assert_uint_eq(r.frees, 2); /* its own free and 20's free of its block */
    ck_assert_uint_eq(r.bytes_freed, 250);
    ck_assert_uint_eq(r.heap_bytes, 100);
    ck_assert_uint_eq(r.heap_blocks, 1);
    /* the peak is the process's (t=5, 410 B), the figure thread 10's part of it */
    ck_assert_uint_eq(r.peak_time_us, 5);
    ck_assert_uint_eq(r.peak_heap_bytes, 100);
    ck_assert_uint_eq(r.all_peak_bytes, 410);
    ck_assert_uint_eq(r.all_heap_bytes, 250);
    mt_node_stats_t n1 = mt_replay_node(&r, 1), n3 = mt_replay_node(&r, 3);
    ck_assert_uint_eq(n1.allocations, 1);
    ck_assert_uint_eq(n1.live_bytes, 100);
    ck_assert_uint_eq(n1.peak_bytes, 100);
    ck_assert_uint_eq(n1.multi, 0); /* 20's allocation there does not count */
    ck_assert_uint_eq(n3.allocations, 0);
    /* every thread's own figures stay whole */
    ck_assert_uint_eq(mt_replay_thread(&r, 1).own_peak_bytes, 310);
    ck_assert_int_eq(mt_replay_thread(&r, 0).selected, 1);
    ck_assert_int_eq(mt_replay_thread(&r, 1).selected, 0);
}
END_TEST

START_TEST(filter_realloc_and_unknown_frees)
{
    uint64_t sel = 20;
    ck_assert_int_eq(mt_replay_select(&r, &sel, 1), 0);
    A(10, 1, 0x1000, 100, 1);
    ck_assert_int_eq(mt_replay_realloc_release(&r, 10, 2, 0x1000), 0);
    ck_assert_int_eq(mt_replay_realloc_failed(&r, 10, 3, 0x1000), 0);
    F(20, 4, 0x9999); /* unknown, freed by the selected thread */
    F(10, 5, 0x8888); /* unknown, another thread's */
    ck_assert_uint_eq(r.frees, 0);
    ck_assert_uint_eq(r.unknown_frees, 1);
    ck_assert_uint_eq(r.realloc_failures, 0);
    ck_assert_uint_eq(r.heap_bytes, 0);
    ck_assert_uint_eq(r.all_heap_bytes, 100);
    ck_assert_uint_eq(mt_replay_thread(&r, 0).live_bytes, 100);
}
END_TEST

/* The live-block table holds every thread's blocks: it grows with them, not with the
 * selected threads' (a filtered replay once filled it and looked for a free slot forever). */
START_TEST(filter_table_grows_with_every_thread)
{
    uint64_t sel = 1;
    ck_assert_int_eq(mt_replay_select(&r, &sel, 1), 0);
    for (uint64_t i = 0; i < 20000; i++)
        A(2, i, 0x100000 + i * 32, 16, 1);
    A(1, 20000, 0x10, 8, 1);
    ck_assert_uint_eq(r.all_heap_blocks, 20001);
    ck_assert_uint_eq(r.heap_blocks, 1);
    ck_assert_ptr_nonnull(mt_replay_find(&r, 0x100000 + 19999 * 32));
    F(2, 20001, 0x100000);
    ck_assert_uint_eq(r.all_heap_blocks, 20000);
}
END_TEST

START_TEST(names_last_wins)
{
    mt_thread_names_t t = {0};
    ck_assert_ptr_null(mt_tnames_get(&t, 5));
    for (uint64_t tid = 1; tid <= 200; tid++)
        ck_assert_int_eq(mt_tnames_set(&t, tid, "prog", 4), 0);
    ck_assert_int_eq(mt_tnames_set(&t, 7, "worker-7", 8), 0);
    ck_assert_int_eq(mt_tnames_set(&t, 8, "a\0b", 3), 0); /* cut at the NUL */
    ck_assert_str_eq(mt_tnames_get(&t, 7), "worker-7");
    ck_assert_str_eq(mt_tnames_get(&t, 8), "a");
    ck_assert_str_eq(mt_tnames_get(&t, 200), "prog");
    ck_assert_uint_eq(t.n, 200);
    mt_tnames_destroy(&t);
    uint64_t v;
    ck_assert_int_eq(mt_tnames_is_tid("4242", &v), 1);
    ck_assert_uint_eq(v, 4242);
    ck_assert_int_eq(mt_tnames_is_tid("loader-1", &v), 0);
    ck_assert_int_eq(mt_tnames_is_tid("", &v), 0);
    ck_assert_int_eq(mt_tnames_is_tid("12345678901", &v), 0);
}
END_TEST

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

const mt_suite_t mt_suite = {
    .name = "threads",
    .tcase = "core",
    .setup = setup,
    .teardown = teardown,
    .tests = MT_TESTS(per_thread_figures, filter_restricts_every_figure,
                      filter_realloc_and_unknown_frees, filter_table_grows_with_every_thread,
                      names_last_wins, filter_by_name_through_the_log),
};

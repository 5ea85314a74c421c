// SPDX-License-Identifier: MIT
// Unit tests of the analysis's --thread filter (analysis.c) through a whole log whose
// thread is named after it allocated: by name, by id, unknown, and allowed to be missing; and
// of its time windows (--from/--to): what a window counts, holds at its end and peaks at; and
// of aggregated logs (AGG_* records): their figures set as the replay's, and what is corrupt;
// and of the heap events replayed a batch at a time (mt_analysis_heap_run): the same exact
// figures and the same cut as record by record, on one thread and on two.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
    MT_ASSERT_HAS(err, "no thread named 'nobody'", "loader 11");
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

/* One thread, times in microseconds: A (1000 B) at 10 before the window, B (2000 B) at 20, A
 * freed at 25, C (4000 B) at 30, B freed at 35, D (8000 B) at 50 after the window [20, 40]. */
static mt_analysis_t *load_window(uint64_t from, uint64_t to)
{
    mt_lb_t b;
    mt_lb_init(&b, 100, 0);
    mt_lb_thread(&b, 1);
    mt_lb_node(&b, 1, 0, 0x1000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 10, 1000, 0xa000, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 20, 2000, 0xb000, 1);
    mt_lb_free_(&b, MT_TAG_FREE, 25, 0xa000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 30, 4000, 0xc000, 1);
    mt_lb_free_(&b, MT_TAG_FREE, 35, 0xb000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 50, 8000, 0xd000, 1);
    mt_lb_exit(&b, 60, MT_EXIT_NORMAL, 0);
    mt_lb_flush(&b);
    char err[256];
    mt_analysis_t *a;
    mt_window_t w = {.on = 1, .from_us = from, .to_us = to};
    ck_assert_int_eq(mt_analysis_load_mem_window(&a, b.file, b.len, "w.mtr", &w, err, sizeof err),
                     0);
    mt_lb_free(&b);
    return a;
}

START_TEST(window_counts_what_it_allocated_and_holds_at_its_end)
{
    mt_analysis_t *a = load_window(20, 40);
    const mt_replay_t *r = &a->replay;
    ck_assert_uint_eq(r->allocations, 2); /* B and C: not A before it, not D after it */
    ck_assert_uint_eq(r->bytes_allocated, 6000);
    ck_assert_uint_eq(r->frees, 1); /* B: A's free is of a block from before the window */
    ck_assert_uint_eq(r->bytes_freed, 2000);
    ck_assert_uint_eq(r->heap_bytes, 4000); /* C, held at the window's end */
    ck_assert_uint_eq(r->heap_blocks, 1);
    ck_assert_uint_eq(r->peak_heap_bytes, 6000); /* B and C at 30 */
    ck_assert_uint_eq(r->peak_time_us, 30);
    ck_assert_uint_eq(mt_replay_thread(r, 0).allocations, 2);
    ck_assert_uint_eq(mt_replay_thread(r, 0).live_bytes, 4000);
    ck_assert_int_eq(a->window_stopped, 1);
    ck_assert_int_eq(a->window_at_end, 0);
    ck_assert_int_eq(a->truncated, 0); /* no EXIT in the window is no truncation */
    ck_assert_uint_eq(a->window.to_us, 40);
    mt_analysis_free(a);
}
END_TEST

START_TEST(window_to_the_end_of_the_log)
{
    mt_analysis_t *a = load_window(45, UINT64_MAX);
    ck_assert_uint_eq(a->replay.allocations, 1); /* D */
    ck_assert_uint_eq(a->replay.heap_bytes, 8000);
    ck_assert_uint_eq(a->replay.peak_heap_bytes, 8000);
    ck_assert_int_eq(a->window_at_end, 1);
    ck_assert_uint_eq(a->window.to_us, 60); /* the end, as the log has it */
    ck_assert_int_eq(a->truncated, 0);
    mt_analysis_free(a);
    /* the whole log as a window counts what no window does */
    a = load_window(0, UINT64_MAX);
    ck_assert_uint_eq(a->replay.allocations, 4);
    ck_assert_uint_eq(a->replay.heap_bytes, 12000);
    ck_assert_uint_eq(a->replay.peak_heap_bytes, 12000);
    mt_analysis_free(a);
    /* a window that starts after the last record is empty */
    a = load_window(70, UINT64_MAX);
    ck_assert_uint_eq(a->replay.allocations, 0);
    ck_assert_uint_eq(a->replay.heap_bytes, 0);
    ck_assert_uint_eq(a->replay.peak_heap_bytes, 0);
    ck_assert_uint_eq(a->window.from_us, 60);
    mt_analysis_free(a);
}
END_TEST

/* ---- aggregated logs ---- */

/* Two sites: node 2 held 3 x 100 B at the peak (500 B at 40 us) and keeps one at the end,
 * node 3 allocated 2 x 100 B after the peak and keeps both. how: 0 valid, 1 a site before the
 * totals, 2 a block listed twice, 3 no flag in the header, 4 no figures (killed). */
static mt_analysis_t *load_aggregated(int how)
{
    mt_lb_t b;
    mt_lb_init(&b, 100, 0);
    if (how != 3)
        mt_lb_aggregated(&b);
    mt_lb_node(&b, 1, 0, 0x1000);
    mt_lb_node(&b, 2, 1, 0x1010);
    mt_lb_node(&b, 3, 1, 0x1020);
    uint64_t v[MT_AGG_HEAP_FIELDS] = {0};
    v[MT_AGG_ALLOCATIONS] = 7;
    v[MT_AGG_FREES] = 4;
    v[MT_AGG_BYTES_ALLOCATED] = 700;
    v[MT_AGG_BYTES_FREED] = 400;
    v[MT_AGG_PEAK_BYTES] = 500;
    v[MT_AGG_PEAK_BLOCKS] = 5;
    v[MT_AGG_PEAK_US] = 40;
    v[MT_AGG_TEMPORARY] = 1;
    v[MT_AGG_BY_KIND + MT_ALLOC_MALLOC] = 7;
    v[MT_AGG_BY_SIZE_BITS + 7] = 7;
    if (how == 1)
        mt_lb_agg_site(&b, 90, 2, 5, 500, 300, 3, 1);
    if (how != 4) {
        mt_lb_agg_heap(&b, 90, v, MT_AGG_HEAP_FIELDS);
        mt_lb_agg_site(&b, 90, 2, 5, 500, 300, 3, 1);
        mt_lb_agg_site(&b, 90, 3, 2, 200, 0, 0, 0);
        mt_lb_agg_live(&b, 90, 100, 0x20000, 2, MT_ALLOC_MALLOC);
        mt_lb_agg_live(&b, 90, 100, 0x30000, 3, MT_ALLOC_MALLOC);
        mt_lb_agg_live(&b, 90, 100, how == 2 ? 0x30000 : 0x30100, 3, MT_ALLOC_CALLOC);
    }
    mt_lb_exit(&b, 91, MT_EXIT_NORMAL, 0);
    mt_lb_flush(&b);
    mt_analysis_t *a;
    char err[256];
    ck_assert_int_eq(mt_analysis_load_mem(&a, b.file, b.len, "agg.mtr", err, sizeof err), 0);
    mt_lb_free(&b);
    return a;
}

START_TEST(aggregated_log_sets_the_replays_figures)
{
    mt_analysis_t *a = load_aggregated(0);
    const mt_replay_t *r = &a->replay;
    ck_assert_int_eq(a->aggregated, 1);
    ck_assert_int_eq(a->agg_done, 1);
    ck_assert_int_eq(a->truncated, 0);
    ck_assert_uint_eq(r->allocations, 7);
    ck_assert_uint_eq(r->frees, 4);
    ck_assert_uint_eq(r->bytes_allocated, 700);
    ck_assert_uint_eq(r->bytes_freed, 400);
    ck_assert_uint_eq(r->temporary_allocations, 1);
    ck_assert_uint_eq(r->allocs_by_kind[MT_ALLOC_MALLOC], 7);
    ck_assert_uint_eq(r->allocs_by_size_bits[7], 7);
    ck_assert_uint_eq(r->peak_heap_bytes, 500);
    ck_assert_uint_eq(r->peak_heap_blocks, 5);
    ck_assert_uint_eq(r->peak_time_us, 40);
    /* the blocks live at the end: live heap, not allocation calls */
    ck_assert_uint_eq(r->heap_bytes, 300);
    ck_assert_uint_eq(r->heap_blocks, 3);
    mt_node_stats_t s2 = mt_replay_node(r, 2), s3 = mt_replay_node(r, 3);
    ck_assert_uint_eq(s2.allocations, 5);
    ck_assert_uint_eq(s2.bytes_allocated, 500);
    ck_assert_uint_eq(s2.temporary, 1);
    ck_assert_uint_eq(s2.peak_bytes, 300); /* as written, whatever is live at the end */
    ck_assert_uint_eq(s2.peak_blocks, 3);
    ck_assert_uint_eq(s2.live_bytes, 100);
    ck_assert_uint_eq(s2.live_blocks, 1);
    ck_assert_uint_eq(s3.allocations, 2);
    ck_assert_uint_eq(s3.peak_bytes, 0);
    ck_assert_uint_eq(s3.live_bytes, 200);
    ck_assert_uint_eq(s3.live_blocks, 2);
    mt_held_t held = mt_analysis_held(a);
    ck_assert_uint_eq(held.bytes, 300);
    ck_assert_uint_eq(held.blocks, 3);
    mt_analysis_free(a);
}
END_TEST

START_TEST(aggregated_log_refuses_what_is_corrupt)
{
    /* a site before the totals, a block listed twice, AGG records without the flag: the log
     * is cut there, as at any corrupt record */
    for (int how = 1; how <= 3; how++) {
        mt_analysis_t *a = load_aggregated(how);
        ck_assert_int_eq(a->cut, 1);
        ck_assert_int_eq(a->truncated, 1);
        mt_analysis_free(a);
    }
    /* killed before its end: an aggregated log with no figures, which reports refuse */
    mt_analysis_t *a = load_aggregated(4);
    ck_assert_int_eq(a->aggregated, 1);
    ck_assert_int_eq(a->agg_done, 0);
    ck_assert_uint_eq(a->replay.allocations, 0);
    mt_analysis_free(a);
}
END_TEST

/* 3,000 rounds of two threads, each round an allocation of each, a free of the other's block
 * of the round before (so every batch of decoded records mixes heap events with THREAD
 * switches, which only the record-by-record path reads) and a sample every 100 rounds; then,
 * with bad_at, an allocation at trace node 99, which does not exist, in round bad_at. */
static void write_rounds(const char *path, int bad_at)
{
    mt_lb_t b;
    mt_lb_init(&b, 100, 0);
    mt_lb_node(&b, 1, 0, 0x1000);
    mt_lb_node(&b, 2, 1, 0x2000);
    mt_sample_t smp = {.rss = 4096};
    for (uint64_t i = 1; i <= 3000; i++) {
        for (uint64_t th = 0; th < 2; th++) {
            mt_lb_thread(&b, 21 + th);
            uint64_t addr = 0x100000 + (i * 2 + th) * 0x100;
            uint32_t node = bad_at && i == (uint64_t)bad_at && th ? 99 : (uint32_t)(1 + th);
            mt_lb_alloc(&b, MT_ALLOC_MALLOC, i * 10, 16 + th * 16 + i % 7, addr, node);
            if (i > 1) /* the other thread's block of the round before */
                mt_lb_free_(&b, MT_TAG_FREE, i * 10 + 1, 0x100000 + ((i - 1) * 2 + !th) * 0x100);
        }
        if (i % 100 == 0)
            mt_lb_sample(&b, i * 10 + 2, &smp);
    }
    mt_lb_exit(&b, 40000, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, path);
    mt_lb_free(&b);
}

static mt_analysis_t *load_rounds(const char *path, const char *threads)
{
    char err[256];
    mt_analysis_t *a;
    setenv("MEMTRACE_INDEX", "0", 1);
    setenv("MEMTRACE_ANALYSIS_THREADS", threads, 1);
    ck_assert_int_eq(mt_analysis_load(&a, path, err, sizeof err), 0);
    unsetenv("MEMTRACE_ANALYSIS_THREADS");
    return a;
}

START_TEST(heap_events_in_batches_count_exactly)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/mt-test-rounds-%d.mtr", (int)getpid());
    write_rounds(path, 0);
    for (int k = 0; k < 2; k++) {
        mt_analysis_t *a = load_rounds(path, k ? "2" : "1");
        ck_assert_int_eq(a->truncated, 0);
        ck_assert_uint_eq(a->replay.allocations, 6000);
        ck_assert_uint_eq(a->replay.frees, 5998);
        ck_assert_uint_eq(a->replay.unknown_frees, 0);
        /* the two blocks of the last round are held: 16 + 3000 % 7, 32 + 3000 % 7 */
        ck_assert_uint_eq(a->replay.heap_blocks, 2);
        ck_assert_uint_eq(a->replay.heap_bytes, 16 + 32 + 2 * (3000 % 7));
        ck_assert_uint_eq(a->replay.nsamples > 0, 1);
        ck_assert_uint_eq(a->replay.ntstats, 2);
        ck_assert_uint_eq(a->replay.tstats[0].allocations, 3000);
        ck_assert_uint_eq(a->replay.tstats[1].allocations, 3000);
        ck_assert_uint_eq(mt_replay_node(&a->replay, 2).allocations, 3000);
        ck_assert_uint_eq(a->events, 6000 + 5998);
        mt_analysis_free(a);
    }
    unlink(path);
}
END_TEST

START_TEST(bad_node_in_a_batch_cuts_where_it_is)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/mt-test-rounds-bad-%d.mtr", (int)getpid());
    write_rounds(path, 2500);
    for (int k = 0; k < 2; k++) {
        mt_analysis_t *a = load_rounds(path, k ? "2" : "1");
        ck_assert_int_eq(a->cut, 1);
        ck_assert_str_eq(a->cut_reason, "allocation refers to unknown trace node 99");
        /* rounds 1 to 2,499 whole, then thread 21's allocation and free of round 2,500 */
        ck_assert_uint_eq(a->replay.allocations, 2499 * 2 + 1);
        ck_assert_uint_eq(a->replay.frees, 2498 * 2 + 1);
        /* the bad allocation counts as read: the events before it and itself */
        ck_assert_uint_eq(a->events, 2499 * 2 + 2498 * 2 + 2 + 1);
        mt_analysis_free(a);
    }
    unlink(path);
}
END_TEST

/* A block or mapping larger than any address space (a damaged log): before, 2^62 bytes twice
 * wrapped bytes_allocated to a few bytes and the peak to 16 EiB, with no word of it. */
START_TEST(a_block_beyond_the_address_space_cuts_the_log)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/mt-test-huge-%d.mtr", (int)getpid());
    for (int mapping = 0; mapping < 2; mapping++) {
        mt_lb_t b;
        mt_lb_init(&b, 100, 0);
        mt_lb_node(&b, 1, 0, 0x1000);
        mt_lb_thread(&b, 21);
        mt_lb_alloc(&b, MT_ALLOC_MALLOC, 10, 100, 0x100000, 1);
        if (mapping)
            mt_lb_mmap(&b, 11, 1ull << 62, 0x7f0000000000ull, 1, MT_MAP_MMAP);
        for (int i = 0; i < 2; i++)
            mt_lb_alloc(&b, MT_ALLOC_MALLOC, 12 + i, 1ull << 62, 0x200000 + i * 0x100, 1);
        mt_lb_exit(&b, 20, MT_EXIT_NORMAL, 0);
        mt_lb_write(&b, path);
        mt_lb_free(&b);
        for (int k = 0; k < 2; k++) {
            mt_analysis_t *a = load_rounds(path, k ? "2" : "1");
            ck_assert_int_eq(a->cut, 1);
            ck_assert_str_eq(a->cut_reason,
                             mapping ? "mapping of 4611686018427387904 bytes, more than an "
                                       "address space holds"
                                     : "allocation of 4611686018427387904 bytes, more than an "
                                       "address space holds");
            ck_assert_uint_eq(a->replay.allocations, 1);
            ck_assert_uint_eq(a->replay.bytes_allocated, 100);
            ck_assert_uint_eq(a->replay.peak_heap_bytes, 100);
            mt_analysis_free(a);
        }
    }
    unlink(path);
}
END_TEST

MT_SUITE(.name = "analysis",
         .tests = MT_TESTS(
             filter_by_name_through_the_log, window_counts_what_it_allocated_and_holds_at_its_end,
             window_to_the_end_of_the_log, aggregated_log_sets_the_replays_figures,
             aggregated_log_refuses_what_is_corrupt, heap_events_in_batches_count_exactly,
             bad_node_in_a_batch_cuts_where_it_is, a_block_beyond_the_address_space_cuts_the_log));

// SPDX-License-Identifier: MIT
// The recorder end to end (preload/lifecycle.c, preload/record/): started as the hooks start
// it, fed a known script of events through mt_rec_*, finished, and its log read back by the
// analyzer: every event, byte count, thread name, notice and the exit status as recorded.
#include <check.h>

#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "rec_driver.h"

static char dir[] = "/tmp/mt-test-recorder.XXXXXX";
static char log_path[4200];

static void setup_env(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(log_path, sizeof log_path, "%s/rec.mtr", dir);
    setenv("MEMTRACE_OUTPUT", log_path, 1);
    setenv("MEMTRACE_SAMPLE_MS", "0", 1);
    unsetenv("MEMTRACE_LEAK_CHECK");
    unsetenv("MEMTRACE_RUN_ID");
}

START_TEST(events_read_back)
{
    setup_env();
    ck_assert_int_eq(rd_record_script(), 0);
    mt_analysis_t *a;
    char err[256];
    ck_assert_int_eq(mt_analysis_load(&a, log_path, err, sizeof err), 0);
    ck_assert_int_eq(a->truncated, 0);
    ck_assert_uint_eq(a->header_pid, (uint64_t)getpid());
    ck_assert(a->process.present);
    ck_assert_uint_eq(a->process.pid, (uint64_t)getpid());
    ck_assert_int_eq(a->lineage.how, MT_ORIGIN_START);
    /* two allocations, one freed; the mapping came and went */
    ck_assert_uint_eq(a->replay.allocations, 2);
    ck_assert_uint_eq(a->replay.bytes_allocated, 300);
    ck_assert_uint_eq(a->replay.allocs_by_kind[MT_ALLOC_MALLOC], 1);
    ck_assert_uint_eq(a->replay.allocs_by_kind[MT_ALLOC_CALLOC], 1);
    ck_assert_uint_eq(a->replay.frees, 1);
    ck_assert_uint_eq(a->replay.bytes_freed, 100);
    ck_assert_uint_eq(a->replay.heap_bytes, 200);
    ck_assert_uint_eq(a->replay.heap_blocks, 1);
    ck_assert_uint_eq(a->replay.peak_heap_bytes, 300);
    ck_assert_uint_eq(a->replay.nmaps, 0);
    ck_assert_uint_eq(a->replay.unknown_frees, 0);
    /* the rename, after the name the thread had at its first event */
    ck_assert_str_eq(mt_tnames_get(&a->thread_names, (uint64_t)getpid()), RD_TID_NAME);
    ck_assert_uint_eq(a->notices[MT_NOTICE_EVENTS_LOST], 1);
    ck_assert_str_eq(a->lost_notice, RD_NOTICE_TEXT);
    ck_assert_int_eq(a->replay.exit_reason, MT_EXIT_NORMAL);
    ck_assert_uint_eq(a->replay.exit_status, RD_EXIT_STATUS);
    mt_analysis_free(a);
    unlink(log_path);
    rmdir(dir);
}
END_TEST

MT_SUITE(.name = "recorder", .tests = MT_TESTS(events_read_back));

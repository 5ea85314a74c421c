// SPDX-License-Identifier: MIT
// The log writer (preload/io/log_writer.c): records written through mt_writer_record reach
// the file whole and in order, across many chunks, with the header's pid; the template is
// expanded for the pid, and a name already taken gets .2, .3... Read back by the analyzer.
#include <check.h>
#include <errno.h>

#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "rec_driver.h"

static char dir[] = "/tmp/mt-test-writer.XXXXXX";

/* Sets MEMTRACE_OUTPUT to file (in a new directory), writes n rounds of records with
 * rd_write_log into path, and reads them back, whole. */
static mt_analysis_t *write_and_load(const char *file, unsigned n, char *path, size_t cap)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char tmpl[4200];
    snprintf(tmpl, sizeof tmpl, "%s/%s", dir, file);
    setenv("MEMTRACE_OUTPUT", tmpl, 1);
    if (strstr(file, "same")) { /* the name is taken */
        FILE *f = fopen(tmpl, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
    }
    ck_assert_int_eq(rd_write_log(n, 77, path, cap), 0);
    mt_analysis_t *a;
    char err[256];
    ck_assert_int_eq(mt_analysis_load(&a, path, err, sizeof err), 0);
    ck_assert_int_eq(a->truncated, 0);
    return a;
}

/* 20,000 records of each kind: many buffers and chunks, and the writer thread is not
 * started, so each full buffer is written by the recording thread itself. */
START_TEST(records_read_back_in_order)
{
    char path[4200], want[4200];
    mt_analysis_t *a = write_and_load("w.%p.mtr", 20000, path, sizeof path);
    snprintf(want, sizeof want, "%s/w.4242.mtr", dir);
    ck_assert_str_eq(path, want);
    ck_assert_uint_eq(a->header_pid, 4242);
    ck_assert_uint_eq(a->start_realtime_ns, 1000000000ull);
    ck_assert_uint_eq(a->replay.allocations, 20000);
    ck_assert_uint_eq(a->replay.bytes_allocated, 20000 * 16);
    ck_assert_uint_eq(a->replay.frees, 20000);
    ck_assert_uint_eq(a->replay.unknown_frees, 0); /* every FREE after its ALLOC */
    ck_assert_uint_eq(a->replay.heap_blocks, 0);
    ck_assert_uint_eq(a->replay.peak_heap_bytes, 16);
    ck_assert_int_eq(a->replay.exit_reason, MT_EXIT_NORMAL);
    mt_analysis_free(a);
    unlink(path);
}
END_TEST

/* A second log of the same name does not overwrite the first. */
START_TEST(taken_name_gets_a_number)
{
    char path[4200], want[4200];
    mt_analysis_t *a = write_and_load("same.mtr", 3, path, sizeof path);
    snprintf(want, sizeof want, "%s/same.mtr.2", dir);
    ck_assert_str_eq(path, want);
    ck_assert_uint_eq(a->replay.allocations, 3);
    mt_analysis_free(a);
    unlink(path);
}
END_TEST

/* A log that cannot be created: the error, in one line on stderr that names the path. */
START_TEST(uncreatable_log_says_why)
{
    setenv("MEMTRACE_OUTPUT", "/nonexistent-mt-dir/u.mtr", 1);
    char errpath[] = "/tmp/mt-test-writer-err.XXXXXX";
    int efd = mkstemp(errpath);
    ck_assert_int_ge(efd, 0);
    int saved = dup(2);
    dup2(efd, 2);
    char path[4200];
    int rc = rd_write_log(1, 77, path, sizeof path);
    dup2(saved, 2);
    close(saved);
    ck_assert_int_eq(rc, -ENOENT);
    char got[512] = "";
    ck_assert_int_ge(pread(efd, got, sizeof got - 1, 0), 0);
    close(efd);
    unlink(errpath);
    ck_assert_str_eq(got, "memtrace: cannot create /nonexistent-mt-dir/u.mtr: No such file or "
                          "directory; not recording\n");
}
END_TEST

MT_SUITE(.name = "log_writer",
         .tests = MT_TESTS(records_read_back_in_order, taken_name_gets_a_number,
                           uncreatable_log_says_why));

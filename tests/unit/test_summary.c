// SPDX-License-Identifier: MIT
// Unit tests for the summary `memtrace run` prints (run_summary.c): it must equal the full analysis
// on every log, whole, cut at any chunk or corrupt (its block map: test_size_map.c).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "check_main.h"
#include "log_builder.h"
#include "run_summary.h"

/* A log of every kind of heap, mapping and sample event, with realloc failures and releases
 * in flight, replaced blocks, unknown frees, an exit and (python) a script end. */
static void build_busy_log(mt_lb_t *b, int python, int with_exit)
{
    mt_lb_init(b, 321, 2048);
    mt_lb_node(b, 1, 0, 0x400000);
    mt_lb_node(b, 2, 1, 0x400100);
    uint64_t rng = 99, live[256] = {0}, next = 0x10000000;
    for (uint64_t i = 0; i < 20000; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        unsigned slot = (unsigned)(rng >> 40) % 256, op = (unsigned)(rng >> 56) % 16;
        uint64_t t = i * 100, tid = 1 + (rng >> 20) % 3;
        mt_lb_thread(b, tid);
        if (op == 0 && live[slot]) { /* a realloc that fails */
            mt_lb_free_(b, MT_TAG_REALLOC_RELEASE, t, live[slot]);
            mt_lb_free_(b, MT_TAG_REALLOC_FAILED, t, live[slot]);
        } else if (op == 1 && live[slot]) { /* a realloc that moves */
            mt_lb_free_(b, MT_TAG_REALLOC_RELEASE, t, live[slot]);
            live[slot] = next += 0x1000;
            mt_lb_alloc(b, MT_ALLOC_REALLOC, t, 1 + op * 100, live[slot], 2);
        } else if (op == 2) { /* realloc(p, 0), or a free we never saw the block of */
            mt_lb_free_(b, op == 2 && live[slot] ? MT_TAG_REALLOC_RELEASE : MT_TAG_FREE, t,
                        live[slot] ? live[slot] : 0x9999);
            live[slot] = 0;
        } else if (op == 3) { /* an address back without its free */
            mt_lb_alloc(b, MT_ALLOC_MALLOC, t, 77,
                        live[(slot + 1) % 256] ? live[(slot + 1) % 256] : 0x5000, 1);
        } else if (op == 4) {
            mt_lb_mmap(b, t, 1 << 20, 0x7f0000000000 + (rng >> 44) * 0x100000, 1, MT_MAP_MMAP);
        } else if (op == 5) {
            mt_lb_munmap(b, t, 1 << 19, 0x7f0000000000 + (rng >> 44) * 0x100000);
        } else if (op == 6) {
            mt_sample_t s = {.rss = (rng >> 30) % (1 << 30), .arena = 4096};
            mt_lb_sample(b, t, &s);
        } else if (live[slot]) {
            mt_lb_free_(b, MT_TAG_FREE, t, live[slot]);
            live[slot] = 0;
        } else {
            live[slot] = next += 0x1000;
            mt_lb_alloc(b, op == 7 ? MT_ALLOC_INHERITED : MT_ALLOC_MALLOC, t, 1 + (rng >> 8) % 5000,
                        live[slot], 1 + op % 2);
        }
        if (python && i == 15000)
            mt_lb_py_script_end(b, t);
    }
    if (with_exit)
        mt_lb_exit(b, 2000000, MT_EXIT_NORMAL, 3);
    mt_lb_flush(b);
}

/* Per process: test runs of several build trees at once must not share the file. */
static char log_path[64];

static void assert_same(const void *buf, size_t len)
{
    mt_analysis_t *a;
    char err[256];
    FILE *f = fopen(log_path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
    fclose(f);
    mt_summary_t s;
    int rc = mt_analysis_load_mem(&a, buf, len, "x.mtr", err, sizeof err);
    ck_assert_int_eq(mt_summary_load(log_path, &s, err, sizeof err), rc);
    if (rc < 0) /* cut inside the file header */
        return;
    const mt_replay_t *r = &a->replay;
    mt_held_t held = mt_analysis_held(a);
    ck_assert_uint_eq(s.allocations, r->allocations);
    ck_assert_uint_eq(s.frees, r->frees);
    ck_assert_uint_eq(s.bytes_allocated, r->bytes_allocated);
    ck_assert_uint_eq(s.peak_heap_bytes, r->peak_heap_bytes);
    ck_assert(s.peak_time_s == (double)r->peak_time_us / 1e6);
    ck_assert_uint_eq(s.peak_rss_bytes, r->peak_rss_bytes);
    ck_assert_uint_eq(s.leaked_bytes, held.bytes);
    ck_assert_uint_eq(s.leaked_blocks, held.blocks);
    ck_assert_int_eq(s.leaked_at_script_end, held.at_script_end);
    ck_assert_uint_eq(s.mmap_peak_bytes, r->mmap_peak_bytes);
    ck_assert_uint_eq(s.mmap_leaked_bytes, r->mmap_bytes);
    ck_assert(s.duration_s == (double)r->last_time_us / 1e6);
    ck_assert_uint_eq(s.pid, a->process.present ? (uint32_t)a->process.pid : a->header_pid);
    ck_assert_int_eq(s.truncated, a->truncated);
    ck_assert_int_eq(s.exit_reason, r->has_exit ? r->exit_reason : -1);
    ck_assert_int_eq(s.exit_status, (int)r->exit_status);
    mt_analysis_free(a);
}

START_TEST(summary_equals_analysis)
{
    for (int python = 0; python < 2; python++) {
        mt_lb_t b;
        build_busy_log(&b, python, 1);
        assert_same(b.file, b.len);
        /* cut anywhere: at chunk boundaries, inside chunks, inside the header */
        for (size_t cut = 20; cut < b.len; cut += b.len / 97 + 1)
            assert_same(b.file, cut);
        mt_lb_free(&b);
    }
    mt_lb_t b;
    build_busy_log(&b, 0, 0); /* no exit record */
    assert_same(b.file, b.len);
    mt_lb_free(&b);
}
END_TEST

/* Corrupt ids end the summary where they end the analysis. */
START_TEST(summary_stops_where_analysis_stops)
{
    static const struct {
        const char *m, *p, *i, *n, *s, *a;
    } cases[] = {
        {"\x10", NULL, NULL, "\x09", "\x01", "\x02"},   /* an allocation of unknown node 9 */
        {"\x08\x05", "\x04", "\x04", NULL, NULL, NULL}, /* a node with an unknown parent */
        {"\x08\x01", "\x02", "\x06", NULL, NULL, NULL}, /* node 1 again, another ip */
        {"\x03\x09", NULL, NULL, NULL, NULL, NULL},     /* unload of an unknown module */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        mt_lb_t b;
        mt_lb_init(&b, 1, 0);
        mt_lb_node(&b, 1, 0, 0x1000);
        mt_lb_alloc(&b, MT_ALLOC_MALLOC, 5, 10, 0x1000, 1);
        mt_lb_raw(&b, cases[k].m, strlen(cases[k].m));
        if (cases[k].s)
            mt_lb_raw_stream(&b, MT_STREAM_SIZE, cases[k].s, strlen(cases[k].s));
        if (cases[k].a)
            mt_lb_raw_stream(&b, MT_STREAM_ADDR, cases[k].a, strlen(cases[k].a));
        if (cases[k].n)
            mt_lb_raw_stream(&b, MT_STREAM_NODE, cases[k].n, strlen(cases[k].n));
        if (cases[k].p)
            mt_lb_raw_stream(&b, MT_STREAM_PARENT, cases[k].p, strlen(cases[k].p));
        if (cases[k].i)
            mt_lb_raw_stream(&b, MT_STREAM_IP, cases[k].i, strlen(cases[k].i));
        mt_lb_alloc(&b, MT_ALLOC_MALLOC, 6, 10, 0x2000, 1);
        mt_lb_exit(&b, 7, MT_EXIT_NORMAL, 0);
        mt_lb_flush(&b);
        assert_same(b.file, b.len);
        mt_lb_free(&b);
    }
}
END_TEST

/* A fork child whose heap starts as its parent's: the summary counts the inherited blocks as
 * the analysis does, from the parent's log (it leaves that log to the analysis). */
START_TEST(summary_of_a_fork_child)
{
    char dir[] = "/tmp/mt_test_summary_XXXXXX", parent[64], child[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(parent, sizeof parent, "%s/parent.mtr", dir);
    snprintf(child, sizeof child, "%s/child.mtr", dir);
    const char *argv[] = {"x"};
    mt_lb_t b;
    mt_lb_init(&b, 100, 0);
    mt_lb_process(&b, 100, 1, "/bin/x", 1, argv);
    mt_lb_origin(&b, "run", MT_ORIGIN_START, 0, 0, "");
    mt_lb_thread(&b, 100);
    mt_lb_node(&b, 1, 0, 0x1000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1, 1000, 0x10000, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2, 2000, 0x20000, 1);
    mt_lb_fork(&b, 3, 1);
    mt_lb_exit(&b, 4, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, parent);
    mt_lb_free(&b);
    mt_lb_init(&b, 101, 0);
    mt_lb_process(&b, 101, 100, "/bin/x", 1, argv);
    mt_lb_origin(&b, "run", MT_ORIGIN_FORK, 1, 0, parent);
    mt_lb_thread(&b, 101);
    mt_lb_node(&b, 1, 0, 0x5000);
    mt_lb_free_(&b, MT_TAG_FREE, 1, 0x20000); /* inherited */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2, 500, 0x50000, 1);
    mt_lb_exit(&b, 3, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, child);
    mt_lb_free(&b);
    mt_analysis_t *a;
    char err[256];
    ck_assert_int_eq(mt_analysis_load(&a, child, err, sizeof err), 0);
    mt_summary_t s;
    ck_assert_int_eq(mt_summary_load(child, &s, err, sizeof err), 0);
    mt_held_t held = mt_analysis_held(a);
    ck_assert_uint_eq(held.bytes, 1500); /* the 1000 inherited and its own 500 */
    ck_assert_uint_eq(s.leaked_bytes, held.bytes);
    ck_assert_uint_eq(s.leaked_blocks, held.blocks);
    ck_assert_uint_eq(s.frees, a->replay.frees);
    ck_assert_uint_eq(s.allocations, a->replay.allocations);
    ck_assert_uint_eq(s.peak_heap_bytes, a->replay.peak_heap_bytes);
    mt_analysis_free(a);
    unlink(parent);
    unlink(child);
    rmdir(dir);
}
END_TEST

/* One log file for the whole run, named in the runner's process before the tests fork. */
static void name_log(void)
{
    snprintf(log_path, sizeof log_path, "/tmp/mt_test_summary.%ld.mtr", (long)getpid());
}

static void remove_log(void)
{
    unlink(log_path);
}

MT_SUITE(.name = "summary", .setup_once = name_log, .teardown_once = remove_log, .timeout = 60,
         .tests = MT_TESTS(summary_equals_analysis, summary_stops_where_analysis_stops,
                           summary_of_a_fork_child));

// SPDX-License-Identifier: MIT
// The live view's figures (src/reports/live.c): stacks through the same first user line are one
// site whatever their callers, the figures of all threads and of one, the three sort keys, and
// the same figures while the analysis still grows (rows asked for between two loads).
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "check_main.h"
#include "live.h"
#include "log_builder.h"
#include "symbolizer.h"

/* Python frames need no debug information: their function, file and line are in the log.
 *   grow app.py:5 called from main app.py:10 (node 2) and from main app.py:12 (node 4): one site
 *   main app.py:10 itself (node 1)
 * thread 7 ("main"): 100 at node 2, 50 and 70 at node 1, the 70 freed
 * thread 8 ("worker"): 300 at node 4, twice (one freed) */
static void build_live_log(mt_lb_t *b)
{
    mt_lb_init(b, 42, 0);
    mt_lb_process(b, 42, 1, "/usr/bin/python3.11", 0, NULL);
    mt_lb_py_interp(b, 3, 11, MT_PY_FRAMES, 0x401000, 0x409000);
    mt_lb_py_code(b, 1, 4, "grow", "/src/app.py");
    mt_lb_py_code(b, 2, 9, "main", "/src/app.py");
    mt_lb_py_location(b, 1, 1, 5);
    mt_lb_py_location(b, 2, 2, 10);
    mt_lb_py_location(b, 3, 2, 12);
    mt_lb_node(b, 1, 0, MT_PY_IP_BIT | 2);
    mt_lb_node(b, 2, 1, MT_PY_IP_BIT | 1);
    mt_lb_node(b, 3, 0, MT_PY_IP_BIT | 3);
    mt_lb_node(b, 4, 3, MT_PY_IP_BIT | 1);
    mt_lb_thread(b, 7);
    mt_lb_thread_name(b, 7, "main");
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 10, 100, 0x10000, 2);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 11, 50, 0x11000, 1);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 12, 70, 0x12000, 1);
    mt_lb_free_(b, MT_TAG_FREE, 13, 0x12000);
    mt_lb_thread(b, 8);
    mt_lb_thread_name(b, 8, "worker");
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 14, 300, 0x20000, 4);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 15, 300, 0x21000, 4);
    mt_lb_free_(b, MT_TAG_FREE, 16, 0x21000);
    mt_lb_exit(b, 20, MT_EXIT_NORMAL, 0);
}

typedef struct fixture {
    mt_lb_t b;
    mt_analysis_t *a;
    mt_symbolizer_t *sym;
    mt_live_t *live;
} fixture_t;

static void fixture_load(fixture_t *f)
{
    char err[256];
    build_live_log(&f->b);
    ck_assert_int_eq(mt_live_new(&f->live), 0);
    /* the per-thread calls come from the allocation hook, as in memtrace run --live */
    mt_live_hooks_t hooks = {.alloc = mt_live_on_alloc, .arg = f->live};
    char path[] = "/tmp/mt-test-live-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    mt_lb_write(&f->b, path);
    ck_assert_int_eq(mt_analysis_load_live(&f->a, path, NULL, NULL, &hooks, err, sizeof err), 0);
    unlink(path);
    ck_assert_int_eq(mt_symbolizer_new(&f->sym, f->a->modules), 0);
}

static void fixture_free(fixture_t *f)
{
    mt_live_free(f->live);
    mt_symbolizer_free(f->sym);
    mt_analysis_free(f->a);
    mt_lb_free(&f->b);
}

/* One site of a query's rows: its label and figures. */
typedef struct site_want {
    const char *function, *where;
    uint64_t held, blocks, allocated, count;
} site_want_t;

/* A query of the view (mt_live_rows) and what it must give: n rows (-1: not checked), the
 * first nwant of them as want says. */
typedef struct query {
    int one_thread;
    uint64_t tid;
    enum mt_live_sort key;
    long n;
    size_t nwant;
    site_want_t want[2];
} query_t;

static void check_queries(const query_t *q, size_t nq)
{
    fixture_t f = {0};
    fixture_load(&f);
    for (size_t i = 0; i < nq; i++) {
        const mt_live_row_t *rows;
        size_t n;
        ck_assert_int_eq(
            mt_live_rows(f.live, f.a, f.sym, q[i].one_thread, q[i].tid, q[i].key, &rows, &n), 0);
        if (q[i].n >= 0)
            ck_assert_uint_eq(n, (size_t)q[i].n);
        for (size_t k = 0; k < q[i].nwant; k++) {
            const site_want_t *w = &q[i].want[k];
            const char *gf, *gw;
            mt_live_site(f.live, rows[k].site, &gf, &gw);
            ck_assert_str_eq(gf, w->function);
            ck_assert_str_eq(gw, w->where);
            ck_assert_uint_eq(rows[k].held, w->held);
            ck_assert_uint_eq(rows[k].blocks, w->blocks);
            ck_assert_uint_eq(rows[k].allocated, w->allocated);
            ck_assert_uint_eq(rows[k].count, w->count);
        }
    }
    fixture_free(&f);
}

#define GROW_ALL                                                                                   \
    {                                                                                              \
        "grow", "app.py:5", 400, 2, 700, 3                                                         \
    }
#define MAIN_ALL                                                                                   \
    {                                                                                              \
        "main", "app.py:10", 50, 1, 120, 2                                                         \
    }

START_TEST(one_site_per_user_line)
{
    /* nodes 2 and 4: two stacks, one line */
    static const query_t q[] = {{0, 0, MT_LIVE_HELD, 2, 2, {GROW_ALL, MAIN_ALL}}};
    check_queries(q, 1);
}
END_TEST

START_TEST(sort_keys)
{
    static const query_t q[] = {
        {0, 0, MT_LIVE_COUNT, 2, 1, {GROW_ALL}},
        /* thread 7 alone: main's 2 calls before grow's 1 by count, after it by held bytes */
        {1, 7, MT_LIVE_COUNT, 2, 2, {MAIN_ALL, {"grow", "app.py:5", 100, 1, 100, 1}}},
        {1, 7, MT_LIVE_ALLOCATED, -1, 1, {MAIN_ALL}},
        {1, 7, MT_LIVE_HELD, -1, 1, {{"grow", "app.py:5", 100, 1, 100, 1}}},
    };
    check_queries(q, sizeof q / sizeof q[0]);
}
END_TEST

START_TEST(one_thread)
{
    static const query_t q[] = {
        {1, 8, MT_LIVE_HELD, 1, 1, {{"grow", "app.py:5", 300, 1, 600, 2}}},
        /* a thread with no event: no rows */
        {1, 99, MT_LIVE_HELD, 0, 0, {{0}}},
    };
    check_queries(q, sizeof q / sizeof q[0]);
}
END_TEST

MT_SUITE(.name = "live", .tests = MT_TESTS(one_site_per_user_line, sort_keys, one_thread));

// SPDX-License-Identifier: MIT
// The line view (`memtrace lines`, report_lines.c) on a crafted log: own against including
// callees, a recursive line counted once per stack, the end of the script rather than of
// the log, the file and function chosen, and its errors.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "check_main.h"
#include "log_builder.h"
#include "render_lines.h"

/*
 * A script APP (argv: python3 app.py) and a library /lib/util.py:
 *   app.py:12 <module> calls work (line 5 calls helper, line 4 allocates 1000 B itself)
 *   util.py:11 helper allocates 2 x 100 B (one freed before the end of the script)
 *   app.py:9 rec calls itself 3 deep, then line 10 allocates 500 B
 * Finalization frees everything after the end of the script.
 */
static void build_lines_log(mt_lb_t *b, const char *app, int with_python)
{
    static const char *const argv[] = {"/usr/bin/python3", "app.py"};
    mt_lb_init(b, 42, 0);
    mt_lb_process(b, 42, 1, "/usr/bin/python3.11", 2, argv);
    if (with_python) {
        mt_lb_py_interp(b, 3, 11, MT_PY_FRAMES, 0, 0);
        mt_lb_py_code(b, 1, 1, "<module>", app);
        mt_lb_py_code(b, 2, 3, "work", app);
        mt_lb_py_code(b, 3, 10, "helper", "/lib/util.py");
        mt_lb_py_code(b, 4, 8, "rec", app);
        mt_lb_py_code(b, 5, 1, "<module>", "<frozen runpy>");
        mt_lb_py_code(b, 6, 1, "other", "/elsewhere/app.py");
        mt_lb_py_location(b, 1, 1, 12);
        mt_lb_py_location(b, 2, 2, 5);
        mt_lb_py_location(b, 3, 3, 11);
        mt_lb_py_location(b, 4, 2, 4);
        mt_lb_py_location(b, 5, 4, 9);
        mt_lb_py_location(b, 6, 4, 10);
        mt_lb_py_location(b, 7, 6, 2);
    }
    uint64_t py = with_python ? MT_PY_IP_BIT : 0x400000;
    mt_lb_thread(b, 7);
    mt_lb_node(b, 1, 0, py | 1);
    mt_lb_node(b, 2, 1, py | 2);
    mt_lb_node(b, 3, 2, py | 3);
    mt_lb_node(b, 4, 3, 0x401000); /* a C frame above helper's line */
    mt_lb_node(b, 5, 1, py | 4);
    mt_lb_node(b, 6, 1, py | 5);
    mt_lb_node(b, 7, 6, py | 5);
    mt_lb_node(b, 8, 7, py | 5);
    mt_lb_node(b, 9, 8, py | 6);
    mt_lb_alloc(b, MT_ALLOC_PYOBJECT, 10, 100, 0x10000, 4);
    mt_lb_alloc(b, MT_ALLOC_PYOBJECT, 11, 100, 0x10100, 4);
    mt_lb_alloc(b, MT_ALLOC_PYMEM, 12, 1000, 0x20000, 5);
    mt_lb_alloc(b, MT_ALLOC_PYMEM, 13, 500, 0x30000, 9);
    mt_lb_free_(b, MT_TAG_FREE, 14, 0x10100);
    if (with_python)
        mt_lb_py_script_end(b, 20);
    mt_lb_free_(b, MT_TAG_FREE, 30, 0x10000);
    mt_lb_free_(b, MT_TAG_FREE, 31, 0x20000);
    mt_lb_free_(b, MT_TAG_FREE, 32, 0x30000);
    mt_lb_exit(b, 40, MT_EXIT_NORMAL, 0);
    mt_lb_flush(b);
}

static mt_analysis_t *load_lines_log(const char *app, int with_python)
{
    mt_lb_t b;
    build_lines_log(&b, app, with_python);
    mt_analysis_t *a;
    char err[128];
    ck_assert_int_eq(mt_analysis_load_mem(&a, b.file, b.len, "l.mtr", err, sizeof err), 0);
    mt_lb_free(&b);
    return a;
}

/* The report of a for o, which must build. */
static void build_ok(mt_report_lines_t *rep, const mt_analysis_t *a, mt_lines_opts_t o)
{
    char err[256];
    int rc = mt_report_lines_build(rep, a, &o, err, sizeof err);
    ck_assert_msg(rc == 0, "mt_report_lines_build: %d, %s", rc, err);
}

static const mt_line_stats_t *stats_of(const mt_report_lines_t *rep, uint32_t line)
{
    for (size_t i = 0; i < rep->nstats; i++)
        if (rep->stats[i].line == line)
            return &rep->stats[i];
    return NULL;
}

/* A line's figures that a test checks: its own allocations and bytes held at the end, and
 * with its callees' the allocations, bytes allocated and bytes held at the end; NOT_CHECKED
 * where a row says nothing of a figure. */
#define NOT_CHECKED UINT64_MAX
typedef struct {
    uint32_t line;
    uint64_t own_allocations, own_end_bytes, allocations, bytes_allocated, end_bytes;
} line_want_t;

static void assert_lines(const mt_report_lines_t *rep, const line_want_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const mt_line_stats_t *st = stats_of(rep, want[i].line);
        ck_assert_ptr_nonnull(st);
        const uint64_t got[] = {st->own.allocations, st->own.end_bytes, st->incl.allocations,
                                st->incl.bytes_allocated, st->incl.end_bytes};
        const uint64_t exp[] = {want[i].own_allocations, want[i].own_end_bytes, want[i].allocations,
                                want[i].bytes_allocated, want[i].end_bytes};
        for (size_t k = 0; k < sizeof got / sizeof got[0]; k++)
            if (exp[k] != NOT_CHECKED)
                ck_assert_msg(got[k] == exp[k], "line %u, figure %zu: %llu, not %llu",
                              (unsigned)want[i].line, k, (unsigned long long)got[k],
                              (unsigned long long)exp[k]);
    }
}

START_TEST(own_and_including_callees)
{
    mt_analysis_t *a = load_lines_log("/nonexistent/w/app.py", 1);
    mt_report_lines_t rep;
    build_ok(&rep, a, (mt_lines_opts_t){0});
    /* argv's app.py names two files; the outermost unfrozen frame decides */
    ck_assert_str_eq(rep.file, "/nonexistent/w/app.py");
    ck_assert_int_eq(rep.file_is_script, 1);
    ck_assert_int_eq(rep.source_errno, ENOENT);
    ck_assert_int_eq(rep.held.at_script_end, 1);

    const mt_line_stats_t *mod = stats_of(&rep, 12);
    ck_assert_ptr_nonnull(mod);
    ck_assert_uint_eq(mod->own.allocations, 0);
    ck_assert_uint_eq(mod->incl.allocations, 4);
    ck_assert_uint_eq(mod->incl.bytes_allocated, 1700);
    ck_assert_uint_eq(mod->incl.peak_bytes, 1700);
    /* the end of the script, not of the log (finalization freed it all) */
    ck_assert_uint_eq(mod->incl.end_bytes, 1600);
    ck_assert_uint_eq(mod->incl.end_blocks, 3);

    /* line, own allocations and end bytes, with callees allocations, bytes and end bytes */
    static const line_want_t want[] = {
        /* line 5 calls into another file: nothing of its own, its callee's figures included */
        {5, 0, NOT_CHECKED, 2, 200, 100},
        {4, 1, 1000, NOT_CHECKED, NOT_CHECKED, 1000},
        /* line 9 is three times in one stack: its allocation counts once */
        {9, 0, NOT_CHECKED, 1, 500, 500},
        {10, NOT_CHECKED, 500, NOT_CHECKED, NOT_CHECKED, NOT_CHECKED},
    };
    assert_lines(&rep, want, sizeof want / sizeof want[0]);
    ck_assert_ptr_null(stats_of(&rep, 11)); /* util.py's line is not app.py's */
    ck_assert_uint_eq(rep.total.allocations, 2);
    ck_assert_uint_eq(rep.total.end_bytes, 1500);

    /* no source: functions list their lines with figures, the module its own */
    ck_assert_uint_eq(rep.nblocks, 3);
    ck_assert_str_eq(rep.blocks[0].name, "work");
    ck_assert_uint_eq(rep.blocks[0].first, 3);
    ck_assert_uint_eq(rep.blocks[0].last, 5);
    ck_assert_uint_eq(rep.blocks[0].nrows, 2);
    ck_assert_str_eq(rep.blocks[1].name, "rec");
    ck_assert_uint_eq(rep.blocks[1].nrows, 2);
    ck_assert_str_eq(rep.blocks[2].name, "<module>");
    ck_assert_uint_eq(rep.blocks[2].nrows, 1);
    ck_assert_uint_eq(rep.rows[rep.blocks[2].row0].line, 12);
    mt_report_lines_destroy(&rep);
    mt_analysis_free(a);
}
END_TEST

START_TEST(functions_shown_whole_from_the_source)
{
    char dir[] = "/tmp/mt_lines_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char app[64];
    snprintf(app, sizeof app, "%s/app.py", dir);
    FILE *f = fopen(app, "w");
    ck_assert_ptr_nonnull(f);
    fputs("import util\n\ndef work():\n    x = bytes(1000)\n    return util.helper(x)\n\n"
          "\ndef rec(k):\n    return rec(k - 1) if k else (\n        bytes(500))\n\nwork()\n",
          f);
    fclose(f);
    mt_analysis_t *a = load_lines_log(app, 1);
    mt_report_lines_t rep;
    build_ok(&rep, a, (mt_lines_opts_t){.function = "work"});
    ck_assert_int_eq(rep.source_errno, 0);
    ck_assert_uint_eq(rep.nblocks, 1);
    ck_assert_str_eq(rep.blocks[0].name, "work");
    /* every line of the function, figures or not */
    ck_assert_uint_eq(rep.blocks[0].nrows, 3);
    ck_assert_uint_eq(rep.rows[0].line, 3);
    ck_assert_ptr_null(rep.rows[0].stats);
    ck_assert_str_eq(mt_report_lines_text(&rep, 3), "def work():");
    ck_assert_uint_eq(rep.rows[2].stats->incl.end_bytes, 100);
    mt_report_lines_destroy(&rep);

    build_ok(&rep, a, (mt_lines_opts_t){0});
    ck_assert_uint_eq(rep.nblocks, 3);
    ck_assert_str_eq(rep.blocks[1].name, "rec");
    ck_assert_uint_eq(rep.blocks[1].first, 8);
    ck_assert_uint_eq(rep.blocks[1].last, 10); /* the bracket's line is the function's */
    ck_assert_uint_eq(rep.blocks[1].nrows, 3);
    mt_report_lines_destroy(&rep);
    mt_analysis_free(a);
    unlink(app);
    rmdir(dir);
}
END_TEST

START_TEST(file_and_function_choices)
{
    mt_analysis_t *a = load_lines_log("/nonexistent/w/app.py", 1);
    mt_report_lines_t rep;
    char err[256];
    mt_lines_opts_t o = {.file = "util.py"};
    ck_assert_int_eq(mt_report_lines_build(&rep, a, &o, err, sizeof err), 0);
    ck_assert_str_eq(rep.file, "/lib/util.py");
    ck_assert_int_eq(rep.file_is_script, 0);
    ck_assert_uint_eq(stats_of(&rep, 11)->own.allocations, 2);
    ck_assert_uint_eq(stats_of(&rep, 11)->own.end_bytes, 100);
    mt_report_lines_destroy(&rep);

    o = (mt_lines_opts_t){.file = "w/app.py", .function = "rec"};
    ck_assert_int_eq(mt_report_lines_build(&rep, a, &o, err, sizeof err), 0);
    ck_assert_uint_eq(rep.nblocks, 1);
    ck_assert_str_eq(rep.blocks[0].name, "rec");
    mt_report_lines_destroy(&rep);

    o = (mt_lines_opts_t){.file = "app.py"};
    ck_assert_int_eq(mt_report_lines_build(&rep, a, &o, err, sizeof err), -EEXIST);
    ck_assert_ptr_nonnull(strstr(err, "matches 2 files"));
    o = (mt_lines_opts_t){.file = "nosuch.py"};
    ck_assert_int_eq(mt_report_lines_build(&rep, a, &o, err, sizeof err), -ENOENT);
    ck_assert_ptr_nonnull(strstr(err, "no Python code from 'nosuch.py'"));
    o = (mt_lines_opts_t){.file = "pp.py"}; /* only on a '/' boundary */
    ck_assert_int_eq(mt_report_lines_build(&rep, a, &o, err, sizeof err), -ENOENT);
    o = (mt_lines_opts_t){.function = "nosuch"};
    ck_assert_int_eq(mt_report_lines_build(&rep, a, &o, err, sizeof err), -ESRCH);
    ck_assert_ptr_nonnull(strstr(err, "no function 'nosuch'"));
    mt_analysis_free(a);

    a = load_lines_log("/nonexistent/w/app.py", 0);
    ck_assert_int_eq(mt_report_lines_available(a), 0);
    o = (mt_lines_opts_t){0};
    ck_assert_int_eq(mt_report_lines_build(&rep, a, &o, err, sizeof err), -ENODATA);
    ck_assert_ptr_nonnull(strstr(err, "no Python frames"));
    mt_analysis_free(a);
}
END_TEST

/* `python3 -m pkg`: no argument names the file; runpy's frozen frames are outermost. */
START_TEST(script_of_python_m)
{
    static const char *const argv[] = {"python3", "-m", "pkg"};
    mt_lb_t b;
    mt_lb_init(&b, 42, 0);
    mt_lb_process(&b, 42, 1, "/usr/bin/python3.11", 3, argv);
    mt_lb_py_interp(&b, 3, 11, MT_PY_FRAMES, 0, 0);
    mt_lb_py_code(&b, 1, 1, "_run_module_as_main", "<frozen runpy>");
    mt_lb_py_code(&b, 2, 1, "<module>", "/w/pkg/__main__.py");
    mt_lb_py_code(&b, 3, 1, "<module>", "/usr/lib/python3.11/json/__init__.py");
    mt_lb_py_code(&b, 4, 1, "_find_and_load", "<frozen importlib._bootstrap>");
    mt_lb_py_code(&b, 5, 1, "<module>", "/usr/lib/python3.11/contextlib.py");
    mt_lb_py_location(&b, 1, 1, 198);
    mt_lb_py_location(&b, 2, 2, 3);
    mt_lb_py_location(&b, 3, 3, 40);
    mt_lb_py_location(&b, 4, 4, 1178);
    mt_lb_py_location(&b, 5, 5, 60);
    mt_lb_thread(&b, 7);
    mt_lb_node(&b, 1, 0, MT_PY_IP_BIT | 1);
    mt_lb_node(&b, 2, 1, MT_PY_IP_BIT | 2);
    mt_lb_node(&b, 3, 2, MT_PY_IP_BIT | 3); /* the script imports json */
    /* runpy imports contextlib before it runs the script, allocating more than the script */
    mt_lb_node(&b, 4, 1, MT_PY_IP_BIT | 4);
    mt_lb_node(&b, 5, 4, MT_PY_IP_BIT | 5);
    for (uint64_t i = 0; i < 5; i++)
        mt_lb_alloc(&b, MT_ALLOC_PYOBJECT, 5 + i, 16, 0x20000 + 16 * i, 5);
    mt_lb_alloc(&b, MT_ALLOC_PYOBJECT, 10, 64, 0x10000, 2);
    mt_lb_alloc(&b, MT_ALLOC_PYOBJECT, 11, 64, 0x10100, 3);
    mt_lb_alloc(&b, MT_ALLOC_PYOBJECT, 12, 64, 0x10200, 3);
    mt_lb_exit(&b, 40, MT_EXIT_NORMAL, 0);
    mt_lb_flush(&b);
    mt_analysis_t *a;
    char err[256];
    ck_assert_int_eq(mt_analysis_load_mem(&a, b.file, b.len, "m.mtr", err, sizeof err), 0);
    mt_lb_free(&b);
    mt_report_lines_t rep;
    build_ok(&rep, a, (mt_lines_opts_t){0});
    ck_assert_str_eq(rep.file, "/w/pkg/__main__.py");
    ck_assert_int_eq(rep.held.at_script_end, 0); /* no end of the script: the log's end */
    ck_assert_uint_eq(stats_of(&rep, 3)->own.end_bytes, 64);
    ck_assert_uint_eq(stats_of(&rep, 3)->incl.end_bytes, 192);
    mt_report_lines_destroy(&rep);
    mt_analysis_free(a);
}
END_TEST

START_TEST(text_and_json)
{
    mt_analysis_t *a = load_lines_log("/nonexistent/w/app.py", 1);
    mt_report_lines_t rep;
    build_ok(&rep, a, (mt_lines_opts_t){0});
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ck_assert_int_eq(mt_render_lines_text(&rep, m, 0), 0);
    fclose(m);
    MT_ASSERT_HAS(buf, "Line #", "Line Contents", "not read: No such file or directory");
    /* line 9: nothing of its own, 500 B held including its callees, one allocation */
    ck_assert_ptr_nonnull(strstr(buf, "     9          -     500 B          -     500 B"));
    free(buf);
    m = open_memstream(&buf, &len);
    ck_assert_int_eq(mt_render_lines_json(&rep, m, 0), 0);
    fclose(m);
    MT_ASSERT_HAS(buf, "\"format\":\"memtrace-lines\"", "\"held_at\":\"script_end\"",
                  "{\"line\":9,\"text\":null,\"own\":{\"allocations\":0,");
    free(buf);
    mt_report_lines_destroy(&rep);
    mt_analysis_free(a);
}
END_TEST

MT_SUITE(.name = "report_lines", .tcase = "lines",
         .tests = MT_TESTS(own_and_including_callees, functions_shown_whole_from_the_source,
                           file_and_function_choices, script_of_python_m, text_and_json));

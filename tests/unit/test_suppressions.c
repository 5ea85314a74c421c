// SPDX-License-Identifier: MIT
// Unit tests for suppressions: valgrind globs, LeakSanitizer's TemplateMatch, valgrind blocks
// (fun:, obj:, src:, '...', match-leak-kinds, leading allocator frames), LSan lines against
// function, module and file of any frame, format detection and parse errors with file:line.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "leak_class.h"
#include "suppressions.h"

START_TEST(glob)
{
    ck_assert(mt_supps_glob("malloc", "malloc"));
    ck_assert(!mt_supps_glob("malloc", "malloc2"));
    ck_assert(!mt_supps_glob("malloc", "xmalloc"));
    ck_assert(mt_supps_glob("*alloc", "xmalloc"));
    ck_assert(mt_supps_glob("*", ""));
    ck_assert(mt_supps_glob("*", "anything"));
    ck_assert(mt_supps_glob("m?lloc", "malloc"));
    ck_assert(!mt_supps_glob("m?lloc", "mlloc"));
    ck_assert(mt_supps_glob("a*b*c", "aXXbYYc"));
    ck_assert(mt_supps_glob("a*b*c", "abbbc"));
    ck_assert(!mt_supps_glob("a*b*c", "aXXbYY"));
    ck_assert(mt_supps_glob("*/libfoo.so*", "/usr/lib/libfoo.so.1.2"));
    ck_assert(!mt_supps_glob("*/libfoo.so*", "/usr/lib/libbar.so"));
    ck_assert(mt_supps_glob("std::map<*>::insert*", "std::map<int, int>::insert(int)"));
    ck_assert(mt_supps_glob("a\\*b", "a*b"));
    ck_assert(!mt_supps_glob("a\\*b", "aXb"));
    ck_assert(!mt_supps_glob("", "x"));
    ck_assert(mt_supps_glob("", ""));
}
END_TEST

START_TEST(template)
{
    /* substring unless anchored, as LeakSanitizer */
    ck_assert(mt_supps_template("foo", "foo"));
    ck_assert(mt_supps_template("foo", "libfoo.so"));
    ck_assert(mt_supps_template("foo", "myfoobar"));
    ck_assert(!mt_supps_template("^foo", "myfoo"));
    ck_assert(mt_supps_template("^foo", "foobar"));
    ck_assert(mt_supps_template("foo$", "myfoo"));
    ck_assert(!mt_supps_template("foo$", "foobar"));
    ck_assert(mt_supps_template("^foo$", "foo"));
    ck_assert(!mt_supps_template("^foo$", "foo2"));
    ck_assert(mt_supps_template("a*c", "xxabbbcyy"));
    ck_assert(!mt_supps_template("a*c", "xxcbbbayy"));
    ck_assert(mt_supps_template("^a*c$", "abc"));
    ck_assert(mt_supps_template("*$", "abc"));
    ck_assert(!mt_supps_template("foo", ""));
    ck_assert(!mt_supps_template("foo", NULL));
    ck_assert(mt_supps_template("libcrypto.so", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"));
}
END_TEST

static mt_supps_t parse_ok(const char *text)
{
    mt_supps_t s;
    char err[256];
    mt_supps_init(&s);
    int rc = mt_supps_parse(&s, text, strlen(text), "t.supp", err, sizeof err);
    if (rc != 0)
        ck_abort_msg("parse failed: %s", err);
    return s;
}

static void parse_err(const char *text, const char *want)
{
    mt_supps_t s;
    char err[256] = "";
    mt_supps_init(&s);
    ck_assert_int_lt(mt_supps_parse(&s, text, strlen(text), "t.supp", err, sizeof err), 0);
    if (!strstr(err, want))
        ck_abort_msg("error '%s' lacks '%s'", err, want);
    mt_supps_destroy(&s);
}

/* innermost first */
static const mt_supp_frame_t stack[] = {
    {"make_node", "/usr/lib/libtree.so.1", "/src/tree/node.c", 40},
    {"tree_insert", "/usr/lib/libtree.so.1", "/src/tree/tree.c", 120},
    {"load_config", "/home/u/app", "/home/u/app/config.c", 77},
    {"main", "/home/u/app", "/home/u/app/main.c", 12},
    {NULL, "/usr/lib/x86_64-linux-gnu/libc.so.6", NULL, 0},
};
#define NST (sizeof stack / sizeof stack[0])

static long m(const char *text, unsigned kind)
{
    mt_supps_t s = parse_ok(text);
    long r = mt_supps_match(&s, kind, stack, NST);
    mt_supps_destroy(&s);
    return r;
}

#define VG(body) "{\n   n\n   Memcheck:Leak\n" body "}\n"

START_TEST(valgrind_frames)
{
    ck_assert_int_eq(m(VG("   fun:make_node\n"), MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m(VG("   fun:make_node\n   fun:tree_insert\n"), MT_LEAKS_DEFINITE), 0);
    /* frames are matched from the innermost one: tree_insert is not first */
    ck_assert_int_eq(m(VG("   fun:tree_insert\n"), MT_LEAKS_DEFINITE), -1);
    ck_assert_int_eq(m(VG("   fun:make_*\n   fun:tree_?nsert\n"), MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m(VG("   obj:*/libtree.so*\n   obj:*/libtree.so*\n   fun:load_config\n"),
                       MT_LEAKS_DEFINITE),
                     0);
    ck_assert_int_eq(m(VG("   obj:/usr/lib/libtree.so.1\n"), MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m(VG("   obj:libtree.so.1\n"), MT_LEAKS_DEFINITE), -1); /* full path */
    ck_assert_int_eq(m(VG("   ...\n   fun:load_config\n"), MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m(VG("   ...\n   fun:main\n   obj:*libc.so*\n"), MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m(VG("   fun:make_node\n   ...\n   fun:main\n"), MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m(VG("   fun:make_node\n   ...\n   ...\n   fun:main\n"), MT_LEAKS_DEFINITE),
                     0);
    ck_assert_int_eq(m(VG("   ...\n   fun:main\n   fun:load_config\n"), MT_LEAKS_DEFINITE), -1);
    ck_assert_int_eq(m(VG("   ...\n   fun:nowhere\n"), MT_LEAKS_DEFINITE), -1);
    ck_assert_int_eq(m(VG("   ...\n"), MT_LEAKS_DEFINITE), 0);
    /* longer than the stack */
    ck_assert_int_eq(m(VG("   fun:make_node\n   fun:tree_insert\n   fun:load_config\n"
                          "   fun:main\n   fun:???\n   fun:extra\n"),
                       MT_LEAKS_DEFINITE),
                     -1);
    ck_assert_int_eq(m(VG("   ...\n   fun:main\n   fun:???\n"), MT_LEAKS_DEFINITE), 0);
    /* src: by path or basename, with or without a line */
    ck_assert_int_eq(m(VG("   src:node.c\n"), MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m(VG("   src:node.c:40\n"), MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m(VG("   src:node.c:41\n"), MT_LEAKS_DEFINITE), -1);
    ck_assert_int_eq(m(VG("   src:/src/tree/*.c\n   src:tree.c\n"), MT_LEAKS_DEFINITE), 0);
}
END_TEST

START_TEST(valgrind_allocator_frames_may_match_nothing)
{
    /* memcheck stacks start in malloc / operator new; memtrace's at the caller */
    ck_assert_int_eq(m(VG("   fun:malloc\n   fun:make_node\n"), MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(
        m(VG("   fun:calloc\n   fun:make_node\n   fun:tree_insert\n"), MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m(VG("   fun:_Znwm\n   fun:make_node\n"), MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m(VG("   fun:*alloc\n   fun:make_node\n"), MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m(VG("   fun:malloc\n   fun:tree_insert\n"), MT_LEAKS_DEFINITE), -1);
    ck_assert_int_eq(m(VG("   fun:strdup\n   fun:make_node\n"), MT_LEAKS_DEFINITE), -1);
}
END_TEST

START_TEST(valgrind_kinds)
{
    const char *defpos = VG("   match-leak-kinds: definite,possible\n   fun:make_node\n");
    ck_assert_int_eq(m(defpos, MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m(defpos, MT_LEAKS_POSSIBLE), 0);
    ck_assert_int_eq(m(defpos, MT_LEAKS_INDIRECT), -1);
    ck_assert_int_eq(m(defpos, MT_LEAKS_REACHABLE), -1);
    ck_assert_int_eq(m(defpos, MT_LEAKS_UNCLASSIFIED), 0);
    const char *all = VG("   match-leak-kinds: all\n   fun:make_node\n");
    ck_assert_int_eq(m(all, MT_LEAKS_REACHABLE), 0);
    ck_assert_int_eq(m(all, MT_LEAKS_INDIRECT), 0);
    const char *reach = VG("   match-leak-kinds: reachable\n   fun:make_node\n");
    ck_assert_int_eq(m(reach, MT_LEAKS_DEFINITE), -1);
    ck_assert_int_eq(m(reach, MT_LEAKS_REACHABLE), 0);
    ck_assert_int_eq(m(VG("   fun:make_node\n"), MT_LEAKS_REACHABLE), 0); /* no line: all */
}
END_TEST

START_TEST(lsan_lines)
{
    ck_assert_int_eq(m("leak:tree_insert\n", MT_LEAKS_DEFINITE), 0); /* any frame */
    ck_assert_int_eq(m("leak:libtree.so\n", MT_LEAKS_DEFINITE), 0);  /* module */
    ck_assert_int_eq(m("leak:config.c\n", MT_LEAKS_DEFINITE), 0);    /* source file */
    ck_assert_int_eq(m("leak:/home/u/app/main.c\n", MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m("leak:^tree_insert$\n", MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m("leak:^insert\n", MT_LEAKS_DEFINITE), -1);
    ck_assert_int_eq(m("leak:load_*fig\n", MT_LEAKS_DEFINITE), 0);
    ck_assert_int_eq(m("leak:nothing\n", MT_LEAKS_DEFINITE), -1);
    ck_assert_int_eq(m("leak:libc.so.6\n", MT_LEAKS_REACHABLE), 0);
    /* comments, blank lines, other sanitizers' entries; the first match wins */
    ck_assert_int_eq(m("# c\n\n  race:foo\ninterceptor_via_fun:bar\nleak:nothing\n"
                       "leak:main\nleak:make_node\n",
                       MT_LEAKS_DEFINITE),
                     1);
    mt_supps_t s = parse_ok("leak:a\r\nleak:b  \n");
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(s.v[1].frames[0].text, "b");
    ck_assert_str_eq(s.v[1].name, "leak:b");
    ck_assert_uint_eq(s.v[1].line, 2);
    mt_supps_destroy(&s);
}
END_TEST

START_TEST(valgrind_file_details)
{
    mt_supps_t s = parse_ok("# from valgrind --gen-suppressions=all\n"
                            "{\n   cond\n   Memcheck:Cond\n   fun:x\n}\n"
                            "{\n   helgrind\n   Helgrind:Race\n   fun:y\n}\n"
                            "{\n   <my leak>\n   Memcheck:Leak\n   match-leak-kinds: possible\n"
                            "   fun:make_node\n}\n");
    ck_assert_uint_eq(s.n, 1); /* only leak suppressions are kept */
    ck_assert_str_eq(s.v[0].name, "<my leak>");
    ck_assert_uint_eq(s.v[0].line, 12);
    ck_assert_uint_eq(s.v[0].kinds, 1u << MT_LEAKS_POSSIBLE);
    ck_assert_uint_eq(s.v[0].nframes, 1);
    mt_supps_destroy(&s);
}
END_TEST

START_TEST(parse_errors_name_the_line)
{
    parse_err("leak:a\njunk\n", "t.supp:2: expected 'leak:PATTERN'");
    parse_err("leak:\n", "t.supp:1: empty pattern");
    parse_err("{\n  n\n  Memcheck:Leak\n  fun:a\n", "not closed");
    parse_err("{\n  n\n  Memcheck:Leak\n  bad:a\n}\n", "t.supp:4: expected 'fun:'");
    parse_err("{\n  n\n  Memcheck:Leak\n  match-leak-kinds: lost\n  fun:a\n}\n",
              "t.supp:4: unknown leak kind");
    parse_err("{\n  n\n  Memcheck:Leak\n}\n", "without any frame");
    parse_err("{\n}\n", "without a name");
    parse_err("{\n  n\n  nocolon\n}\n", "t.supp:3: expected 'Tool:Kind'");
    parse_err("{\n  n\n  Memcheck:Leak\n  src:a.c:x\n}\n", "bad line number");
    parse_err("{\n n\n Memcheck:Leak\n fun:a\n}\nleak:x\n", "t.supp:6: expected '{'");
    mt_supps_t s;
    char err[256];
    mt_supps_init(&s);
    ck_assert_int_lt(mt_supps_load(&s, "/nonexistent/x.supp", err, sizeof err), 0);
    ck_assert_str_eq(err, "/nonexistent/x.supp: cannot open: No such file or directory");
    mt_supps_destroy(&s);
}
END_TEST

START_TEST(load_from_file)
{
    char path[256];
    snprintf(path, sizeof path, "%s/mt_supp_%d.txt", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("leak:make_node\n", f);
    fclose(f);
    mt_supps_t s;
    char err[256];
    mt_supps_init(&s);
    ck_assert_int_eq(mt_supps_load(&s, path, err, sizeof err), 0);
    ck_assert_int_eq(mt_supps_load(&s, path, err, sizeof err), 0); /* files accumulate */
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(s.v[0].file, path);
    mt_supps_destroy(&s);
    unlink(path);
}
END_TEST

START_TEST(kind_lists)
{
    unsigned mask;
    char bad[32];
    ck_assert_int_eq(mt_leakclass_parse_kinds("definite,possible", &mask, bad, sizeof bad), 0);
    ck_assert_uint_eq(mask, (1u << MT_LEAKS_DEFINITE) | (1u << MT_LEAKS_POSSIBLE));
    ck_assert_int_eq(mt_leakclass_parse_kinds("all", &mask, bad, sizeof bad), 0);
    ck_assert_uint_eq(mask, 31);
    ck_assert_int_eq(mt_leakclass_parse_kinds("none", &mask, bad, sizeof bad), 0);
    ck_assert_uint_eq(mask, 0);
    ck_assert_int_lt(mt_leakclass_parse_kinds("definite,lost", &mask, bad, sizeof bad), 0);
    ck_assert_str_eq(bad, "lost");
    ck_assert_int_lt(mt_leakclass_parse_kinds("definite,", &mask, bad, sizeof bad), 0);
    ck_assert_str_eq(bad, "");
}
END_TEST

/* Wildcards that could be placed in exponentially many ways (issue 19: four `...`/`fun:*`
 * pairs and a frame that never matches took over 100 s on a log of 40-frame stacks). The
 * matcher is a dynamic programme over (pattern frame, stack frame): these finish at once; the
 * old backtracking would run for years on the 200-frame ones (Check's per-test timeout fails
 * it). */
static long m_deep(size_t pairs, const char *last, size_t nframes)
{
    char text[1024] = "{\n   deep\n   Memcheck:Leak\n";
    for (size_t i = 0; i < pairs; i++)
        strcat(text, "   ...\n   fun:*\n");
    strcat(text, "   fun:");
    strcat(text, last);
    strcat(text, "\n}\n");
    static char names[256][8];
    mt_supp_frame_t fr[256];
    ck_assert_uint_le(nframes, 256);
    for (size_t i = 0; i < nframes; i++) {
        snprintf(names[i], sizeof names[i], "f%zu", i);
        fr[i] = (mt_supp_frame_t){names[i], "/usr/lib/libdeep.so", "deep.c", (uint32_t)i + 1};
    }
    mt_supps_t s = parse_ok(text);
    long r = mt_supps_match(&s, MT_LEAKS_DEFINITE, fr, nframes);
    mt_supps_destroy(&s);
    return r;
}

START_TEST(valgrind_wildcards_polynomial)
{
    ck_assert_int_eq(m_deep(4, "never", 40), -1); /* the file: 12 lines */
    ck_assert_int_eq(m_deep(8, "never", 200), -1);
    ck_assert_int_eq(m_deep(12, "never", 256), -1);
    /* each fun:* takes one frame: f199 has 199 frames before it, f5 only 5 for 8 of them */
    ck_assert_int_eq(m_deep(8, "f199", 200), 0);
    ck_assert_int_eq(m_deep(8, "f8", 200), 0);
    ck_assert_int_eq(m_deep(8, "f7", 200), -1);
    ck_assert_int_eq(m_deep(4, "f39", 40), 0);
    ck_assert_int_eq(m_deep(0, "f0", 40), 0);
    ck_assert_int_eq(m_deep(0, "f1", 40), -1);
}
END_TEST

MT_SUITE(.name = "suppressions", .tcase = "core",
         .tests = MT_TESTS(glob, template, valgrind_frames,
                           valgrind_allocator_frames_may_match_nothing, valgrind_kinds, lsan_lines,
                           valgrind_file_details, parse_errors_name_the_line, load_from_file,
                           kind_lists, valgrind_wildcards_polynomial));

// SPDX-License-Identifier: MIT
// Unit tests for the leak report (leaks.c): grouping, order, suppressions, unclassified logs,
// as its renderers (render_leaks.c: text, JSON, SARIF, JUnit, suppressions) and the summary
// show it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "leak_program.h"
#include "leaks.h"
#include "render.h"
#include "render_leaks.h"
#include "report_summary.h"
#include "suppressions.h"

static char *render(const mt_leaks_t *l, int fmt, unsigned fail)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mt_leaks_render_opts_t o = {.fail = fail, .source_root = "/nonexistent"};
    int rc = fmt == 0   ? mt_render_leaks_text(l, f, &o)
             : fmt == 1 ? mt_render_leaks_json(l, f, 0)
             : fmt == 2 ? mt_render_leaks_sarif(l, f, &o)
             : fmt == 3 ? mt_render_leaks_junit(l, f, &o)
                        : mt_render_leaks_suppressions(l, f);
    ck_assert_int_eq(rc, 0);
    fclose(f);
    return buf;
}

START_TEST(report_groups_orders_and_renders)
{
    mt_analysis_t *a = mt_leak_program_self();
    mt_symbolizer_t *sym = mt_leak_program_symbolizer(a);
    mt_leaks_t l;
    mt_leak_program_report(&l, a, sym);
    ck_assert_int_eq(l.classified, 1);
    ck_assert_uint_eq(l.n, 5);
    /* biggest first, indirect bytes counting for their definite owner */
    ck_assert_uint_eq(l.v[0].kind, MT_LEAKS_REACHABLE);
    ck_assert_uint_eq(l.v[1].kind, MT_LEAKS_DEFINITE);
    ck_assert_uint_eq(l.v[1].bytes, 96);
    ck_assert_uint_eq(l.v[1].indirect_bytes, 96);
    ck_assert_str_eq(l.v[1].frames[0].function, "lost_list_site");
    ck_assert_str_eq(l.v[1].frames[1].function, "caller_site");
    ck_assert_uint_eq(l.v[2].kind, MT_LEAKS_DEFINITE);
    ck_assert_uint_eq(l.v[2].bytes, 100);
    ck_assert_uint_eq(l.v[3].kind, MT_LEAKS_INDIRECT);
    ck_assert_uint_eq(l.v[4].kind, MT_LEAKS_POSSIBLE);
    ck_assert_int_eq(mt_leaks_listed(&l, &l.v[0]), 0); /* reachable not shown by default */
    ck_assert_int_eq(mt_leaks_listed(&l, &l.v[1]), 1);
    ck_assert_uint_eq(mt_leaks_failing_bytes(&l, MT_LEAKS_DEFAULT_FAIL), 260);
    ck_assert_uint_eq(mt_leaks_failing_bytes(&l, 1u << MT_LEAKS_INDIRECT), 96);
    ck_assert_int_ge(mt_render_leaks_user_frame(&l, &l.v[1]), 0);

    char *t = render(&l, 0, MT_LEAKS_DEFAULT_FAIL);
    MT_ASSERT_HAS(
        t,
        "192 (96 direct, 96 indirect) bytes in 1 blocks are "
        "definitely lost in loss record 1 of 4",
        "100 bytes in 1 blocks are definitely lost in loss record 2",
        "   definitely lost: 196 bytes in 2 blocks\n", "   indirectly lost: 96 bytes in 2 blocks\n",
        "     possibly lost: 64 bytes in 1 blocks\n", "   still reachable: 200 bytes in 1 blocks\n",
        "        suppressed: 0 bytes in 0 blocks\n", "lost_list_site");
    free(t);
    char *j = render(&l, 1, 0);
    MT_ASSERT_HAS(j, "\"classified\":true",
                  "\"totals\":{\"definite\":{\"bytes\":196,\"blocks\":2},"
                  "\"indirect\":{\"bytes\":96,\"blocks\":2},"
                  "\"possible\":{\"bytes\":64,\"blocks\":1},"
                  "\"reachable\":{\"bytes\":200,\"blocks\":1}}",
                  "{\"kind\":\"definite\",\"bytes\":96,\"blocks\":1,"
                  "\"indirect_bytes\":96,\"stack\":[{\"function\":"
                  "\"lost_list_site\"",
                  "\"suppressed\":{\"bytes\":0,\"blocks\":0}");
    free(j);
    char *s = render(&l, 2, MT_LEAKS_DEFAULT_FAIL);
    MT_ASSERT_HAS(s, "\"version\": \"2.1.0\"", "\"ruleId\": \"memtrace/definite-leak\"",
                  "\"ruleId\": \"memtrace/indirect-leak\"");
    ck_assert_ptr_nonnull(strstr(s, "\"level\": \"warning\"")); /* indirect is not failing */
    ck_assert_ptr_nonnull(strstr(s, "leak_program.c"));         /* where the sites are */
    ck_assert_ptr_nonnull(strstr(s, "\"startLine\": "));
    free(s);
    /* four listed; the indirect one is not of a failing kind: its case passes */
    char *x = render(&l, 3, MT_LEAKS_DEFAULT_FAIL);
    MT_ASSERT_HAS(x,
                  "<testsuite name=\"memtrace.leaks\" tests=\"4\" "
                  "failures=\"3\"",
                  "<failure type=\"definite\"", "<failure type=\"possible\"");
    ck_assert_ptr_null(strstr(x, "<failure type=\"indirect\""));
    free(x);
    char *g = render(&l, 4, 0);
    MT_ASSERT_HAS(g,
                  "{\n   memtrace-leak-1-definite-lost_list_site\n"
                  "   Memcheck:Leak\n   match-leak-kinds: definite\n"
                  "   fun:*\n   fun:lost_list_site\n   fun:caller_site\n",
                  "# LeakSanitizer: leak:lost_list_site\n");
    free(g);
    mt_leak_program_free(&l, sym, a);
}
END_TEST

START_TEST(report_applies_suppressions)
{
    mt_analysis_t *a = mt_leak_program_self();
    mt_symbolizer_t *sym = mt_leak_program_symbolizer(a);
    mt_supps_t s;
    mt_supps_init(&s);
    char err[256];
    const char *lsan = "# ours\nleak:lost_block_site\n";
    const char *vg = "{\n  list\n  Memcheck:Leak\n  match-leak-kinds: definite\n"
                     "  fun:malloc\n  fun:lost_list_site\n  ...\n}\n"
                     "{\n  unused\n  Memcheck:Leak\n  fun:nothing_like_this\n}\n";
    ck_assert_int_eq(mt_supps_parse(&s, lsan, strlen(lsan), "a.supp", err, sizeof err), 0);
    ck_assert_int_eq(mt_supps_parse(&s, vg, strlen(vg), "b.supp", err, sizeof err), 0);
    ck_assert_uint_eq(s.n, 3);
    mt_leaks_t l;
    ck_assert_int_eq(mt_leaks_build(&l, a, sym, &s, MT_LEAKS_DEFAULT_SHOW), 0);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_DEFINITE], 0);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_INDIRECT], 96); /* node_site's blocks stay */
    ck_assert_uint_eq(l.suppressed_bytes, 196);
    ck_assert_uint_eq(l.suppressed_blocks, 2);
    ck_assert_uint_eq(s.v[0].matched_leaks, 1);
    ck_assert_uint_eq(s.v[0].matched_bytes, 100);
    ck_assert_uint_eq(s.v[1].matched_leaks, 1);
    ck_assert_uint_eq(s.v[1].matched_bytes, 96);
    ck_assert_uint_eq(s.v[2].matched_leaks, 0);
    ck_assert_uint_eq(mt_leaks_failing_bytes(&l, MT_LEAKS_DEFAULT_FAIL), 64);
    char *j = render(&l, 1, 0);
    MT_ASSERT_HAS(j, "\"suppressed\":{\"bytes\":196,\"blocks\":2}",
                  "{\"name\":\"list\",\"file\":\"b.supp\",\"line\":1,"
                  "\"matched_leaks\":1,\"matched_bytes\":96");
    free(j);
    mt_leaks_destroy(&l);
    mt_supps_destroy(&s);
    mt_leak_program_free(NULL, sym, a);
}
END_TEST

START_TEST(unclassified_report_says_so)
{
    mt_lb_t b;
    mt_leak_program(&b, 1);
    mt_lb_exit(&b, 300, MT_EXIT_NORMAL, 0);
    mt_analysis_t *a = mt_leak_program_load(&b);
    mt_symbolizer_t *sym = mt_leak_program_symbolizer(a);
    mt_leaks_t l;
    mt_leak_program_report(&l, a, sym);
    ck_assert_int_eq(l.classified, 0);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_UNCLASSIFIED], 556);
    ck_assert_uint_eq(l.n, 5);
    char *t = render(&l, 0, MT_LEAKS_DEFAULT_FAIL);
    MT_ASSERT_HAS(t, "not run", "  not freed at exit: 556 bytes in 6 blocks\n");
    free(t);
    char *j = render(&l, 1, 0);
    MT_ASSERT_HAS(j, "\"classified\":false",
                  "\"totals\":{\"definite\":null,\"indirect\":null,"
                  "\"possible\":null,\"reachable\":null,"
                  "\"unclassified\":{\"bytes\":556,\"blocks\":6}}",
                  "\"kind\":\"unclassified\"");
    free(j);
    /* unclassified blocks fail when a lost kind does (nothing proves them reachable) */
    char *x = render(&l, 3, MT_LEAKS_DEFAULT_FAIL);
    ck_assert_ptr_nonnull(strstr(x, "failures=\"5\""));
    free(x);
    x = render(&l, 3, 0);
    ck_assert_ptr_nonnull(strstr(x, "tests=\"5\" failures=\"0\""));
    free(x);
    mt_leak_program_free(&l, sym, a);
}
END_TEST

START_TEST(junit_escapes_and_passes_when_clean)
{
    mt_lb_t b;
    mt_lb_init(&b, 1, 0);
    const char *argv[] = {"./a<b>&\"c'", "\x01\xff"};
    mt_lb_process(&b, 1, 0, "/x", 2, argv);
    mt_lb_thread(&b, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1, 10, 0x1000, 0);
    mt_lb_leak_scan(&b, 2, 1, 1, 0, 0);
    mt_lb_leak_scan_end(&b, 0);
    mt_lb_exit(&b, 3, MT_EXIT_NORMAL, 0);
    mt_analysis_t *a = mt_leak_program_load(&b);
    mt_symbolizer_t *sym = mt_leak_program_symbolizer(a);
    mt_leaks_t l;
    mt_leak_program_report(&l, a, sym);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_REACHABLE], 10);
    char *x = render(&l, 3, MT_LEAKS_DEFAULT_FAIL);
    MT_ASSERT_HAS(x, "tests=\"1\" failures=\"0\"",
                  "<testcase classname=\"memtrace.leaks\" name=\"no leaks\"/>");
    free(x);
    mt_leaks_destroy(&l);
    /* every kind shown and failing: the reachable block is a failure whose text must be
     * escaped */
    ck_assert_int_eq(mt_leaks_build(&l, a, sym, NULL, (1u << MT_LEAKS_NKINDS) - 1), 0);
    x = render(&l, 3, (1u << MT_LEAKS_NKINDS) - 1);
    ck_assert_ptr_nonnull(strstr(x, "failures=\"1\""));
    ck_assert_ptr_null(strchr(x, '\x01'));
    free(x);
    mt_leak_program_free(&l, sym, a);
}
END_TEST

START_TEST(summary_report_carries_leak_totals)
{
    mt_analysis_t *a = mt_leak_program_self();
    mt_symbolizer_t *sym = mt_leak_program_symbolizer(a);
    mt_report_summary_t rep;
    ck_assert_int_eq(mt_report_summary_build(&rep, a, sym, 3), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(mt_render_summary_json(&rep, f, 0), 0);
    mt_render_opts_t ro = {0, 0};
    ck_assert_int_eq(mt_render_summary_text(&rep, f, &ro), 0);
    fclose(f);
    MT_ASSERT_HAS(buf,
                  "\"leaks\":{\"classified\":true,"
                  "\"definite\":{\"bytes\":196,\"blocks\":2},"
                  "\"indirect\":{\"bytes\":96,\"blocks\":2},"
                  "\"possible\":{\"bytes\":64,\"blocks\":1},"
                  "\"reachable\":{\"bytes\":200,\"blocks\":1}}",
                  "  leaks              definite 196 B in 2, indirect 96 B in "
                  "2, possible 64 B in 1, reachable 200 B in 1\n");
    free(buf);
    mt_report_summary_destroy(&rep);
    mt_leak_program_free(NULL, sym, a);
}
END_TEST

START_TEST(generated_suppressions_suppress_what_they_were_made_from)
{
    mt_analysis_t *a = mt_leak_program_self();
    mt_symbolizer_t *sym = mt_leak_program_symbolizer(a);
    mt_leaks_t l;
    mt_leak_program_report(&l, a, sym);
    char *g = render(&l, 4, 0);
    mt_leaks_destroy(&l);
    mt_supps_t s;
    char err[256];
    mt_supps_init(&s);
    ck_assert_int_eq(mt_supps_parse(&s, g, strlen(g), "gen", err, sizeof err), 0);
    ck_assert_uint_eq(s.n, 4);
    ck_assert_int_eq(mt_leaks_build(&l, a, sym, &s, MT_LEAKS_DEFAULT_SHOW), 0);
    ck_assert_uint_eq(l.suppressed_bytes, 196 + 96 + 64);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_REACHABLE], 200); /* it was not listed */
    ck_assert_uint_eq(mt_leaks_failing_bytes(&l, MT_LEAKS_DEFAULT_FAIL), 0);
    mt_leaks_destroy(&l);
    mt_supps_destroy(&s);
    free(g);
    mt_leak_program_free(NULL, sym, a);
}
END_TEST

MT_SUITE(.name = "leaks", .tcase = "core",
         .tests = MT_TESTS(report_groups_orders_and_renders, report_applies_suppressions,
                           unclassified_report_says_so, junit_escapes_and_passes_when_clean,
                           summary_report_carries_leak_totals,
                           generated_suppressions_suppress_what_they_were_made_from));

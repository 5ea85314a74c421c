// SPDX-License-Identifier: MIT
// Unit tests for the leak check's analyzer half: reading LEAK_* records (and refusing corrupt
// ones), the classification snapshot with exact kinds and bytes, inconsistent scans that are
// counted and survived, the leak report (grouping, order, unclassified logs) and its renderers.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "analysis.h"
#include "leaks.h"
#include "log_builder.h"
#include "render.h"
#include "render_leaks.h"
#include "report_summary.h"
#include "suppressions.h"

__attribute__((noinline)) static uint64_t here(void)
{
    uint64_t ip = (uint64_t)__builtin_return_address(0);
    __asm__ volatile("" ::: "memory");
    return ip;
}

/* Distinct stores keep the compiler from folding the identical site functions into one. */
static volatile int sink;

__attribute__((noinline)) static uint64_t lost_block_site(void)
{
    uint64_t ip = here();
    sink = 1;
    __asm__ volatile("" ::: "memory");
    return ip;
}

__attribute__((noinline)) static uint64_t lost_list_site(void)
{
    uint64_t ip = here();
    sink = 2;
    __asm__ volatile("" ::: "memory");
    return ip;
}

__attribute__((noinline)) static uint64_t node_site(void)
{
    uint64_t ip = here();
    sink = 3;
    __asm__ volatile("" ::: "memory");
    return ip;
}

__attribute__((noinline)) static uint64_t possible_site(void)
{
    uint64_t ip = here();
    sink = 4;
    __asm__ volatile("" ::: "memory");
    return ip;
}

__attribute__((noinline)) static uint64_t reachable_site(void)
{
    uint64_t ip = here();
    sink = 5;
    __asm__ volatile("" ::: "memory");
    return ip;
}

__attribute__((noinline)) static uint64_t caller_site(void)
{
    uint64_t ip = here();
    sink = 6;
    __asm__ volatile("" ::: "memory");
    return ip;
}

enum { A = 0x10000, B = 0x20000, C = 0x30000, D = 0x40000, E = 0x50000, F = 0x60000 };

/* leak_kinds.c in miniature: definite A (100), definite B (96) owning indirect C and D (48
 * each), possible E (64), reachable F (200); 7 bytes freed before the scan. */
static void build_program(mt_lb_t *b, int self)
{
    mt_lb_init(b, 1, 0);
    if (self)
        mt_lb_self_modules(b, 1);
    mt_lb_node(b, 1, 0, caller_site());
    mt_lb_node(b, 2, 1, lost_block_site());
    mt_lb_node(b, 3, 1, lost_list_site());
    mt_lb_node(b, 4, 1, node_site());
    mt_lb_node(b, 5, 1, possible_site());
    mt_lb_node(b, 6, 1, reachable_site());
    mt_lb_thread(b, 1);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 1, 100, A, 2);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 2, 96, B, 3);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 3, 48, C, 4);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 4, 48, D, 4);
    mt_lb_alloc(b, MT_ALLOC_CALLOC, 5, 64, E, 5);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 6, 200, F, 6);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 7, 7, 0x70000, 6);
    mt_lb_free_(b, MT_TAG_FREE, 8, 0x70000);
}

static void build_scan(mt_lb_t *b)
{
    mt_lb_leak_scan(b, 100, 6, 1, 0, 8192);
    mt_lb_leak_block(b, A, 0, 0);
    mt_lb_leak_block(b, C, 1, B); /* before its leader: order must not matter */
    mt_lb_leak_block(b, B, 0, 96);
    mt_lb_leak_block(b, D, 1, B);
    mt_lb_leak_block(b, E, 2, 0);
    mt_lb_leak_scan_end(b, 5);
}

static mt_analysis_t *load(mt_lb_t *b)
{
    mt_lb_flush(b);
    mt_analysis_t *a;
    char err[256];
    ck_assert_int_eq(mt_analysis_load_mem(&a, b->file, b->len, "leaks", err, sizeof err), 0);
    mt_lb_free(b);
    return a;
}

static const mt_leak_group_t *group(const mt_analysis_t *a, uint32_t node, unsigned kind)
{
    for (size_t i = 0; i < a->leaks.ngroups; i++)
        if (a->leaks.groups[i].node == node && a->leaks.groups[i].kind == kind)
            return &a->leaks.groups[i];
    return NULL;
}

START_TEST(reader_decodes_leak_records)
{
    mt_lb_t b;
    mt_lb_init(&b, 1, 0);
    mt_lb_thread(&b, 1);
    mt_lb_leak_scan(&b, 42, 3, 4, 1, 65536);
    mt_lb_leak_block(&b, 0x7f0000002000, 0, 1216);
    mt_lb_leak_block(&b, 0x7f0000001000, 1, 0x7f0000002000); /* leader above: positive delta */
    mt_lb_leak_block(&b, 0x7f0000003000, 1, 0x7f0000002000); /* leader below: negative */
    mt_lb_leak_block(&b, 0x10, 2, 0);
    mt_lb_leak_scan_end(&b, 4);
    mt_lb_flush(&b);
    mt_reader_t *r;
    char err[256];
    mt_record_t rec;
    ck_assert_int_eq(mt_reader_open_mem(&r, b.file, b.len, "t", err, sizeof err), 0);
    ck_assert_int_eq(mt_reader_next(r, &rec), 1);
    ck_assert_uint_eq(rec.tag, MT_TAG_THREAD);
    ck_assert_int_eq(mt_reader_next(r, &rec), 1);
    ck_assert_uint_eq(rec.tag, MT_TAG_LEAK_SCAN);
    ck_assert_uint_eq(rec.time_us, 42);
    ck_assert_uint_eq(rec.a, 3);
    ck_assert_uint_eq(rec.b, 4);
    ck_assert_uint_eq(rec.c, 1);
    ck_assert_uint_eq(rec.size, 65536);
    ck_assert_int_eq(mt_reader_next(r, &rec), 1);
    ck_assert_uint_eq(rec.tag, MT_TAG_LEAK_BLOCK);
    ck_assert_uint_eq(rec.addr, 0x7f0000002000);
    ck_assert_uint_eq(rec.a, 0);
    ck_assert_uint_eq(rec.b, 1216);
    ck_assert_int_eq(mt_reader_next(r, &rec), 1);
    ck_assert_uint_eq(rec.addr, 0x7f0000001000);
    ck_assert_uint_eq(rec.a, 1);
    ck_assert_uint_eq(rec.b, 0x7f0000002000);
    ck_assert_int_eq(mt_reader_next(r, &rec), 1);
    ck_assert_uint_eq(rec.addr, 0x7f0000003000);
    ck_assert_uint_eq(rec.b, 0x7f0000002000);
    ck_assert_int_eq(mt_reader_next(r, &rec), 1);
    ck_assert_uint_eq(rec.addr, 0x10);
    ck_assert_uint_eq(rec.a, 2);
    ck_assert_uint_eq(rec.b, 0);
    ck_assert_int_eq(mt_reader_next(r, &rec), 1);
    ck_assert_uint_eq(rec.tag, MT_TAG_LEAK_SCAN_END);
    ck_assert_uint_eq(rec.a, 4);
    ck_assert_int_eq(mt_reader_next(r, &rec), 0);
    ck_assert_int_eq(mt_reader_state(r), MT_READER_END);
    mt_reader_close(r);
    mt_lb_free(&b);
}
END_TEST

START_TEST(reader_refuses_bad_leak_kind_and_cut_records)
{
    static const uint8_t bad_kind[] = {MT_TAG_LEAK_BLOCK, 0x02, 3, 0};
    static const uint8_t cut_block[] = {MT_TAG_LEAK_BLOCK, 0x02, 0}; /* definite, no bytes */
    static const uint8_t cut_scan[] = {MT_TAG_LEAK_SCAN, 1, 2, 3};
    static const uint8_t cut_end[] = {MT_TAG_LEAK_SCAN_END, 0x80};
    const uint8_t *cases[] = {bad_kind, cut_block, cut_scan, cut_end};
    const size_t lens[] = {sizeof bad_kind, sizeof cut_block, sizeof cut_scan, sizeof cut_end};
    for (size_t i = 0; i < 4; i++) {
        mt_lb_t b;
        mt_lb_init(&b, 1, 0);
        mt_lb_thread(&b, 1);
        mt_lb_raw(&b, cases[i], lens[i]);
        mt_lb_flush(&b);
        mt_reader_t *r;
        char err[256];
        mt_record_t rec;
        ck_assert_int_eq(mt_reader_open_mem(&r, b.file, b.len, "t", err, sizeof err), 0);
        ck_assert_int_eq(mt_reader_next(r, &rec), 1); /* THREAD */
        ck_assert_int_eq(mt_reader_next(r, &rec), 0);
        ck_assert_int_eq(mt_reader_state(r), MT_READER_TRUNCATED);
        mt_reader_close(r);
        mt_lb_free(&b);
    }
}
END_TEST

START_TEST(classification_exact)
{
    mt_lb_t b;
    build_program(&b, 0);
    build_scan(&b);
    mt_lb_free_(&b, MT_TAG_FREE, 200, F); /* after the scan: the verdict stays as scanned */
    mt_lb_exit(&b, 300, MT_EXIT_NORMAL, 0);
    mt_analysis_t *a = load(&b);
    const mt_leakclass_t *c = &a->leaks;
    ck_assert_int_eq(c->complete, 1);
    ck_assert_uint_eq(c->inconsistencies, 0);
    ck_assert_uint_eq(c->scan_time_us, 100);
    ck_assert_uint_eq(c->scan_blocks, 6);
    ck_assert_uint_eq(c->replay_blocks, 6);
    ck_assert_uint_eq(c->threads_stopped, 1);
    ck_assert_uint_eq(c->bytes[MT_LEAKS_DEFINITE], 196);
    ck_assert_uint_eq(c->blocks[MT_LEAKS_DEFINITE], 2);
    ck_assert_uint_eq(c->bytes[MT_LEAKS_INDIRECT], 96);
    ck_assert_uint_eq(c->blocks[MT_LEAKS_INDIRECT], 2);
    ck_assert_uint_eq(c->bytes[MT_LEAKS_POSSIBLE], 64);
    ck_assert_uint_eq(c->blocks[MT_LEAKS_POSSIBLE], 1);
    ck_assert_uint_eq(c->bytes[MT_LEAKS_REACHABLE], 200);
    ck_assert_uint_eq(c->blocks[MT_LEAKS_REACHABLE], 1);
    ck_assert_uint_eq(c->ngroups, 5);
    const mt_leak_group_t *g = group(a, 3, MT_LEAKS_DEFINITE);
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(g->bytes, 96);
    ck_assert_uint_eq(g->indirect_bytes, 96);
    g = group(a, 4, MT_LEAKS_INDIRECT);
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(g->bytes, 96);
    ck_assert_uint_eq(g->blocks, 2);
    ck_assert_uint_eq(group(a, 2, MT_LEAKS_DEFINITE)->indirect_bytes, 0);
    ck_assert_uint_eq(group(a, 6, MT_LEAKS_REACHABLE)->bytes, 200);
    ck_assert_uint_eq(a->replay.heap_bytes, 356); /* F was freed after the scan */
    mt_analysis_free(a);
}
END_TEST

START_TEST(inconsistent_scan_is_counted_not_fatal)
{
    mt_lb_t b;
    build_program(&b, 0);
    mt_lb_leak_block(&b, A, 0, 0); /* outside a scan */
    mt_lb_leak_scan(&b, 100, 6, 1, 0, 0);
    mt_lb_leak_block(&b, 0x70000, 0, 0);  /* freed before the scan: not live */
    mt_lb_leak_block(&b, 0x999999, 2, 0); /* never allocated */
    mt_lb_leak_block(&b, A, 0, 0);
    mt_lb_leak_block(&b, A, 2, 0);        /* listed twice: the first verdict stays */
    mt_lb_leak_block(&b, C, 1, 0x123456); /* leader not listed */
    mt_lb_leak_scan_end(&b, 2);           /* 5 were listed */
    mt_lb_leak_scan_end(&b, 0);           /* no scan open */
    mt_lb_exit(&b, 300, MT_EXIT_NORMAL, 0);
    mt_analysis_t *a = load(&b);
    const mt_leakclass_t *c = &a->leaks;
    ck_assert_int_eq(a->truncated, 0);
    ck_assert_int_eq(c->complete, 1);
    ck_assert_uint_eq(c->inconsistencies, 7);
    ck_assert_uint_eq(c->bytes[MT_LEAKS_DEFINITE], 100);
    ck_assert_uint_eq(c->bytes[MT_LEAKS_INDIRECT], 48);
    ck_assert_uint_eq(c->bytes[MT_LEAKS_POSSIBLE], 0);
    ck_assert_uint_eq(c->bytes[MT_LEAKS_REACHABLE], 96 + 48 + 64 + 200);
    ck_assert_uint_eq(c->blocks[MT_LEAKS_REACHABLE], 4);
    mt_analysis_free(a);
}
END_TEST

START_TEST(cut_scan_is_not_classified)
{
    mt_lb_t b;
    build_program(&b, 0);
    mt_lb_leak_scan(&b, 100, 6, 1, 0, 0);
    mt_lb_leak_block(&b, A, 0, 0);
    mt_analysis_t *a = load(&b);
    ck_assert_int_eq(a->leaks.complete, 0);
    ck_assert_int_eq(a->truncated, 1);
    mt_symbolizer_t *sym;
    ck_assert_int_eq(mt_symbolizer_new(&sym, a->modules), 0);
    mt_leaks_t l;
    ck_assert_int_eq(mt_leaks_build(&l, a, sym, NULL, MT_LEAKS_DEFAULT_SHOW), 0);
    ck_assert_int_eq(l.classified, 0);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_UNCLASSIFIED], 556);
    ck_assert_uint_eq(l.blocks[MT_LEAKS_UNCLASSIFIED], 6);
    ck_assert_uint_gt(mt_leaks_failing_bytes(&l, MT_LEAKS_DEFAULT_FAIL), 0);
    ck_assert_uint_eq(mt_leaks_failing_bytes(&l, 1u << MT_LEAKS_REACHABLE), 0);
    mt_leaks_destroy(&l);
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
}
END_TEST

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

static mt_analysis_t *self_analysis(void)
{
    mt_lb_t b;
    build_program(&b, 1);
    build_scan(&b);
    mt_lb_exit(&b, 300, MT_EXIT_NORMAL, 0);
    return load(&b);
}

START_TEST(report_groups_orders_and_renders)
{
    mt_analysis_t *a = self_analysis();
    mt_symbolizer_t *sym;
    ck_assert_int_eq(mt_symbolizer_new(&sym, a->modules), 0);
    mt_leaks_t l;
    ck_assert_int_eq(mt_leaks_build(&l, a, sym, NULL, MT_LEAKS_DEFAULT_SHOW), 0);
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
    ck_assert_ptr_nonnull(strstr(t, "192 (96 direct, 96 indirect) bytes in 1 blocks are "
                                    "definitely lost in loss record 1 of 4"));
    ck_assert_ptr_nonnull(strstr(t, "100 bytes in 1 blocks are definitely lost in loss record 2"));
    ck_assert_ptr_nonnull(strstr(t, "   definitely lost: 196 bytes in 2 blocks\n"));
    ck_assert_ptr_nonnull(strstr(t, "   indirectly lost: 96 bytes in 2 blocks\n"));
    ck_assert_ptr_nonnull(strstr(t, "     possibly lost: 64 bytes in 1 blocks\n"));
    ck_assert_ptr_nonnull(strstr(t, "   still reachable: 200 bytes in 1 blocks\n"));
    ck_assert_ptr_nonnull(strstr(t, "        suppressed: 0 bytes in 0 blocks\n"));
    ck_assert_ptr_nonnull(strstr(t, "lost_list_site"));
    free(t);
    char *j = render(&l, 1, 0);
    ck_assert_ptr_nonnull(strstr(j, "\"classified\":true"));
    ck_assert_ptr_nonnull(strstr(j, "\"totals\":{\"definite\":{\"bytes\":196,\"blocks\":2},"
                                    "\"indirect\":{\"bytes\":96,\"blocks\":2},"
                                    "\"possible\":{\"bytes\":64,\"blocks\":1},"
                                    "\"reachable\":{\"bytes\":200,\"blocks\":1}}"));
    ck_assert_ptr_nonnull(strstr(j, "{\"kind\":\"definite\",\"bytes\":96,\"blocks\":1,"
                                    "\"indirect_bytes\":96,\"stack\":[{\"function\":"
                                    "\"lost_list_site\""));
    ck_assert_ptr_nonnull(strstr(j, "\"suppressed\":{\"bytes\":0,\"blocks\":0}"));
    free(j);
    char *s = render(&l, 2, MT_LEAKS_DEFAULT_FAIL);
    ck_assert_ptr_nonnull(strstr(s, "\"version\": \"2.1.0\""));
    ck_assert_ptr_nonnull(strstr(s, "\"ruleId\": \"memtrace/definite-leak\""));
    ck_assert_ptr_nonnull(strstr(s, "\"ruleId\": \"memtrace/indirect-leak\""));
    ck_assert_ptr_nonnull(strstr(s, "\"level\": \"warning\"")); /* indirect is not failing */
    ck_assert_ptr_nonnull(strstr(s, "test_leaks.c"));
    ck_assert_ptr_nonnull(strstr(s, "\"startLine\": "));
    free(s);
    /* four listed; the indirect one is not of a failing kind: its case passes */
    char *x = render(&l, 3, MT_LEAKS_DEFAULT_FAIL);
    ck_assert_ptr_nonnull(strstr(x, "<testsuite name=\"memtrace.leaks\" tests=\"4\" "
                                    "failures=\"3\""));
    ck_assert_ptr_nonnull(strstr(x, "<failure type=\"definite\""));
    ck_assert_ptr_nonnull(strstr(x, "<failure type=\"possible\""));
    ck_assert_ptr_null(strstr(x, "<failure type=\"indirect\""));
    free(x);
    char *g = render(&l, 4, 0);
    ck_assert_ptr_nonnull(strstr(g, "{\n   memtrace-leak-1-definite-lost_list_site\n"
                                    "   Memcheck:Leak\n   match-leak-kinds: definite\n"
                                    "   fun:*\n   fun:lost_list_site\n   fun:caller_site\n"));
    ck_assert_ptr_nonnull(strstr(g, "# LeakSanitizer: leak:lost_list_site\n"));
    free(g);
    mt_leaks_destroy(&l);
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
}
END_TEST

START_TEST(report_applies_suppressions)
{
    mt_analysis_t *a = self_analysis();
    mt_symbolizer_t *sym;
    ck_assert_int_eq(mt_symbolizer_new(&sym, a->modules), 0);
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
    ck_assert_ptr_nonnull(strstr(j, "\"suppressed\":{\"bytes\":196,\"blocks\":2}"));
    ck_assert_ptr_nonnull(strstr(j, "{\"name\":\"list\",\"file\":\"b.supp\",\"line\":1,"
                                    "\"matched_leaks\":1,\"matched_bytes\":96"));
    free(j);
    mt_leaks_destroy(&l);
    mt_supps_destroy(&s);
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
}
END_TEST

START_TEST(unclassified_report_says_so)
{
    mt_lb_t b;
    build_program(&b, 1);
    mt_lb_exit(&b, 300, MT_EXIT_NORMAL, 0);
    mt_analysis_t *a = load(&b);
    mt_symbolizer_t *sym;
    ck_assert_int_eq(mt_symbolizer_new(&sym, a->modules), 0);
    mt_leaks_t l;
    ck_assert_int_eq(mt_leaks_build(&l, a, sym, NULL, MT_LEAKS_DEFAULT_SHOW), 0);
    ck_assert_int_eq(l.classified, 0);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_UNCLASSIFIED], 556);
    ck_assert_uint_eq(l.n, 5);
    char *t = render(&l, 0, MT_LEAKS_DEFAULT_FAIL);
    ck_assert_ptr_nonnull(strstr(t, "not run"));
    ck_assert_ptr_nonnull(strstr(t, "  not freed at exit: 556 bytes in 6 blocks\n"));
    free(t);
    char *j = render(&l, 1, 0);
    ck_assert_ptr_nonnull(strstr(j, "\"classified\":false"));
    ck_assert_ptr_nonnull(strstr(j, "\"totals\":{\"definite\":null,\"indirect\":null,"
                                    "\"possible\":null,\"reachable\":null,"
                                    "\"unclassified\":{\"bytes\":556,\"blocks\":6}}"));
    ck_assert_ptr_nonnull(strstr(j, "\"kind\":\"unclassified\""));
    free(j);
    /* unclassified blocks fail when a lost kind does (nothing proves them reachable) */
    char *x = render(&l, 3, MT_LEAKS_DEFAULT_FAIL);
    ck_assert_ptr_nonnull(strstr(x, "failures=\"5\""));
    free(x);
    x = render(&l, 3, 0);
    ck_assert_ptr_nonnull(strstr(x, "tests=\"5\" failures=\"0\""));
    free(x);
    mt_leaks_destroy(&l);
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
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
    mt_analysis_t *a = load(&b);
    mt_symbolizer_t *sym;
    ck_assert_int_eq(mt_symbolizer_new(&sym, a->modules), 0);
    mt_leaks_t l;
    ck_assert_int_eq(mt_leaks_build(&l, a, sym, NULL, MT_LEAKS_DEFAULT_SHOW), 0);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_REACHABLE], 10);
    char *x = render(&l, 3, MT_LEAKS_DEFAULT_FAIL);
    ck_assert_ptr_nonnull(strstr(x, "tests=\"1\" failures=\"0\""));
    ck_assert_ptr_nonnull(strstr(x, "<testcase classname=\"memtrace.leaks\" name=\"no leaks\"/>"));
    free(x);
    mt_leaks_destroy(&l);
    /* every kind shown and failing: the reachable block is a failure whose text must be
     * escaped */
    ck_assert_int_eq(mt_leaks_build(&l, a, sym, NULL, (1u << MT_LEAKS_NKINDS) - 1), 0);
    x = render(&l, 3, (1u << MT_LEAKS_NKINDS) - 1);
    ck_assert_ptr_nonnull(strstr(x, "failures=\"1\""));
    ck_assert_ptr_null(strchr(x, '\x01'));
    free(x);
    mt_leaks_destroy(&l);
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
}
END_TEST

START_TEST(summary_report_carries_leak_totals)
{
    mt_analysis_t *a = self_analysis();
    mt_symbolizer_t *sym;
    ck_assert_int_eq(mt_symbolizer_new(&sym, a->modules), 0);
    mt_report_summary_t rep;
    ck_assert_int_eq(mt_report_summary_build(&rep, a, sym, 3), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(mt_render_summary_json(&rep, f, 0), 0);
    mt_render_opts_t ro = {0, 0};
    ck_assert_int_eq(mt_render_summary_text(&rep, f, &ro), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "\"leaks\":{\"classified\":true,"
                                      "\"definite\":{\"bytes\":196,\"blocks\":2},"
                                      "\"indirect\":{\"bytes\":96,\"blocks\":2},"
                                      "\"possible\":{\"bytes\":64,\"blocks\":1},"
                                      "\"reachable\":{\"bytes\":200,\"blocks\":1}}"));
    ck_assert_ptr_nonnull(strstr(buf, "  leaks              definite 196 B in 2, indirect 96 B in "
                                      "2, possible 64 B in 1, reachable 200 B in 1\n"));
    free(buf);
    mt_report_summary_destroy(&rep);
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
}
END_TEST

START_TEST(generated_suppressions_suppress_what_they_were_made_from)
{
    mt_analysis_t *a = self_analysis();
    mt_symbolizer_t *sym;
    ck_assert_int_eq(mt_symbolizer_new(&sym, a->modules), 0);
    mt_leaks_t l;
    ck_assert_int_eq(mt_leaks_build(&l, a, sym, NULL, MT_LEAKS_DEFAULT_SHOW), 0);
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
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
}
END_TEST

/* Random scans, consistent or not: never a crash, and whatever the records say, every block
 * live at the end of the scan is counted exactly once in exactly one kind. */
START_TEST(random_scans_keep_the_books_balanced)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int iter = 0; iter < 300; iter++) {
        mt_lb_t b;
        mt_lb_init(&b, 1, (size_t)(64 + iter % 200)); /* small chunks: deltas across chunks */
        mt_lb_node(&b, 1, 0, 0x400000);
        mt_lb_thread(&b, 1);
        uint64_t live_bytes = 0, live_blocks = 0, t = 1;
        int live[64] = {0};
        for (int i = 0; i < 64; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            if ((x >> 60) < 12) {
                mt_lb_alloc(&b, MT_ALLOC_MALLOC, t++, (uint64_t)i + 1,
                            0x10000 + 0x100 * (uint64_t)i, 1);
                live[i] = 1;
            }
        }
        int scans = 1 + (int)((x >> 20) % 3);
        for (int sc = 0; sc < scans; sc++) {
            mt_lb_leak_scan(&b, t++, 64, 0, 0, 0);
            int n = (int)((x >> 8) % 40), listed = 0;
            for (int k = 0; k < n; k++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                uint64_t addr = 0x10000 + 0x100 * ((x >> 33) % 70);
                unsigned kind = (unsigned)((x >> 13) % 3);
                uint64_t extra = kind == 1 ? 0x10000 + 0x100 * ((x >> 40) % 64) : (x >> 50);
                mt_lb_leak_block(&b, addr, kind, extra);
                listed++;
            }
            mt_lb_leak_scan_end(&b, (x >> 5) % 2 ? (uint64_t)listed : (uint64_t)listed + 1);
        }
        for (int i = 0; i < 64; i++) {
            if (live[i]) {
                live_bytes += (uint64_t)i + 1;
                live_blocks++;
            }
        }
        mt_lb_exit(&b, t, MT_EXIT_NORMAL, 0);
        mt_analysis_t *a = load(&b);
        ck_assert_int_eq(a->leaks.complete, 1);
        uint64_t bytes = 0, blocks = 0, gbytes = 0;
        for (unsigned k = 0; k < MT_LEAKS_NKINDS; k++) {
            bytes += a->leaks.bytes[k];
            blocks += a->leaks.blocks[k];
        }
        for (size_t i = 0; i < a->leaks.ngroups; i++)
            gbytes += a->leaks.groups[i].bytes;
        ck_assert_uint_eq(bytes, live_bytes);
        ck_assert_uint_eq(gbytes, live_bytes);
        ck_assert_uint_eq(blocks, live_blocks);
        ck_assert_uint_eq(a->leaks.bytes[MT_LEAKS_UNCLASSIFIED], 0);
        mt_analysis_free(a);
    }
}
END_TEST

const mt_suite_t mt_suite = {
    .name = "leaks",
    .tcase = "core",
    .tests = MT_TESTS(reader_decodes_leak_records, reader_refuses_bad_leak_kind_and_cut_records,
                      classification_exact, inconsistent_scan_is_counted_not_fatal,
                      cut_scan_is_not_classified, report_groups_orders_and_renders,
                      report_applies_suppressions, unclassified_report_says_so,
                      junit_escapes_and_passes_when_clean, summary_report_carries_leak_totals,
                      random_scans_keep_the_books_balanced,
                      generated_suppressions_suppress_what_they_were_made_from),
};

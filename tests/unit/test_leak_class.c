// SPDX-License-Identifier: MIT
// Unit tests of the leak classification (leak_class.c): the snapshot of the leak check's
// verdicts with exact kinds and bytes, inconsistent scans that are counted and survived, cut
// scans left unclassified, and the books balanced over random scans.
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "leak_program.h"
#include "leaks.h"

static const mt_leak_group_t *group(const mt_analysis_t *a, uint32_t node, unsigned kind)
{
    for (size_t i = 0; i < a->leaks.ngroups; i++)
        if (a->leaks.groups[i].node == node && a->leaks.groups[i].kind == kind)
            return &a->leaks.groups[i];
    return NULL;
}

START_TEST(classification_exact)
{
    mt_lb_t b;
    mt_leak_program(&b, 0);
    mt_leak_program_scan(&b);
    mt_lb_free_(&b, MT_TAG_FREE, 200, F); /* after the scan: the verdict stays as scanned */
    mt_lb_exit(&b, 300, MT_EXIT_NORMAL, 0);
    mt_analysis_t *a = mt_leak_program_load(&b);
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
    mt_leak_program(&b, 0);
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
    mt_analysis_t *a = mt_leak_program_load(&b);
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
    mt_leak_program(&b, 0);
    mt_lb_leak_scan(&b, 100, 6, 1, 0, 0);
    mt_lb_leak_block(&b, A, 0, 0);
    mt_analysis_t *a = mt_leak_program_load(&b);
    ck_assert_int_eq(a->leaks.complete, 0);
    ck_assert_int_eq(a->truncated, 1);
    mt_symbolizer_t *sym = mt_leak_program_symbolizer(a);
    mt_leaks_t l;
    mt_leak_program_report(&l, a, sym);
    ck_assert_int_eq(l.classified, 0);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_UNCLASSIFIED], 556);
    ck_assert_uint_eq(l.blocks[MT_LEAKS_UNCLASSIFIED], 6);
    ck_assert_uint_gt(mt_leaks_failing_bytes(&l, MT_LEAKS_DEFAULT_FAIL), 0);
    ck_assert_uint_eq(mt_leaks_failing_bytes(&l, 1u << MT_LEAKS_REACHABLE), 0);
    mt_leak_program_free(&l, sym, a);
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
        mt_analysis_t *a = mt_leak_program_load(&b);
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

MT_SUITE(.name = "leak_class", .tcase = "core",
         .tests = MT_TESTS(classification_exact, inconsistent_scan_is_counted_not_fatal,
                           cut_scan_is_not_classified, random_scans_keep_the_books_balanced));

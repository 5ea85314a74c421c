// SPDX-License-Identifier: MIT
// Unit tests of the peak report (report_peak.c) on a crafted log: the sites that held the
// heap at its high-water mark, exactly.
#include <stdio.h>
#include <stdlib.h>

#include "check_main.h"
#include "crafted_log.h"
#include "render_peak.h"

START_TEST(peak_sites_exact)
{
    mt_crafted_begin();
    uint64_t t = 10;
    /* node 3 churns 100 x 1000 bytes, one at a time: 100,000 in total, the most of any */
    for (int i = 0; i < 100; i++) {
        mt_lb_alloc(&b, MT_ALLOC_MALLOC, t++, 1000, 0x900000, 3);
        mt_lb_free_(&b, MT_TAG_FREE, t++, 0x900000);
    }
    /* node 1 holds 3 x 1000, node 2 holds 2 x 500: peak 4000 at the 5th alloc */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1000, 1000, 0x10000, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1001, 500, 0x20000, 2);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1002, 1000, 0x11000, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1003, 500, 0x21000, 2);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1004, 1000, 0x12000, 1);
    mt_lb_free_(&b, MT_TAG_FREE, 1005, 0x10000);
    mt_lb_free_(&b, MT_TAG_FREE, 1006, 0x11000);
    /* below the peak afterwards: node 2 grows to 1500 but the total stays 3500 */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1007, 500, 0x22000, 2);
    mt_lb_exit(&b, 2000, MT_EXIT_NORMAL, 0);
    mt_crafted_load();
    mt_report_peak_t rep;
    ck_assert_int_eq(mt_report_peak_build(&rep, a, sym, 10), 0);
    ck_assert_uint_eq(a->replay.peak_heap_bytes, 4000);
    ck_assert_uint_eq(a->replay.peak_time_us, 1004);
    ck_assert_uint_eq(rep.n, 2); /* node 3 held nothing at the peak: not listed */
    const mt_site_t *s0 = &rep.sites.v[rep.idx[0]], *s1 = &rep.sites.v[rep.idx[1]];
    ck_assert_uint_eq(s0->peak_bytes, 3000);
    ck_assert_uint_eq(s0->peak_blocks, 3);
    ck_assert_uint_eq(s0->frames[0].address, 0x1000);
    ck_assert_uint_eq(s1->peak_bytes, 1000);
    ck_assert_uint_eq(s1->peak_blocks, 2);
    ck_assert_uint_eq(s1->frames[0].address, 0x2000);
    mt_report_peak_destroy(&rep);

    /* --top 1: the rest is summed, not dropped */
    ck_assert_int_eq(mt_report_peak_build(&rep, a, sym, 1), 0);
    ck_assert_uint_eq(rep.n, 1);
    ck_assert_uint_eq(rep.other_sites, 1);
    ck_assert_uint_eq(rep.other_bytes, 1000);
    ck_assert_uint_eq(rep.other_blocks, 2);

    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert_int_eq(mt_render_peak_json(&rep, f, 0), 0);
    fclose(f);
    MT_ASSERT_HAS(out, "\"peak_heap_bytes\":4000,",
                  "\"sites\":[{\"bytes\":3000,\"blocks\":3,\"stack\":[", "\"peak_rss_bytes\":null");
    free(out);
    mt_report_peak_destroy(&rep);
}
END_TEST

MT_SUITE(.name = "report_peak", .tcase = "peak", .teardown = mt_crafted_teardown,
         .tests = MT_TESTS(peak_sites_exact));

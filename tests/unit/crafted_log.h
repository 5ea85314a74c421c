// SPDX-License-Identifier: MIT
// The fixture of the report and renderer tests (test_report_peak.c, test_report_fragmentation.c,
// test_render_svg_timeline.c, test_flame_tree.c, test_render_flamegraph.c, test_render_html.c):
// one log crafted with log_builder into `b`, loaded into `a` with its symbolizer `sym` (and its
// sites), freed by the Check teardown. Stacks are bare addresses (no modules), so sites and
// frames are told apart by their address. Test-only: fails the test on any error.
#ifndef MT_TEST_CRAFTED_LOG_H
#define MT_TEST_CRAFTED_LOG_H

#include "analysis.h"
#include "flame_tree.h"
#include "log_builder.h"
#include "sites.h"
#include "symbolizer.h"

extern mt_lb_t b;
extern mt_analysis_t *a;
extern mt_symbolizer_t *sym;
extern mt_sites_t sites;

/* Starts b: pid 100, thread 1, three sites: node 1 (0x1000), node 2 (0x2000), node 3 (0x3000). */
void mt_crafted_begin(void);
/* Ends b and loads it as "test.mtr" into a, with sym over its modules. */
void mt_crafted_load(void);
/* mt_crafted_load, and the sites of a. */
void mt_crafted_load_sites(void);
/* Check teardown: frees what the test loaded and b. */
void mt_crafted_teardown(void);

/* The flame graph's log, loaded with its sites. Trace nodes: 1 main, 2 main>f, 3 main>g,
 * 4 main>f>h, 5 main>g>f (f under g is another node of the tree than f under main). Events
 * of one thread:
 *   g allocates 50 and frees it, twice           (2 temporary allocations)
 *   f allocates 100, kept to the end             (leaked)
 *   h allocates 300 then 200: heap 600, the peak
 *   both freed; g>f allocates 40, kept           (leaked) */
enum { MAIN = 0xA0, F = 0xB0, G = 0xC0, H = 0xD0 };
/* Starts b for a flame graph: pid 100, thread 1, trace node 1 main (MAIN). */
void mt_crafted_begin_main(void);
void mt_crafted_flame(void);
/* The flame tree of a and sites for cost (asserts it builds). */
void mt_crafted_flame_tree(mt_flame_tree_t *t, enum mt_cost cost, double min_share, size_t max);

#endif

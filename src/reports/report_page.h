// SPDX-License-Identifier: MIT
// Every report the HTML page shows, built once before a byte is drawn: the summary, leaks,
// fragmentation, threads, the script line by line (Python) and the flame trees of the peak and
// of what was held at the end. No I/O: render_html.c draws a built page.
#ifndef MT_REPORT_PAGE_H
#define MT_REPORT_PAGE_H

#include <stddef.h>

#include "analysis.h"
#include "flame_tree.h"
#include "leaks.h"
#include "report_fragmentation.h"
#include "report_lines.h"
#include "report_summary.h"
#include "report_threads.h"
#include "symbolizer.h"
#include "window_series.h"

/* MT_PAGE_FLAME_WINDOW costs the bytes allocated: the one the page redraws for a window. */
enum mt_page_flame {
    MT_PAGE_FLAME_WINDOW,
    MT_PAGE_FLAME_PEAK,
    MT_PAGE_FLAME_LEAKED,
    MT_PAGE_FLAMES
};

/* The groups of the window series (window_series.h): first a group per node of the flame tree
 * MT_PAGE_FLAME_WINDOW (the sites drawn in it as their innermost box), then one per site of
 * summary.by_bytes (the rows of the sites table). */
enum mt_page_wmap { MT_PAGE_WMAP_FLAME, MT_PAGE_WMAP_SITES, MT_PAGE_WMAP_PEAK };
/* Rows of the sites table with window figures (`--top 0` may draw more; they have none). */
#define MT_PAGE_WSITES 500u
/* Lines of the script's table with window figures (the first by line number). */
#define MT_PAGE_WLINES 500u

typedef struct mt_report_page {
    const mt_analysis_t *a;
    mt_report_summary_t summary;
    mt_leaks_t leaks;
    mt_report_fragmentation_t frag;
    mt_report_threads_t threads;
    /* The flame trees of summary.sites: MT_PAGE_FLAME_WINDOW costs MT_COST_ALLOCATED,
     * MT_PAGE_FLAME_PEAK MT_COST_PEAK, MT_PAGE_FLAME_LEAKED MT_COST_LEAKED. */
    mt_flame_tree_t flame[MT_PAGE_FLAMES];
    /* The script line by line, for a log with Python frames only (has_lines). lines_rc < 0:
     * it could not be built (the source is missing, ...), lines_err says why in one line. */
    int has_lines;
    int lines_rc;
    char lines_err[512];
    mt_report_lines_t lines;
    /* The series of the page's window chart (nb = 0: none, the log cannot be read again), and
     * its groups: wseries.g[i] for node i of flame[MT_PAGE_FLAME_WINDOW] (i < its n), then
     * wseries.g[flame n + r] for the site summary.by_bytes[r], r < MT_PAGE_WSITES; then for
     * lines.stats[i], i < wlines, its own figures at wlines_at + i and its incl. ones at
     * wlines_at + wlines + i; then for node i of flame[MT_PAGE_FLAME_PEAK], wpeak_at + i, with
     * what it held at each bucket's peak (wseries.g[].pk), wpeak of them (0: none). */
    mt_wseries_t wseries;
    size_t wlines, wlines_at, wpeak, wpeak_at;
} mt_report_page_t;

/* top: rows per table; flame[k]: how to build flame tree k (its cost is set here). 0 or
 * -ENOMEM; on failure nothing is left to destroy. */
int mt_report_page_build(mt_report_page_t *p, const mt_analysis_t *a, mt_symbolizer_t *sym,
                         size_t top, const mt_flame_opts_t flame[MT_PAGE_FLAMES]) MT_WUR;
void mt_report_page_destroy(mt_report_page_t *p);

#endif

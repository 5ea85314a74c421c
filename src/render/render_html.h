// SPDX-License-Identifier: MIT
// `memtrace html`: one self-contained page (no network access) with the summary, the
// timeline, flame graphs of the peak and of the leaks, and the top sites, leak and
// fragmentation tables. Everything is summarized (top rows, pruned trees, a bounded timeline),
// so the page's size is bounded whatever the number of events (docs: README, memtrace(1)).
#ifndef MT_RENDER_HTML_H
#define MT_RENDER_HTML_H

#include <stdio.h>

#include "analysis.h"
#include "symbolizer.h"

typedef struct mt_html_opts {
    const char *title;   /* NULL: "memtrace report: FILE" */
    const char *version; /* shown in the footer; may be NULL */
    size_t top;          /* rows per table (0: 20) */
    size_t frames;       /* frames per stack in the tables (0: 30) */
    double min_share;    /* flame graphs: frames below this share merged (0: 0.001) */
    size_t max_nodes;    /* flame graphs: frames drawn at most, per graph (0: 3000) */
    /* The run's processes when the page is about one of several logs (NULL: one log). */
    const struct mt_ptree *processes;
} mt_html_opts_t;

/* Builds the page's reports once (report_page.h), each flame tree to fit its byte budget
 * in the page, then draws them. 0, -ENOMEM or -EIO. */
int mt_render_html(const mt_analysis_t *a, mt_symbolizer_t *sym, FILE *out,
                   const mt_html_opts_t *o) MT_WUR;

#endif

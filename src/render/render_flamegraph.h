// SPDX-License-Identifier: MIT
// `memtrace flamegraph`: a flame tree (flame_tree.h) as an SVG, root at the top, a rectangle
// per frame with its width proportional to the cost. The rectangles, labels and tooltips are
// static SVG (the picture shows anywhere, also as an <img>); the inline script adds zoom on
// click, search with the matched share and a details line. Never refers to anything outside.
#ifndef MT_RENDER_FLAMEGRAPH_H
#define MT_RENDER_FLAMEGRAPH_H

#include <stdio.h>

#include "analysis.h"
#include "flame_tree.h"

typedef struct mt_flame_svg_opts {
    const char *title; /* NULL: "memtrace flame graph: <cost>" */
    const char *note;  /* an extra line under the title (may be NULL) */
    unsigned width;    /* pixels; 0: 1200 */
    /* 0: a standalone SVG document with its style and script; 1: an <svg> element for an HTML
     * page that writes mt_flame_write_css/js once for all its graphs. */
    int embedded;
} mt_flame_svg_opts_t;

/* 0 or -EIO. */
int mt_render_flamegraph_svg(const mt_flame_tree_t *t, const mt_analysis_t *a, FILE *out,
                             const mt_flame_svg_opts_t *o) MT_WUR;

/* A size callback for mt_flame_opts_t: the bytes of the tree's SVG with opts svg (counted,
 * not kept). Large profiles stay quick to open: the cap keeps what can be seen and merges the
 * rest into "other" boxes with their exact cost. */
typedef struct mt_flame_budget {
    const mt_analysis_t *a;
    const mt_flame_svg_opts_t *svg;
} mt_flame_budget_t;
size_t mt_flame_svg_size(const mt_flame_tree_t *t, void *budget);

/* The default budget of a standalone flame graph: under 2 MB, which Chromium opens in well
 * under a second (tests/integration/mt_viz.py, large-flamegraph). */
#define MT_FLAME_SVG_MAX_BYTES 2000000u

/* The style and the script the graphs need (no <style>/<script> tags around them). */
void mt_flame_write_css(FILE *out);
void mt_flame_write_js(FILE *out);

/* What a cost measures, for titles: "bytes held at the heap peak". */
const char *mt_flame_cost_caption(enum mt_cost cost);
/* The same for a log: a Python script's leaked bytes are those held when it ended. */
const char *mt_flame_cost_caption_of(enum mt_cost cost, const mt_analysis_t *a);

#endif

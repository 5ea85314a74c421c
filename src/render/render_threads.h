// SPDX-License-Identifier: MIT
// Per-thread views as text and JSON: the thread table, the line that says which threads a
// --thread report covers, and the thread column of the site tables. The HTML page draws the
// rows as lanes (render_html.c). Writes only to the stream it is given.
#ifndef MT_RENDER_THREADS_H
#define MT_RENDER_THREADS_H

#include <stdio.h>

#include "json_writer.h"
#include "report_threads.h"
#include "sites.h"

/* "threads": [{"tid", "name", "allocations", "bytes_allocated", "peak_bytes", "peak_time_s",
 * "bytes_at_peak", "blocks_at_peak", "held_bytes", "held_blocks", "first_s", "last_s"}, ...]
 * and "thread_filter" (null, or the threads --thread selected): two keys of the object being
 * written. 0 or -ENOMEM. */
int mt_render_threads_json(mt_json_t *j, const mt_analysis_t *a) MT_WUR;
/* "window": {"from_s", "to_s", "to_end_of_log"} of --from/--to, and nothing at all without a
 * window (the output stays byte for byte what it was). The thread filter's functions below
 * write it first, so every report that says whose blocks it counts says when, too. */
void mt_render_window_json(mt_json_t *j, const mt_analysis_t *a);
/* "  window             0.400 s to 0.750 s: ..." (nothing without a window). */
void mt_render_window_text(FILE *o, const mt_analysis_t *a, int width);
/* "window 0.400 s to 0.750 s: allocated in it, held at its end" in buf, for a page or an
 * image; NULL without a window. */
const char *mt_window_note(char *buf, size_t len, const mt_analysis_t *a);
/* "thread_filter" alone: for the reports that list no threads (null without --thread). */
void mt_render_thread_filter_json(mt_json_t *j, const mt_analysis_t *a);
/* What the text reports say of an aggregated log (analysis.h) in their header; the JSON ones
 * have "aggregated": true (the key is only in those). */
#define MT_RENDER_AGGREGATED                                                                       \
    "aggregated (memtrace run --aggregate): sites, peak and what was held at the end; no "         \
    "events, so no timeline, threads or lifetimes"
/* A "threads" section: a header line, then one aligned row per thread, at most max (0: all).
 * 0 or -ENOMEM. */
int mt_render_threads_text(FILE *o, const mt_analysis_t *a, int colour, size_t max) MT_WUR;
/* With --thread, "  threads            loader-1 (4243), ... only" as a report's header row, the
 * label padded to width; nothing without. */
void mt_render_thread_filter_text(FILE *o, const mt_analysis_t *a, int width);
/* The threads --thread selected, "label (tid), label (tid)", each label written by put (the
 * page's escaper or the terminal's); after max of them, ", ... N more" ends the list. */
void mt_render_thread_list(FILE *o, const mt_analysis_t *a, void (*put)(FILE *, const char *),
                           size_t max);

/* "heap of thread worker-0 (4243) only" style note for titles: "threads " and the selected
 * threads, then " only"; NULL without --thread. Raw: escape it to print. */
const char *mt_thread_filter_note(char *buf, size_t len, const mt_analysis_t *a);

/* A site's thread column: keys "thread_count" and "threads" ([{"tid", "name"}], at most
 * MT_SITE_THREADS_LISTED of them) of the site object being written. */
#define MT_SITE_THREADS_LISTED 32u
void mt_render_site_threads_json(mt_json_t *j, const mt_analysis_t *a, const mt_site_t *s);
/* The end of a site object: its "stack", then its thread column (keys are added at the end, so
 * they come after the stack), then the object's close. */
void mt_render_site_end_json(mt_json_t *j, const mt_analysis_t *a, const mt_site_t *s);
/* The same as text after a site's figures: ", thread worker-1 (4243)" or ", 3 threads:
 * worker-1 4243, worker-2 4244, main 4242"; nothing for a site no thread allocated at. */
void mt_render_site_threads_text(FILE *o, const mt_analysis_t *a, const mt_site_t *s);
/* The same into buf, for a table cell (HTML): "worker-1 (4243)", "3 threads: ..." (the first
 * three, then "..."). Raw: escape it to print. */
const char *mt_site_threads_label(char *buf, size_t len, const mt_analysis_t *a,
                                  const mt_site_t *s);

#endif

// SPDX-License-Identifier: MIT
// The `memtrace peak` report: the heap's high-water mark (when, how much) and the sites that
// held it at that moment, biggest first, plus the peak RSS. Uses the replay's exact per-stack
// snapshot at the peak, so a site that churns but never holds much is never listed.
#ifndef MT_REPORT_PEAK_H
#define MT_REPORT_PEAK_H

#include <stdio.h>

#include "analysis.h"
#include "sites.h"
#include "symbolizer.h"

typedef struct mt_report_peak {
    const mt_analysis_t *a;
    mt_sites_t sites;
    size_t *idx, n;       /* the top sites by bytes held at the peak */
    uint64_t other_bytes; /* held at the peak by sites beyond the top n */
    uint64_t other_blocks;
    size_t other_sites;
} mt_report_peak_t;

int mt_report_peak_build(mt_report_peak_t *rep, const mt_analysis_t *a, mt_symbolizer_t *sym,
                         size_t top) MT_WUR;
void mt_report_peak_destroy(mt_report_peak_t *rep);

/* The peak in one line with no newline, for the reason of a failed --fail-peak-above, with
 * verdict after the figure: "peak heap 9.54 MiB (10,000,123 B) at 00:01.2<verdict>; the most
 * held then, 8,000,057 bytes, allocated at test_big.py:5 in test_big". Raw: escape it for
 * text. */
void mt_render_peak_reason(const mt_report_peak_t *rep, const char *verdict, char *buf, size_t len);

/* Both return 0 or -EIO. colour: ANSI escapes; max_frames: frames per stack (0: all). */
int mt_render_peak_text(const mt_report_peak_t *rep, FILE *out, int colour,
                        size_t max_frames) MT_WUR;
int mt_render_peak_json(const mt_report_peak_t *rep, FILE *out, int pretty) MT_WUR;

#endif

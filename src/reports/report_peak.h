// SPDX-License-Identifier: MIT
// The `memtrace peak` report: the heap's high-water mark (when, how much) and the sites that
// held it at that moment, biggest first, plus the peak RSS. Uses the replay's exact per-stack
// snapshot at the peak, so a site that churns but never holds much is never listed.
#ifndef MT_REPORT_PEAK_H
#define MT_REPORT_PEAK_H

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

#endif

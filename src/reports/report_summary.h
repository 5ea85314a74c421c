// SPDX-License-Identifier: MIT
// The `memtrace report` summary: totals, peak, leaked at exit, anonymous mmap kept apart, and
// the top allocation sites by bytes and by count. Built from an analysis and a symbolizer;
// rendered by render_text.c / render_json.c. More sections (leak kinds, temporary allocations)
// are added as fields here and keys there, never by changing the meaning of existing ones.
#ifndef MT_REPORT_SUMMARY_H
#define MT_REPORT_SUMMARY_H

#include <stddef.h>

#include "analysis.h"
#include "histograms.h"
#include "sites.h"
#include "symbolizer.h"

typedef struct mt_report_summary {
    const mt_analysis_t *a;
    mt_symbolizer_t *sym; /* borrowed: frames point at its strings */
    char *command;
    mt_histograms_t hist; /* block lifetimes, allocation sizes */
    mt_sites_t sites;
    size_t *by_bytes, nby_bytes; /* indices into sites.v */
    size_t *by_count, nby_count;
    size_t *by_temporary, nby_temporary;
} mt_report_summary_t;

int mt_report_summary_build(mt_report_summary_t *rep, const mt_analysis_t *a, mt_symbolizer_t *sym,
                            size_t top) MT_WUR;
void mt_report_summary_destroy(mt_report_summary_t *rep);

#endif

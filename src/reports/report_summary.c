// SPDX-License-Identifier: MIT
// Builds the summary report (see report_summary.h). Symbolizes only nodes that allocated, and
// keeps the frames of the sites it shows; prints nothing.
#include "report_summary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int mt_report_summary_build(mt_report_summary_t *rep, const mt_analysis_t *a, mt_symbolizer_t *sym,
                            size_t top)
{
    memset(rep, 0, sizeof *rep);
    rep->a = a;
    rep->sym = sym;
    rep->command = mt_analysis_command(a);
    if (!rep->command)
        return -ENOMEM;
    mt_histograms_build(&rep->hist, &a->replay);
    int rc = mt_sites_build(&rep->sites, a, sym);
    if (rc < 0) {
        mt_report_summary_destroy(rep);
        return rc;
    }
    size_t n = top < rep->sites.n ? top : rep->sites.n;
    rep->by_bytes = malloc((n ? n : 1) * sizeof *rep->by_bytes);
    rep->by_count = malloc((n ? n : 1) * sizeof *rep->by_count);
    rep->by_temporary = malloc((n ? n : 1) * sizeof *rep->by_temporary);
    if (!rep->by_bytes || !rep->by_count || !rep->by_temporary) {
        mt_report_summary_destroy(rep);
        return -ENOMEM;
    }
    rep->nby_bytes = mt_sites_top(&rep->sites, MT_COST_ALLOCATED, n, rep->by_bytes);
    rep->nby_count = mt_sites_top(&rep->sites, MT_COST_ALLOCATIONS, n, rep->by_count);
    rep->nby_temporary = mt_sites_top(&rep->sites, MT_COST_TEMPORARY, n, rep->by_temporary);
    /* Frames only for the sites shown. */
    if ((rc = mt_sites_load_list(&rep->sites, rep->by_bytes, rep->nby_bytes)) < 0 ||
        (rc = mt_sites_load_list(&rep->sites, rep->by_count, rep->nby_count)) < 0 ||
        (rc = mt_sites_load_list(&rep->sites, rep->by_temporary, rep->nby_temporary)) < 0) {
        mt_report_summary_destroy(rep);
        return rc;
    }
    return 0;
}

void mt_report_summary_destroy(mt_report_summary_t *rep)
{
    free(rep->command);
    mt_sites_destroy(&rep->sites);
    free(rep->by_bytes);
    free(rep->by_count);
    free(rep->by_temporary);
    memset(rep, 0, sizeof *rep);
}

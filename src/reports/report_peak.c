// SPDX-License-Identifier: MIT
// Builds the peak report (see report_peak.h). The figures come from the replay's lazy
// snapshot (replay.c): exact at the moment of the last new heap maximum, not estimated from
// samples. No I/O: render_peak.c prints it.
#include "report_peak.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int mt_report_peak_build(mt_report_peak_t *rep, const mt_analysis_t *a, mt_symbolizer_t *sym,
                         size_t top)
{
    memset(rep, 0, sizeof *rep);
    rep->a = a;
    int rc = mt_sites_build(&rep->sites, a, sym);
    if (rc < 0)
        return rc;
    size_t n = top < rep->sites.n ? top : rep->sites.n;
    rep->idx = malloc((n ? n : 1) * sizeof *rep->idx);
    if (!rep->idx) {
        mt_report_peak_destroy(rep);
        return -ENOMEM;
    }
    rep->n = mt_sites_top(&rep->sites, MT_COST_PEAK, n, rep->idx);
    /* What the top leaves out: every site holding bytes at the peak, less the top's. */
    for (size_t i = 0; i < rep->sites.n; i++) {
        if (!rep->sites.v[i].peak_bytes)
            continue;
        rep->other_bytes += rep->sites.v[i].peak_bytes;
        rep->other_blocks += rep->sites.v[i].peak_blocks;
        rep->other_sites++;
    }
    for (size_t i = 0; i < rep->n; i++) {
        rep->other_bytes -= rep->sites.v[rep->idx[i]].peak_bytes;
        rep->other_blocks -= rep->sites.v[rep->idx[i]].peak_blocks;
        rep->other_sites--;
    }
    if ((rc = mt_sites_load_list(&rep->sites, rep->idx, rep->n)) < 0) {
        mt_report_peak_destroy(rep);
        return rc;
    }
    return 0;
}

void mt_report_peak_destroy(mt_report_peak_t *rep)
{
    mt_sites_destroy(&rep->sites);
    free(rep->idx);
    memset(rep, 0, sizeof *rep);
}

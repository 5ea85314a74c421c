// SPDX-License-Identifier: MIT
// The data behind the HTML page's windows (issue 18): for the top sites, at the end of each of
// a fixed number of time buckets, what they had allocated so far and what they held then, by
// the bucket each held block was allocated in. From these the page computes, for any window
// of whole buckets, exactly what `--from/--to` would at those bounds: the allocations in it and
// what of them was still held at its end. Built by reading the log once more; no I/O of its own.
#ifndef MT_WINDOW_SERIES_H
#define MT_WINDOW_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "sites.h"

/* Buckets over the run: the page's window snaps to their bounds. */
#define MT_WSERIES_BUCKETS 64u
/* Sites with a series of their own; the rest are added up as one "other sites". */
#define MT_WSERIES_SITES 10u

typedef struct mt_wseries {
    unsigned nb; /* buckets; 0: no series (a log read from memory, an empty run) */
    size_t nk;   /* series: the top sites, then "other sites" (nk - 1) */
    size_t site[MT_WSERIES_SITES];         /* indices into the sites of the first nk - 1 series */
    uint64_t t_us[MT_WSERIES_BUCKETS + 1]; /* bucket j is (t_us[j], t_us[j + 1]], 0 in the first */
    /* [j * nk + k], j = 0..nb: calls and bytes series k had allocated by t_us[j] */
    uint64_t *allocs, *bytes;
    /* [(j * nk + k) * nb + b]: bytes series k held at t_us[j] of the blocks allocated in
     * bucket b (< j) */
    uint64_t *held;
} mt_wseries_t;

/* Reads a's log again (a's thread filter and window apply) and builds the series of the top
 * sites by bytes allocated among sites->v[top[0..ntop)]. 0, or -ENOMEM; a log that cannot be
 * read again leaves an empty series (nb = 0), not an error. */
int mt_wseries_build(mt_wseries_t *w, const mt_analysis_t *a, const mt_sites_t *sites,
                     const size_t *top, size_t ntop) MT_WUR;
void mt_wseries_destroy(mt_wseries_t *w);

#endif

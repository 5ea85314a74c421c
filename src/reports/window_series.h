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

/* What a group of sites held, as entries: the bytes of the blocks allocated in bucket b that
 * were alive at the ends of buckets b+1 .. f-1 and no longer at t_us[f] (f = nb + 1: still
 * alive at the last bound). Blocks freed inside their own bucket have none. So what the group
 * held at the end of a window of buckets [a, e) of what it allocated in it is the sum over the
 * entries with a <= b < e < f: one entry per bucket for blocks kept to the end or freed soon,
 * at most nb * (nb + 1) / 2 for blocks freed at every time after every bucket. */
typedef struct mt_wheld {
    uint32_t b, f;
    int64_t bytes; /* signed: the differences of snapshots, whatever a replay does to a block */
    int64_t blocks;
} mt_wheld_t;

/* A group of sites whose window figures the page redraws: a flame graph node (the sites drawn
 * in it as their innermost box) or a row of the sites table. */
typedef struct mt_wgroup {
    uint64_t *calls, *bytes; /* [b], b < nb: allocation calls and bytes made in bucket b */
    /* the run's group only (else NULL): frees and bytes freed in bucket b, of any block;
     * signed, as a realloc that fails in a later bucket than its release takes one back */
    int64_t *frees, *freed;
    mt_wheld_t *held;
    size_t nheld, cap;
    /* the spec's peak groups only: (b, f, bytes) for the bytes of the blocks allocated in
     * bucket b that the group held at the peak inside bucket f (rose[f]), the non-zero ones */
    mt_wheld_t *pk;
    size_t npk, pkcap;
} mt_wgroup_t;

/* Threads with a group of their own (the page draws at most as many lanes). */
#define MT_WSERIES_THREADS 100u

/* Which group each site adds to, in each of MT_WSERIES_MAPS maps: of[m][site index] is a group
 * index below n, or UINT32_MAX for none. */
#define MT_WSERIES_MAPS 3u
typedef struct mt_wgroups_spec {
    size_t n;
    const uint32_t *of[MT_WSERIES_MAPS];
    /* Groups by node besides (the lines of a Python file: a stack adds to several): node id's
     * are grp[off[id] .. off[id + 1]), for ids below nnodes; off NULL for none. */
    const uint32_t *node_off, *node_grp;
    uint32_t nnodes;
    /* The groups [peak_from, peak_from + peak_n) also keep what they held at the peak inside
     * each bucket (mt_wgroup_t.pk): the flame graph of the peak. */
    size_t peak_from, peak_n;
} mt_wgroups_spec_t;

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
    /* g[0..nspec): the groups of the spec given to mt_wseries_build; g[nspec]: the run's
     * (every block that counts, whatever its site: what the summary redraws from); then
     * g[nspec + 1 + i] for the thread of index i < nthr (tid[i]), its blocks by the thread
     * that allocated them. ng = nspec + 1 + nthr, or 0 without a series. */
    size_t ng, nspec, nthr;
    mt_wgroup_t *g;
    uint64_t tid[MT_WSERIES_THREADS];
    /* The heap's peak inside each bucket j < nb, which makes a window's peak: heap0[j], the
     * process's heap at the bucket's start (t_us[j]); rose[j], whether it went above that in
     * the bucket, to at most pk_bytes[j], first reached at pk_us[j]; the blocks that count held
     * then pk_split[(j * nb + b) * 2] bytes and [... + 1] blocks allocated in bucket b <= j. */
    uint64_t *heap0, *pk_bytes, *pk_us, *pk_split;
    uint8_t *rose;
} mt_wseries_t;

/* Reads a's log again (a's thread filter and window apply) and builds the series of the top
 * sites by bytes allocated among sites->v[top[0..ntop)], the groups of spec (may be NULL),
 * the run's group and the first MT_WSERIES_THREADS threads' groups.
 * 0, or -ENOMEM; a log that cannot be read again leaves an empty series (nb = 0), not an
 * error. Memory: the series, 2 * nb figures per group while reading, and the held entries. */
int mt_wseries_build(mt_wseries_t *w, const mt_analysis_t *a, const mt_sites_t *sites,
                     const size_t *top, size_t ntop, const mt_wgroups_spec_t *spec) MT_WUR;
void mt_wseries_destroy(mt_wseries_t *w);

#endif

// SPDX-License-Identifier: MIT
// Series of the HTML page's windows (see window_series.h): one more pass over the log through
// mt_analysis_snapshots, a look at every live block at each bucket's end. Memory is fixed by
// the bucket and site counts; the cost is a pass plus one walk of the block table per bucket.
#include "window_series.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct mt_wseries_pass {
    mt_wseries_t *w;
    const mt_sites_t *sites;
    uint32_t *series_of; /* [site index]: its series */
    const mt_replay_t *r;
    size_t j; /* the bucket end being taken */
} mt_wseries_pass_t;

/* The bucket a block allocated at t belongs to: the first b with t <= t_us[b + 1]. */
static unsigned mt_wseries_bucket(const mt_wseries_t *w, uint64_t t)
{
    unsigned lo = 0, hi = w->nb - 1;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (t <= w->t_us[mid + 1])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static size_t mt_wseries_of(const mt_wseries_pass_t *p, uint32_t node)
{
    uint32_t site = mt_sites_node_site(p->sites, node);
    if (!site)
        return p->w->nk - 1;
    return p->series_of[site - 1];
}

static void mt_wseries_block(const mt_block_t *b, void *arg)
{
    mt_wseries_pass_t *p = arg;
    mt_wseries_t *w = p->w;
    if (!mt_replay_block_selected(p->r, b))
        return;
    size_t k = mt_wseries_of(p, b->node);
    w->held[(p->j * w->nk + k) * w->nb + mt_wseries_bucket(w, b->time_us)] += b->size;
}

/* mt_snapshot_fn: the end of bucket i + 1 (i from 0). */
static void mt_wseries_take(void *arg, const mt_analysis_t *a, size_t i)
{
    mt_wseries_pass_t *p = arg;
    mt_wseries_t *w = p->w;
    const mt_replay_t *r = &a->replay;
    p->j = i + 1;
    p->r = r;
    for (uint32_t node = 0; node < mt_replay_node_count(r); node++) {
        if (!mt_replay_node_allocated(r, node))
            continue;
        mt_node_stats_t st = mt_replay_node(r, node);
        size_t k = mt_wseries_of(p, node);
        w->allocs[p->j * w->nk + k] += st.allocations;
        w->bytes[p->j * w->nk + k] += st.bytes_allocated;
    }
    mt_replay_each_live(r, mt_wseries_block, p);
}

int mt_wseries_build(mt_wseries_t *w, const mt_analysis_t *a, const mt_sites_t *sites,
                     const size_t *top, size_t ntop)
{
    memset(w, 0, sizeof *w);
    /* a window's analysis covers [from, to]; the buckets span what it replayed */
    uint64_t t0 = a->window.on ? a->window.from_us : 0;
    uint64_t end = a->replay.last_time_us;
    if (a->no_files || end <= t0)
        return 0;
    w->nb = MT_WSERIES_BUCKETS;
    w->nk = (ntop < MT_WSERIES_SITES ? ntop : MT_WSERIES_SITES) + 1;
    for (size_t k = 0; k + 1 < w->nk; k++)
        w->site[k] = top[k];
    for (unsigned j = 0; j <= w->nb; j++)
        w->t_us[j] = t0 + (end - t0) * j / w->nb;
    size_t cells = (size_t)(w->nb + 1) * w->nk;
    w->allocs = calloc(cells, sizeof *w->allocs);
    w->bytes = calloc(cells, sizeof *w->bytes);
    w->held = calloc(cells * w->nb, sizeof *w->held);
    mt_wseries_pass_t p = {.w = w, .sites = sites};
    p.series_of = malloc((sites->n ? sites->n : 1) * sizeof *p.series_of);
    if (!w->allocs || !w->bytes || !w->held || !p.series_of) {
        free(p.series_of);
        mt_wseries_destroy(w);
        return -ENOMEM;
    }
    for (size_t s = 0; s < sites->n; s++)
        p.series_of[s] = (uint32_t)(w->nk - 1);
    for (size_t k = 0; k + 1 < w->nk; k++)
        p.series_of[w->site[k]] = (uint32_t)k;
    char err[512];
    int rc = mt_analysis_snapshots(a, w->t_us + 1, w->nb, mt_wseries_take, &p, err, sizeof err);
    free(p.series_of);
    if (rc == -ENOMEM) {
        mt_wseries_destroy(w);
        return rc;
    }
    if (rc < 0) /* the log went away or changed: the page goes without windows (all zero) */
        mt_wseries_destroy(w);
    return 0;
}

void mt_wseries_destroy(mt_wseries_t *w)
{
    free(w->allocs);
    free(w->bytes);
    free(w->held);
    memset(w, 0, sizeof *w);
}

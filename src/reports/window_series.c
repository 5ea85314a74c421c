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
    const mt_wgroups_spec_t *spec;
    /* per group: calls and bytes allocated by the last bucket end, and now; the bytes and
     * blocks held by bucket of allocation ([g * nb + b]) at the last bucket end, and now */
    uint64_t *calls0, *bytes0, *calls1, *bytes1, *held0, *held1, *hb0, *hb1;
    uint64_t frees0, freed0; /* the run's frees and bytes freed by the last bucket end */
    /* the peak inside the bucket cur (-1 before the first heap event): the replay's peak
     * starts over at the first heap event of each bucket (mt_wpeak_block); rose once it went
     * higher; live (by bucket of allocation: bytes, blocks) as at its last peak in atpk */
    long cur;
    int rose, restarting;
    uint64_t *live, *atpk;
    /* the peak groups' live bytes by bucket of allocation ([k * nb + b]), and as at the last
     * peak for those changed since (stamp[k] == pk_gen): copied lazily, as the replay's */
    uint64_t *glive, *gatpk, *stamp, pk_gen;
    int nomem;
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

static void mt_wgroup_hold(mt_wseries_pass_t *p, size_t g, unsigned bk, uint64_t size)
{
    p->held1[g * p->w->nb + bk] += size;
    p->hb1[g * p->w->nb + bk]++;
}

static void mt_wseries_block(const mt_block_t *b, void *arg)
{
    mt_wseries_pass_t *p = arg;
    mt_wseries_t *w = p->w;
    unsigned bk = mt_wseries_bucket(w, b->time_us);
    /* a thread's own figures count its blocks of the window whatever --thread selects, as
     * the replay's (mt_heap_insert) */
    if (b->thread < w->nthr && b->time_us >= p->r->win_from_us)
        mt_wgroup_hold(p, w->nspec + 1 + b->thread, bk, b->size);
    if (!mt_replay_block_selected(p->r, b))
        return;
    size_t k = mt_wseries_of(p, b->node);
    w->held[(p->j * w->nk + k) * w->nb + bk] += b->size;
    if (!w->ng)
        return;
    mt_wgroup_hold(p, w->nspec, bk, b->size);
    const mt_wgroups_spec_t *sp = p->spec;
    if (sp && sp->node_off && b->node < sp->nnodes)
        for (uint32_t e = sp->node_off[b->node]; e < sp->node_off[b->node + 1]; e++)
            mt_wgroup_hold(p, sp->node_grp[e], bk, b->size);
    uint32_t site = p->spec ? mt_sites_node_site(p->sites, b->node) : 0;
    for (unsigned m = 0; site && m < MT_WSERIES_MAPS; m++) {
        uint32_t g = p->spec->of[m] ? p->spec->of[m][site - 1] : UINT32_MAX;
        if (g != UINT32_MAX)
            mt_wgroup_hold(p, g, bk, b->size);
    }
}

static void mt_wgroup_add(mt_wseries_pass_t *p, mt_wgroup_t *g, uint32_t b, uint32_t f,
                          int64_t bytes, int64_t blocks)
{
    if (g->nheld == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 8;
        mt_wheld_t *v = realloc(g->held, nc * sizeof *v);
        if (!v) {
            p->nomem = 1;
            return;
        }
        g->held = v;
        g->cap = nc;
    }
    g->held[g->nheld++] = (mt_wheld_t){.b = b, .f = f, .bytes = bytes, .blocks = blocks};
}

/* After the walk at bucket end j: what each group allocated in bucket j - 1, and the entries
 * of the blocks gone since the last bucket end (allocated before it: the blocks of bucket
 * j - 1 start their entries here). */
static void mt_wgroups_take(mt_wseries_pass_t *p)
{
    mt_wseries_t *w = p->w;
    size_t nb = w->nb;
    for (size_t gi = 0; gi < w->ng; gi++) {
        mt_wgroup_t *g = &w->g[gi];
        g->calls[p->j - 1] = p->calls1[gi] - p->calls0[gi];
        g->bytes[p->j - 1] = p->bytes1[gi] - p->bytes0[gi];
        p->calls0[gi] = p->calls1[gi];
        p->bytes0[gi] = p->bytes1[gi];
        p->calls1[gi] = p->bytes1[gi] = 0;
        uint64_t *h0 = p->held0 + gi * nb, *h1 = p->held1 + gi * nb;
        uint64_t *n0 = p->hb0 + gi * nb, *n1 = p->hb1 + gi * nb;
        for (size_t b = 0; b + 1 < p->j; b++)
            if (h0[b] != h1[b] || n0[b] != n1[b])
                mt_wgroup_add(p, g, (uint32_t)b, (uint32_t)p->j, (int64_t)(h0[b] - h1[b]),
                              (int64_t)(n0[b] - n1[b]));
        memcpy(h0, h1, nb * sizeof *h0);
        memset(h1, 0, nb * sizeof *h1);
        memcpy(n0, n1, nb * sizeof *n0);
        memset(n1, 0, nb * sizeof *n1);
    }
}

/* mt_replay_watch_t.block: before a block enters or leaves the heap. The first heap event
 * past a bucket's start starts the replay's peak over, so that the next peak is that bucket's
 * own (the state then is the one at the bound: mt_analysis_snapshots). */
static void mt_wpeak_block(void *arg, mt_replay_t *r, const mt_block_t *b, int enters)
{
    mt_wseries_pass_t *p = arg;
    mt_wseries_t *w = p->w;
    uint64_t t = r->last_time_us;
    if (t >= w->t_us[0] && (p->cur < 0 || t > w->t_us[p->cur + 1])) {
        if (p->cur < 0)
            w->heap0[0] = r->all_heap_bytes;
        p->cur = (long)mt_wseries_bucket(w, t);
        p->restarting = 1;
        mt_replay_peak_restart(r);
        p->restarting = 0;
        p->rose = 0;
    }
    if (!mt_replay_block_selected(r, b))
        return;
    unsigned bk = mt_wseries_bucket(w, b->time_us);
    uint64_t *v = p->live + 2 * (size_t)bk;
    v[0] += enters ? b->size : -b->size;
    v[1] += enters ? 1 : (uint64_t)-1;
    const mt_wgroups_spec_t *sp = p->spec;
    uint32_t site = sp && sp->peak_n ? mt_sites_node_site(p->sites, b->node) : 0;
    for (unsigned m = 0; site && m < MT_WSERIES_MAPS; m++) {
        uint32_t g = sp->of[m] ? sp->of[m][site - 1] : UINT32_MAX;
        if (g == UINT32_MAX || g < sp->peak_from || g - sp->peak_from >= sp->peak_n)
            continue;
        size_t k = g - sp->peak_from;
        uint64_t *gl = p->glive + k * w->nb;
        if (p->stamp[k] != p->pk_gen) {
            memcpy(p->gatpk + k * w->nb, gl, w->nb * sizeof *gl);
            p->stamp[k] = p->pk_gen;
        }
        gl[bk] += enters ? b->size : -b->size;
    }
}

/* mt_replay_watch_t.peak: a new peak inside the bucket cur (not the start over). */
static void mt_wpeak_peak(void *arg, const mt_replay_t *r)
{
    mt_wseries_pass_t *p = arg;
    (void)r;
    if (p->cur < 0 || p->restarting)
        return;
    p->rose = 1;
    p->pk_gen++;
    memcpy(p->atpk, p->live, 2 * (size_t)p->w->nb * sizeof *p->atpk);
}

/* At the end of bucket i: its peak, if the heap rose in it. */
static void mt_wpeak_take(mt_wseries_pass_t *p, const mt_replay_t *r, size_t i)
{
    mt_wseries_t *w = p->w;
    if (p->cur == (long)i && p->rose) {
        w->rose[i] = 1;
        w->pk_bytes[i] = r->all_peak_bytes;
        w->pk_us[i] = r->peak_time_us;
        memcpy(w->pk_split + i * w->nb * 2, p->atpk, 2 * (i + 1) * sizeof *p->atpk);
        const mt_wgroups_spec_t *sp = p->spec;
        for (size_t k = 0; sp && k < sp->peak_n; k++) {
            const uint64_t *v =
                (p->stamp[k] == p->pk_gen ? p->gatpk : p->glive) + k * (size_t)w->nb;
            mt_wgroup_t *g = &w->g[sp->peak_from + k];
            for (uint32_t b = 0; b <= i; b++) {
                if (!v[b])
                    continue;
                if (g->npk == g->pkcap) {
                    size_t nc = g->pkcap ? g->pkcap * 2 : 8;
                    mt_wheld_t *nv = realloc(g->pk, nc * sizeof *nv);
                    if (!nv) {
                        p->nomem = 1;
                        return;
                    }
                    g->pk = nv;
                    g->pkcap = nc;
                }
                g->pk[g->npk++] = (mt_wheld_t){.b = b, .f = (uint32_t)i, .bytes = (int64_t)v[b]};
            }
        }
    }
    if (i + 1 < w->nb)
        w->heap0[i + 1] = r->all_heap_bytes;
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
        const mt_wgroups_spec_t *sp = p->spec;
        if (sp && sp->node_off && node < sp->nnodes)
            for (uint32_t e = sp->node_off[node]; e < sp->node_off[node + 1]; e++) {
                p->calls1[sp->node_grp[e]] += st.allocations;
                p->bytes1[sp->node_grp[e]] += st.bytes_allocated;
            }
        uint32_t site = p->spec ? mt_sites_node_site(p->sites, node) : 0;
        for (unsigned m = 0; site && m < MT_WSERIES_MAPS; m++) {
            uint32_t g = p->spec->of[m] ? p->spec->of[m][site - 1] : UINT32_MAX;
            if (g != UINT32_MAX) {
                p->calls1[g] += st.allocations;
                p->bytes1[g] += st.bytes_allocated;
            }
        }
    }
    if (w->ng) { /* the run's and the threads' figures are the replay's own, exact */
        p->calls1[w->nspec] = r->allocations;
        p->bytes1[w->nspec] = r->bytes_allocated;
        for (size_t t = 0; t < w->nthr && t < r->ntstats; t++) {
            mt_thread_stats_t ts = mt_replay_thread(r, (uint32_t)t);
            p->calls1[w->nspec + 1 + t] = ts.allocations;
            p->bytes1[w->nspec + 1 + t] = ts.bytes_allocated;
            w->tid[t] = ts.tid;
        }
        mt_wgroup_t *run = &w->g[w->nspec];
        run->frees[p->j - 1] = (int64_t)(r->frees - p->frees0);
        run->freed[p->j - 1] = (int64_t)(r->bytes_freed - p->freed0);
        p->frees0 = r->frees;
        p->freed0 = r->bytes_freed;
    }
    mt_replay_each_live(r, mt_wseries_block, p);
    if (w->ng)
        mt_wgroups_take(p);
    mt_wpeak_take(p, r, i);
}

/* The groups' arrays, and the pass's: 0 or -ENOMEM (the caller destroys w). */
static int mt_wgroups_alloc(mt_wseries_t *w, mt_wseries_pass_t *p, const mt_wgroups_spec_t *spec,
                            size_t nthr)
{
    p->spec = spec && spec->n ? spec : NULL;
    w->nspec = p->spec ? spec->n : 0;
    w->nthr = nthr < MT_WSERIES_THREADS ? nthr : MT_WSERIES_THREADS;
    w->g = calloc(w->nspec + 1 + w->nthr, sizeof *w->g);
    if (!w->g)
        return -ENOMEM;
    w->ng = w->nspec + 1 + w->nthr;
    for (size_t i = 0; i < w->ng; i++) {
        w->g[i].calls = calloc(w->nb, sizeof *w->g[i].calls);
        w->g[i].bytes = calloc(w->nb, sizeof *w->g[i].bytes);
        if (!w->g[i].calls || !w->g[i].bytes)
            return -ENOMEM;
    }
    mt_wgroup_t *run = &w->g[w->nspec];
    run->frees = calloc(w->nb, sizeof *run->frees);
    run->freed = calloc(w->nb, sizeof *run->freed);
    if (!run->frees || !run->freed)
        return -ENOMEM;
    uint64_t **arrs[] = {&p->calls0, &p->bytes0, &p->calls1, &p->bytes1};
    for (size_t k = 0; k < sizeof arrs / sizeof arrs[0]; k++)
        if (!(*arrs[k] = calloc(w->ng, sizeof **arrs[k])))
            return -ENOMEM;
    uint64_t **held[] = {&p->held0, &p->held1, &p->hb0, &p->hb1};
    for (size_t k = 0; k < sizeof held / sizeof held[0]; k++)
        if (!(*held[k] = calloc(w->ng * w->nb, sizeof **held[k])))
            return -ENOMEM;
    if (p->spec && p->spec->peak_n) {
        if (p->spec->peak_from + p->spec->peak_n > w->nspec)
            return -EINVAL;
        p->glive = calloc(p->spec->peak_n * w->nb, sizeof *p->glive);
        p->gatpk = calloc(p->spec->peak_n * w->nb, sizeof *p->gatpk);
        p->stamp = calloc(p->spec->peak_n, sizeof *p->stamp);
        if (!p->glive || !p->gatpk || !p->stamp)
            return -ENOMEM;
    }
    return 0;
}

static void mt_wseries_pass_free(mt_wseries_pass_t *p)
{
    free(p->series_of);
    free(p->calls0);
    free(p->bytes0);
    free(p->calls1);
    free(p->bytes1);
    free(p->held0);
    free(p->held1);
    free(p->hb0);
    free(p->hb1);
    free(p->live);
    free(p->atpk);
    free(p->glive);
    free(p->gatpk);
    free(p->stamp);
}

int mt_wseries_build(mt_wseries_t *w, const mt_analysis_t *a, const mt_sites_t *sites,
                     const size_t *top, size_t ntop, const mt_wgroups_spec_t *spec)
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
    w->heap0 = calloc(w->nb, sizeof *w->heap0);
    w->pk_bytes = calloc(w->nb, sizeof *w->pk_bytes);
    w->pk_us = calloc(w->nb, sizeof *w->pk_us);
    w->pk_split = calloc((size_t)w->nb * w->nb * 2, sizeof *w->pk_split);
    w->rose = calloc(w->nb, sizeof *w->rose);
    mt_wseries_pass_t p = {.w = w, .sites = sites, .cur = -1};
    p.live = calloc(2 * (size_t)w->nb, sizeof *p.live);
    p.atpk = calloc(2 * (size_t)w->nb, sizeof *p.atpk);
    p.series_of = malloc((sites->n ? sites->n : 1) * sizeof *p.series_of);
    if (!w->allocs || !w->bytes || !w->held || !p.series_of || !w->heap0 || !w->pk_bytes ||
        !w->pk_us || !w->pk_split || !w->rose || !p.live || !p.atpk ||
        mt_wgroups_alloc(w, &p, spec, a->replay.ntstats)) {
        mt_wseries_pass_free(&p);
        mt_wseries_destroy(w);
        return -ENOMEM;
    }
    for (size_t s = 0; s < sites->n; s++)
        p.series_of[s] = (uint32_t)(w->nk - 1);
    for (size_t k = 0; k + 1 < w->nk; k++)
        p.series_of[w->site[k]] = (uint32_t)k;
    char err[512];
    const mt_replay_watch_t watch = {.block = mt_wpeak_block, .peak = mt_wpeak_peak, .arg = &p};
    int rc = mt_analysis_snapshots_watch(a, w->t_us + 1, w->nb, mt_wseries_take, &p, &watch, err,
                                         sizeof err);
    /* what is still held at the last bound: f = nb + 1 */
    for (size_t gi = 0; rc >= 0 && gi < w->ng; gi++)
        for (uint32_t b = 0; b < w->nb; b++)
            if (p.held0[gi * w->nb + b] || p.hb0[gi * w->nb + b])
                mt_wgroup_add(&p, &w->g[gi], b, w->nb + 1, (int64_t)p.held0[gi * w->nb + b],
                              (int64_t)p.hb0[gi * w->nb + b]);
    if (p.nomem)
        rc = -ENOMEM;
    mt_wseries_pass_free(&p);
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
    for (size_t i = 0; w->g && i < w->ng; i++) {
        free(w->g[i].calls);
        free(w->g[i].bytes);
        free(w->g[i].frees);
        free(w->g[i].freed);
        free(w->g[i].held);
        free(w->g[i].pk);
    }
    free(w->g);
    free(w->heap0);
    free(w->pk_bytes);
    free(w->pk_us);
    free(w->pk_split);
    free(w->rose);
    memset(w, 0, sizeof *w);
}

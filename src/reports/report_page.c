// SPDX-License-Identifier: MIT
// Builds every report of the HTML page (see report_page.h), in the order the page used to build
// them while drawing; each build is the report's own, so the page shows the same figures as the
// commands. No I/O.
#include "report_page.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* The groups of node's lines (mt_report_lines_node): each line once per map (own, incl.). */
typedef struct mt_page_lines_acc {
    const mt_report_page_t *p;
    uint32_t *grp;
    size_t n, cap, from; /* from: the node's first entry */
    int nomem;
} mt_page_lines_acc_t;

static void mt_page_line_group(mt_page_lines_acc_t *acc, uint32_t g)
{
    for (size_t e = acc->from; e < acc->n; e++)
        if (acc->grp[e] == g)
            return;
    if (MT_GROW(acc->grp, acc->cap, acc->n + 1, 64) < 0) {
        acc->nomem = 1;
        return;
    }
    acc->grp[acc->n++] = g;
}

static void mt_page_line(void *arg, size_t i, int own)
{
    mt_page_lines_acc_t *acc = arg;
    const mt_report_page_t *p = acc->p;
    if (i >= p->wlines)
        return;
    if (own)
        mt_page_line_group(acc, (uint32_t)(p->wlines_at + i));
    mt_page_line_group(acc, (uint32_t)(p->wlines_at + p->wlines + i));
}

/* The series of the window chart, with a group per node of the window's flame tree, per row
 * of the sites table and per line of the script's table, own and incl. (report_page.h). */
static int mt_page_wseries(mt_report_page_t *p, const mt_analysis_t *a)
{
    mt_report_summary_t *rep = &p->summary;
    const mt_flame_tree_t *ft = &p->flame[MT_PAGE_FLAME_WINDOW];
    size_t ns = rep->sites.n ? rep->sites.n : 1;
    const mt_flame_tree_t *fp = &p->flame[MT_PAGE_FLAME_PEAK];
    uint32_t *flame = malloc(ns * sizeof *flame), *row = malloc(ns * sizeof *row);
    uint32_t *peak = malloc(ns * sizeof *peak);
    int rc = flame && row && peak ? mt_flame_tree_site_nodes(ft, &rep->sites, flame) : -ENOMEM;
    if (rc == 0)
        rc = mt_flame_tree_site_nodes(fp, &rep->sites, peak);
    if (rc == 0) {
        for (size_t i = 0; i < rep->sites.n; i++)
            row[i] = UINT32_MAX;
        size_t nrows = rep->nby_bytes < MT_PAGE_WSITES ? rep->nby_bytes : MT_PAGE_WSITES;
        for (size_t r = 0; r < nrows; r++)
            row[rep->by_bytes[r]] = (uint32_t)(ft->n + r);
        mt_wgroups_spec_t spec = {.n = ft->n + nrows,
                                  .of = {[MT_PAGE_WMAP_FLAME] = flame, [MT_PAGE_WMAP_SITES] = row}};
        mt_page_lines_acc_t acc = {.p = p};
        uint32_t *off = NULL, nn = 0;
        if (p->has_lines && p->lines_rc == 0 && p->lines.nstats) {
            p->wlines = p->lines.nstats < MT_PAGE_WLINES ? p->lines.nstats : MT_PAGE_WLINES;
            p->wlines_at = spec.n;
            spec.n += 2 * p->wlines;
            nn = mt_replay_node_count(&a->replay);
            nn = nn < a->nodes.n ? nn : (uint32_t)a->nodes.n;
            off = malloc(((size_t)nn + 1) * sizeof *off);
            rc = off ? 0 : -ENOMEM;
            for (uint32_t id = 0; rc == 0 && id < nn; id++) {
                off[id] = (uint32_t)acc.n;
                acc.from = acc.n;
                if (id && mt_replay_node_allocated(&a->replay, id))
                    mt_report_lines_node(&p->lines, id, mt_page_line, &acc);
                rc = acc.nomem ? -ENOMEM : 0;
            }
            if (rc == 0) {
                off[nn] = (uint32_t)acc.n;
                spec.node_off = off;
                spec.node_grp = acc.grp;
                spec.nnodes = nn;
            }
        }
        /* the peak's flame graph: its boxes' groups last (report_page.h) */
        if (rc == 0 && fp->n) {
            p->wpeak = fp->n;
            p->wpeak_at = spec.n;
            for (size_t i = 0; i < rep->sites.n; i++)
                if (peak[i] != UINT32_MAX)
                    peak[i] += (uint32_t)spec.n;
            spec.of[MT_PAGE_WMAP_PEAK] = peak;
            spec.peak_from = spec.n;
            spec.peak_n = fp->n;
            spec.n += fp->n;
        }
        if (rc == 0)
            rc =
                mt_wseries_build(&p->wseries, a, &rep->sites, rep->by_bytes, rep->nby_bytes, &spec);
        free(off);
        free(acc.grp);
    }
    free(flame);
    free(row);
    free(peak);
    return rc;
}

int mt_report_page_build(mt_report_page_t *p, const mt_analysis_t *a, mt_symbolizer_t *sym,
                         size_t top, const mt_flame_opts_t flame[MT_PAGE_FLAMES])
{
    static const enum mt_cost costs[MT_PAGE_FLAMES] = {
        [MT_PAGE_FLAME_WINDOW] = MT_COST_ALLOCATED,
        [MT_PAGE_FLAME_PEAK] = MT_COST_PEAK,
        [MT_PAGE_FLAME_LEAKED] = MT_COST_LEAKED,
    };
    memset(p, 0, sizeof *p);
    p->a = a;
    int rc = mt_report_summary_build(&p->summary, a, sym, top);
    if (rc < 0)
        goto fail_summary;
    rc = mt_leaks_build(&p->leaks, a, sym, NULL, MT_LEAKS_DEFAULT_SHOW);
    if (rc < 0)
        goto fail_leaks;
    rc = mt_report_fragmentation_build(&p->frag, a, sym, top);
    if (rc < 0)
        goto fail_frag;
    rc = mt_report_threads_build(&p->threads, a) < 0 ? -ENOMEM : 0;
    if (rc < 0)
        goto fail_threads;
    size_t k = 0;
    for (; k < MT_PAGE_FLAMES; k++) {
        mt_flame_opts_t fo = flame[k];
        fo.cost = costs[k];
        rc = mt_flame_tree_build(&p->flame[k], a, &p->summary.sites, &fo);
        if (rc < 0)
            goto fail_flame;
    }
    p->has_lines = mt_report_lines_available(a);
    if (p->has_lines) {
        mt_lines_opts_t lo = {0};
        p->lines_rc = mt_report_lines_build(&p->lines, a, &lo, p->lines_err, sizeof p->lines_err);
        if (p->lines_rc == -ENOMEM) {
            rc = -ENOMEM;
            goto fail_flame;
        }
    }
    rc = mt_page_wseries(p, a); /* after the lines: they have groups of their own */
    if (rc < 0) {
        if (p->has_lines && p->lines_rc == 0)
            mt_report_lines_destroy(&p->lines);
        goto fail_flame;
    }
    return 0;

fail_flame:
    while (k-- > 0)
        mt_flame_tree_destroy(&p->flame[k]);
    mt_report_threads_destroy(&p->threads);
fail_threads:
    mt_report_fragmentation_destroy(&p->frag);
fail_frag:
    mt_leaks_destroy(&p->leaks);
fail_leaks:
    mt_report_summary_destroy(&p->summary);
fail_summary:
    memset(p, 0, sizeof *p);
    return rc;
}

void mt_report_page_destroy(mt_report_page_t *p)
{
    if (p->has_lines && p->lines_rc == 0)
        mt_report_lines_destroy(&p->lines);
    mt_wseries_destroy(&p->wseries);
    for (size_t k = 0; k < MT_PAGE_FLAMES; k++)
        mt_flame_tree_destroy(&p->flame[k]);
    mt_report_threads_destroy(&p->threads);
    mt_report_fragmentation_destroy(&p->frag);
    mt_leaks_destroy(&p->leaks);
    mt_report_summary_destroy(&p->summary);
    memset(p, 0, sizeof *p);
}

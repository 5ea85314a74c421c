// SPDX-License-Identifier: MIT
// massif export (see export.h): the text format valgrind's massif writes (massif.out.PID), so
// ms_print and massif-visualizer show a memtrace log. Snapshots come from the replay's heap
// series (max per interval, so the graph keeps its peaks), the exact heap peak and the end of
// the log. As massif does by default (--detailed-freq=10), every 10th snapshot is detailed,
// and so are the peak and the end: the heap at those moments comes from a second read of the
// log (mt_analysis_snapshots), so each site's line follows what it really held, not a ramp
// between two points. Trees are massif's: allocation functions at the root,
// callers below; children under 1% of the snapshot are folded into one "below threshold" line
// as massif does. Times are milliseconds (time_unit: ms).
#include "export.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "names.h"
#include "text_escape.h"

#define MT_MASSIF_MAX_SNAPSHOTS 60
#define MT_MASSIF_THRESHOLD_PERMILLE 10 /* 1.00%, massif's default --threshold */
#define MT_MASSIF_DETAILED_FREQ 10      /* massif's default --detailed-freq */

/* The tree is as big as the sites' frames together (at most 256 per stack, sites.h), and a
 * node may have a million children (a million distinct innermost frames): children are found
 * through one hash table on (parent, frame), and listed through sibling links, so building
 * costs one lookup per frame. */
typedef struct mt_mtree_node {
    const mt_frame_t *frame; /* NULL for the root */
    uint64_t bytes;
    uint32_t parent, first_kid, next_sibling; /* UINT32_MAX: none */
    uint32_t nkids;
} mt_mtree_node_t;

typedef struct mt_mtree {
    mt_mtree_node_t *v;
    size_t n, cap;
    uint32_t *table; /* node index + 1, 0 = empty */
    size_t tcap;
} mt_mtree_t;

#define MT_MTREE_NONE UINT32_MAX
MT_DEFINE_RESERVE(mt_mtree_reserve, mt_mtree_t, 256)

static uint64_t mt_mtree_hash(uint32_t parent, const mt_frame_t *f)
{
    return (mt_sites_stack_hash(f, 1) ^ parent) * 0x9E3779B97F4A7C15ull;
}

static uint64_t mt_mtree_node_hash(const void *arg, size_t i)
{
    const mt_mtree_t *t = arg;
    return mt_mtree_hash(t->v[i].parent, t->v[i].frame) >> 20;
}

static int mt_mtree_grow_table(mt_mtree_t *t)
{
    /* from 1: the root is never looked up */
    return mt_grow_slots(&t->table, &t->tcap, 1024, 1, t->n, mt_mtree_node_hash, t);
}

/* The child of parent for frame f, created when missing; MT_MTREE_NONE on ENOMEM. */
static uint32_t mt_mtree_child(mt_mtree_t *t, uint32_t parent, const mt_frame_t *f)
{
    if ((t->n + 1) * 2 > t->tcap && mt_mtree_grow_table(t) < 0)
        return MT_MTREE_NONE;
    size_t j = mt_mtree_hash(parent, f) >> 20 & (t->tcap - 1);
    for (; t->table[j]; j = (j + 1) & (t->tcap - 1)) {
        const mt_mtree_node_t *c = &t->v[t->table[j] - 1];
        if (c->parent == parent && mt_sites_stack_equal(c->frame, 1, f, 1))
            return t->table[j] - 1;
    }
    if (t->n >= MT_MTREE_NONE - 1)
        return MT_MTREE_NONE;
    if (mt_mtree_reserve(t, t->n + 1) < 0)
        return MT_MTREE_NONE;
    uint32_t id = (uint32_t)t->n++;
    mt_mtree_node_t *p = &t->v[parent];
    t->v[id] = (mt_mtree_node_t){f, 0, parent, MT_MTREE_NONE, p->first_kid, 0};
    p->first_kid = id;
    p->nkids++;
    t->table[j] = id + 1;
    return id;
}

static void mt_mtree_destroy(mt_mtree_t *t)
{
    free(t->v);
    free(t->table);
    memset(t, 0, sizeof *t);
}

/* The tree of every site that holds something at one of the snapshots (held: a site's bytes
 * at the regular detailed ones, nheld rows): root, then each site's frames innermost first.
 * leaf[i] is site i's last node (MT_MTREE_NONE when left out); costs come with mt_mtree_fill,
 * so the frames are hashed once whatever the number of detailed snapshots. */
static int mt_mtree_build(mt_mtree_t *t, mt_sites_t *sites, const uint64_t *held, size_t nheld,
                          uint32_t *leaf)
{
    memset(t, 0, sizeof *t);
    if (mt_mtree_reserve(t, 1) < 0)
        return -ENOMEM;
    t->n = 1;
    t->v[0] = (mt_mtree_node_t){NULL, 0, MT_MTREE_NONE, MT_MTREE_NONE, MT_MTREE_NONE, 0};
    for (size_t i = 0; i < sites->n; i++) {
        const mt_site_t *s = &sites->v[i];
        int any = mt_site_cost(s, MT_COST_PEAK) || mt_site_cost(s, MT_COST_LEAKED);
        for (size_t k = 0; k < nheld && !any; k++)
            any = held[k * sites->n + i] != 0;
        leaf[i] = MT_MTREE_NONE;
        if (!any)
            continue;
        uint32_t cur = 0;
        for (size_t d = 0; d < s->nframes; d++) {
            cur = mt_mtree_child(t, cur, &s->frames[d]);
            if (cur == MT_MTREE_NONE)
                return -ENOMEM;
        }
        leaf[i] = cur;
    }
    return 0;
}

/* Each node's bytes for one snapshot: site i costs by_site[i] when given, else its figure for
 * cost, added from its leaf up to the root. Nodes at 0 are left out of the snapshot. */
static void mt_mtree_fill(mt_mtree_t *t, const mt_sites_t *sites, const uint32_t *leaf,
                          enum mt_cost cost, const uint64_t *by_site)
{
    for (size_t j = 0; j < t->n; j++)
        t->v[j].bytes = 0;
    for (size_t i = 0; i < sites->n; i++) {
        uint64_t c = by_site ? by_site[i] : mt_site_cost(&sites->v[i], cost);
        if (!c || leaf[i] == MT_MTREE_NONE)
            continue;
        for (uint32_t j = leaf[i]; j != MT_MTREE_NONE; j = t->v[j].parent)
            t->v[j].bytes += c;
    }
}

static int mt_kid_cmp(const void *pa, const void *pb, void *arg)
{
    const mt_mtree_t *t = arg;
    uint64_t a = t->v[*(const uint32_t *)pa].bytes;
    uint64_t b = t->v[*(const uint32_t *)pb].bytes;
    if (a != b)
        return a > b ? -1 : 1;
    return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

/* ms_print drops everything after '#' on a line, a newline would end the entry, and ms_print
 * copies the rest to a terminal: '#' and whatever text_escape.h escapes become '?'. */
static void mt_massif_text(FILE *o, const char *s)
{
    char buf[512];
    while (*s) {
        size_t n = 0;
        /* cut between characters: past sizeof buf - 8, only continuation bytes go on */
        for (; *s && (n + 8 < sizeof buf || ((*s & 0xc0) == 0x80 && n + 1 < sizeof buf)); s++)
            buf[n++] = *s == '#' ? '?' : *s;
        buf[n] = '\0';
        mt_text_put_masked(o, buf, '?');
    }
}

static void mt_massif_frame(FILE *o, const mt_modules_t *mods, const mt_frame_t *f)
{
    const mt_module_t *m = mt_modules_get(mods, f->module);
    fprintf(o, " 0x%" PRIX64 ": ", (m ? m->bias : 0) + f->address);
    char shown[1024]; /* C++ names shortened unless --full-names (names.h) */
    const char *name = mt_name_show(f->function, shown, sizeof shown);
    mt_massif_text(o, name ? name : "???");
    if (f->file) {
        fputs(" (", o);
        mt_massif_text(o, mt_path_show(f->file));
        fprintf(o, ":%" PRIu32 ")", f->line);
    } else if (m) {
        fputs(" (in ", o);
        mt_massif_text(o, m->path);
        fputc(')', o);
    }
}

static int mt_massif_node(FILE *o, const mt_modules_t *mods, mt_mtree_t *t, uint32_t id,
                          unsigned depth, uint64_t total)
{
    mt_mtree_node_t *n = &t->v[id];
    /* Only the children above the threshold are printed, and a tree is at most 256 deep
     * (sites.h): the arrays on this path stay small even when one node has a million kids. */
    uint32_t *kids = malloc((n->nkids ? n->nkids : 1) * sizeof *kids);
    if (!kids)
        return -ENOMEM;
    size_t nk = 0;
    for (uint32_t k = n->first_kid; k != MT_MTREE_NONE; k = t->v[k].next_sibling)
        if (t->v[k].bytes) /* a site that holds nothing at this snapshot */
            kids[nk++] = k;
    qsort_r(kids, nk, sizeof *kids, mt_kid_cmp, t); /* glibc's, as in sites.c */
    size_t big = 0;
    uint64_t small_bytes = 0;
    for (size_t k = 0; k < nk; k++) {
        uint64_t b = t->v[kids[k]].bytes;
        if (total && b * 1000 >= total * MT_MASSIF_THRESHOLD_PERMILLE)
            big++;
        else
            small_bytes += b;
    }
    size_t small = nk - big;
    fprintf(o, "%*sn%zu: %" PRIu64, (int)depth, "", big + (small ? 1 : 0), n->bytes);
    if (n->frame)
        mt_massif_frame(o, mods, n->frame);
    else
        fputs(" (heap allocation functions) malloc/new/new[], --alloc-fns, etc.", o);
    fputc('\n', o);
    int rc = 0;
    if (big < nk) { /* keep only what the recursion needs */
        uint32_t *nv = realloc(kids, (big ? big : 1) * sizeof *nv);
        if (nv)
            kids = nv;
    }
    for (size_t k = 0; k < big && rc == 0; k++)
        rc = mt_massif_node(o, mods, t, kids[k], depth + 1, total);
    free(kids);
    if (small)
        fprintf(o, "%*sn0: %" PRIu64 " in %zu place%s, below massif's threshold (%d.%02d%%)\n",
                (int)depth + 1, "", small_bytes, small, small == 1 ? "" : "s",
                MT_MASSIF_THRESHOLD_PERMILLE / 10, (MT_MASSIF_THRESHOLD_PERMILLE % 10) * 10);
    return rc;
}

typedef struct mt_msnap {
    uint64_t time_us, heap;
    int detail;  /* 0 empty, 1 peak, 2 detailed (end), 3 detailed (a regular one) */
    size_t held; /* detail 3: its row of mt_massif_held_t.bytes */
} mt_msnap_t;

/* What each site held at the regular detailed snapshots: bytes[k * nsites + site]. */
typedef struct mt_massif_held {
    const mt_sites_t *sites;
    uint64_t *bytes;
} mt_massif_held_t;

static void mt_massif_take(void *arg, const mt_analysis_t *a, size_t k)
{
    mt_massif_held_t *h = arg;
    const mt_sites_t *s = h->sites;
    uint64_t *row = h->bytes + k * s->n;
    uint32_t nn = mt_replay_node_count(&a->replay);
    if (nn > s->nnode_site)
        nn = s->nnode_site; /* a node the first read had not seen allocates later */
    for (uint32_t id = 0; id < nn; id++) {
        uint32_t site = mt_sites_node_site(s, id);
        if (!site || !mt_replay_node_allocated(&a->replay, id))
            continue;
        row[site - 1] += mt_replay_node(&a->replay, id).live_bytes;
    }
}

static void mt_massif_snapshot(FILE *o, size_t num, const mt_msnap_t *s, const char *tree)
{
    fprintf(o,
            "#-----------\nsnapshot=%zu\n#-----------\ntime=%" PRIu64 "\nmem_heap_B=%" PRIu64
            "\nmem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=%s\n",
            num, s->time_us / 1000, s->heap, tree);
}

int mt_export_massif(const mt_analysis_t *a, mt_sites_t *sites, FILE *out)
{
    if (mt_sites_load_all(sites) < 0) /* the trees point into the sites' frames */
        return -ENOMEM;
    const mt_replay_t *r = &a->replay;
    mt_msnap_t snaps[MT_MASSIF_MAX_SNAPSHOTS + 4];
    size_t ns = 0;
    snaps[ns++] = (mt_msnap_t){0, 0, 0, 0};
    /* The heap series, grouped into at most MT_MASSIF_MAX_SNAPSHOTS intervals. */
    size_t per = (r->nseries + MT_MASSIF_MAX_SNAPSHOTS - 1) / MT_MASSIF_MAX_SNAPSHOTS;
    int peak_done = 0;
    if (!per)
        per = 1;
    for (size_t i = 0; i < r->nseries; i += per) {
        uint64_t mx = 0;
        int used = 0;
        for (size_t j = i; j < i + per && j < r->nseries; j++) {
            if (r->series[j].used) {
                used = 1;
                if (r->series[j].max > mx)
                    mx = r->series[j].max;
            }
        }
        uint64_t end = (i + per) * r->series_width_us;
        if (!peak_done && r->peak_heap_bytes && r->peak_time_us < end) {
            snaps[ns++] = (mt_msnap_t){r->peak_time_us, r->peak_heap_bytes, 1, 0};
            peak_done = 1;
            if (mx == r->peak_heap_bytes)
                continue; /* that interval's maximum is the peak itself */
        }
        if (used && end < r->last_time_us)
            snaps[ns++] = (mt_msnap_t){end, mx, 0, 0};
    }
    if (!peak_done && r->peak_heap_bytes)
        snaps[ns++] = (mt_msnap_t){r->peak_time_us, r->peak_heap_bytes, 1, 0};
    snaps[ns++] = (mt_msnap_t){r->last_time_us, r->heap_bytes, 2, 0};

    /* every 10th snapshot detailed, as massif: the heap at its time, read again */
    uint64_t times[MT_MASSIF_MAX_SNAPSHOTS / MT_MASSIF_DETAILED_FREQ + 2];
    size_t nt = 0;
    for (size_t i = MT_MASSIF_DETAILED_FREQ - 1; i < ns; i += MT_MASSIF_DETAILED_FREQ) {
        if (snaps[i].detail || nt == sizeof times / sizeof times[0])
            continue;
        snaps[i].detail = 3;
        snaps[i].held = nt;
        times[nt++] = snaps[i].time_us;
    }
    mt_massif_held_t held = {sites, NULL};
    int rc = -ENOMEM;
    mt_mtree_t tree;
    memset(&tree, 0, sizeof tree);
    uint32_t *leaf = malloc((sites->n ? sites->n : 1) * sizeof *leaf);
    if (!leaf)
        goto fail;
    if (nt) {
        held.bytes = calloc(nt * (sites->n ? sites->n : 1), sizeof *held.bytes);
        if (!held.bytes)
            goto fail;
        char err[256];
        rc = mt_analysis_snapshots(a, times, nt, mt_massif_take, &held, err, sizeof err);
        if (rc < 0)
            goto fail;
        rc = -ENOMEM;
    }
    if (mt_mtree_build(&tree, sites, held.bytes, nt, leaf) < 0)
        goto fail;
    char *cmd = mt_analysis_command(a);
    if (!cmd)
        goto fail;
    fprintf(out, "desc: (memtrace export of ");
    mt_massif_text(out, a->path);
    if (a->window.on) /* --from/--to: the snapshots are the window's */
        fprintf(out, ", window %" PRIu64 ".%03" PRIu64 " s to %" PRIu64 ".%03" PRIu64 " s",
                a->window.from_us / 1000000, a->window.from_us % 1000000 / 1000,
                a->window.to_us / 1000000, a->window.to_us % 1000000 / 1000);
    fprintf(out, ")\ncmd: ");
    mt_massif_text(out, cmd[0] ? cmd : "(unknown)");
    fprintf(out, "\ntime_unit: ms\n");
    free(cmd);
    for (size_t i = 0; i < ns; i++) {
        const mt_msnap_t *s = &snaps[i];
        if (!s->detail) {
            mt_massif_snapshot(out, i, s, "empty");
            continue;
        }
        const uint64_t *by_site = s->detail == 3 ? held.bytes + s->held * sites->n : NULL;
        mt_mtree_fill(&tree, sites, leaf, s->detail == 2 ? MT_COST_LEAKED : MT_COST_PEAK, by_site);
        mt_msnap_t d = *s;
        if (s->detail == 3) /* the heap at that moment (the tree's total), not the maximum */
            d.heap = tree.v[0].bytes;
        mt_massif_snapshot(out, i, &d, s->detail == 1 ? "peak" : "detailed");
        if (mt_massif_node(out, a->modules, &tree, 0, 0, d.heap) < 0)
            goto fail;
    }
    rc = fflush(out) != 0 || ferror(out) ? -EIO : 0;
fail:
    free(held.bytes);
    free(leaf);
    mt_mtree_destroy(&tree);
    return rc;
}

// SPDX-License-Identifier: MIT
// Builds the fragmentation report (see report_fragmentation.h); render_fragmentation.c prints it.
// The allocator's own figures come from the SAMPLE that stands for each moment; holes, overhead and
// pinning are rebuilt from live-block addresses at exit with glibc's chunk layout (16-byte header
// before the user pointer, 16-byte granularity): estimates for glibc, named as such in the docs.
#include "report_fragmentation.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Churn: sites whose temporaries average at most this many bytes per allocation. */
#define MT_FRAG_SMALL 1024u
/* A stack pins when the live bytes from the top of the heap down to it are under a quarter
 * of the freed bytes in the same range: freeing those few blocks would let the heap shrink. */
#define MT_FRAG_PIN_RATIO 4u

uint64_t mt_frag_chunk_size(uint64_t n)
{
    uint64_t c = (n + 8 + 15) & ~(uint64_t)15;
    return c < 32 ? 32 : c;
}

/* More than 10% apart. */
static int mt_frag_differs(uint64_t a, uint64_t b)
{
    uint64_t d = a > b ? a - b : b - a;
    return d * 10 > (a > b ? a : b);
}

uint64_t mt_frag_holes_fitting(const mt_report_fragmentation_t *rep, uint64_t request)
{
    uint64_t need = mt_frag_chunk_size(request), n = 0;
    for (uint64_t i = 0; i < rep->nholes; i++)
        n += rep->hole_sizes[i] >= need;
    return n;
}

static void mt_frag_moment(mt_frag_moment_t *m, uint64_t t, uint64_t live, uint64_t in_arenas,
                           const mt_sample_t *s, uint64_t st)
{
    memset(m, 0, sizeof *m);
    m->time_us = t;
    m->live_bytes = live;
    m->arena_obj_bytes = in_arenas;
    if (!s)
        return;
    m->sampled = 1;
    m->sample_time_us = st;
    m->footprint_bytes = mt_sample_footprint(s);
    m->free_held_bytes = s->fordblks;
    m->free_chunks = s->ordblks;
    m->keepcost = s->keepcost;
    m->fragmentation_ratio =
        m->footprint_bytes ? (double)m->free_held_bytes / (double)m->footprint_bytes : 0.0;
}

void mt_frag_moment_of(mt_frag_moment_t *m, const mt_sample_point_t *p)
{
    mt_frag_moment(m, p->time_us, p->heap_bytes, p->arena_obj_bytes, &p->s, p->time_us);
}

typedef struct mt_frag_blocks {
    const mt_block_t **v;
    size_t n;
} mt_frag_blocks_t;

static void mt_frag_collect(const mt_block_t *b, void *arg)
{
    mt_frag_blocks_t *bl = arg;
    /* pymalloc's small blocks live in its arenas, not in glibc's heap (see python_arenas);
     * custom blocks (memtrace.h) inside the program's own slabs, which are glibc's. */
    if (b->size < MT_REPLAY_SMALL_BLOCK && !mt_pyinfo_in_arena(b) && b->kind != MT_ALLOC_CUSTOM)
        bl->v[bl->n++] = b;
}

static int mt_frag_by_addr(const void *pa, const void *pb)
{
    uint64_t a = (*(const mt_block_t *const *)pa)->addr, b = (*(const mt_block_t *const *)pb)->addr;
    return a < b ? -1 : a > b;
}

/* The small blocks of glibc's heap at the moment the report describes: the end of a Python
 * script (copied by python_info.c then), else the end of the log. */
static int mt_frag_blocks(const mt_report_fragmentation_t *rep, mt_frag_blocks_t *bl)
{
    const mt_replay_t *r = &rep->a->replay;
    const mt_pyinfo_t *p = &rep->a->python;
    size_t cap = rep->has_script_end ? p->end_heap_n : r->all_heap_blocks;
    bl->n = 0;
    bl->v = malloc((cap ? cap : 1) * sizeof *bl->v);
    if (!bl->v)
        return -ENOMEM;
    if (rep->has_script_end)
        for (size_t i = 0; i < p->end_heap_n; i++)
            bl->v[bl->n++] = &p->end_heap_v[i];
    else
        mt_replay_each_live(r, mt_frag_collect, bl);
    qsort(bl->v, bl->n, sizeof *bl->v, mt_frag_by_addr);
    return 0;
}

static int mt_frag_holes(mt_report_fragmentation_t *rep, mt_symbolizer_t *sym)
{
    const mt_replay_t *r = &rep->a->replay;
    mt_frag_blocks_t bl;
    if (mt_frag_blocks(rep, &bl) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < bl.n; i++) {
        rep->requested_bytes += bl.v[i]->size;
        rep->usable_bytes += mt_frag_chunk_size(bl.v[i]->size) - 8;
    }
    int rc = 0;
    if (bl.n == 0)
        goto out;
    /* The main heap starts at the lowest small block ever allocated (space below the lowest
     * live block was freed) and spans the sampled arena (all arenas together, so an
     * over-estimate with threads); without samples, up to the highest live block. */
    const mt_frag_moment_t *m = rep->has_script_end ? &rep->at_script_end : &rep->at_exit;
    uint64_t arena = !m->sampled           ? 0
                     : rep->has_script_end ? rep->a->python.end_sample.s.arena
                                           : r->last_sample.arena;
    uint64_t low =
        r->heap_low_addr && r->heap_low_addr < bl.v[0]->addr ? r->heap_low_addr : bl.v[0]->addr;
    rep->heap_start = low - 16;
    rep->heap_end = arena ? rep->heap_start + arena : bl.v[bl.n - 1]->addr + bl.v[bl.n - 1]->size;
    size_t n = 0;
    while (n < bl.n && bl.v[n]->addr < rep->heap_end)
        n++;
    uint64_t *below = calloc(n ? n : 1, sizeof *below); /* the hole under block i */
    rep->hole_sizes = malloc((n ? n : 1) * sizeof *rep->hole_sizes);
    if (!below || !rep->hole_sizes) {
        free(below);
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t end =
            i ? bl.v[i - 1]->addr - 16 + mt_frag_chunk_size(bl.v[i - 1]->size) : rep->heap_start;
        uint64_t start = bl.v[i]->addr - 16;
        if (start <= end)
            continue;
        uint64_t h = start - end;
        below[i] = h;
        rep->hole_sizes[rep->nholes] = h;
        unsigned k = mt_replay_size_bucket(h);
        rep->holes[k < MT_FRAG_HOLE_BUCKETS ? k : MT_FRAG_HOLE_BUCKETS - 1]++;
        rep->hole_bytes[k < MT_FRAG_HOLE_BUCKETS ? k : MT_FRAG_HOLE_BUCKETS - 1] += h;
        rep->nholes++;
        rep->holes_total += h;
        if (h > rep->largest_hole)
            rep->largest_hole = h;
    }
    /* Pinning: walk down from the top while the few live blocks above hold back much more
     * freed space; credit each block's stack with the hole beneath it. */
    uint64_t live_above = 0, free_above = 0;
    rep->pinning = calloc(n ? n : 1, sizeof *rep->pinning);
    rep->pinned = calloc(n ? n : 1, sizeof *rep->pinned);
    uint32_t *pin_node = calloc(n ? n : 1, sizeof *pin_node);
    if (!rep->pinning || !rep->pinned || !pin_node) {
        free(pin_node);
        free(below);
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = n; i-- > 0;) {
        live_above += bl.v[i]->size;
        free_above += below[i];
        if (live_above * MT_FRAG_PIN_RATIO > free_above)
            break;
        if (!below[i] || !mt_replay_block_selected(r, bl.v[i])) /* --thread: its blocks */
            continue;
        size_t j = 0;
        while (j < rep->npinning && pin_node[j] != bl.v[i]->node)
            j++;
        if (j == rep->npinning) {
            pin_node[j] = bl.v[i]->node;
            rep->npinning++;
        }
        rep->pinned[j] += below[i];
        rep->pinning[j].leaked_bytes += bl.v[i]->size;
        rep->pinning[j].leaked_blocks++;
    }
    /* Nodes whose stacks read the same (two lines' return addresses, an import's frames
     * hidden) are one row, at the place of the topmost; this loop is as quadratic in the
     * pinning nodes as the one above. */
    size_t kept = 0;
    for (size_t j = 0; j < rep->npinning && rc == 0; j++) {
        mt_frame_t *fr;
        int k = mt_sites_node_stack(rep->a, sym, pin_node[j], &fr);
        if (k < 0) {
            rc = k;
            break;
        }
        size_t same = 0;
        while (same < kept && !mt_sites_stack_equal(rep->pinning[same].frames,
                                                    rep->pinning[same].nframes, fr, (size_t)k))
            same++;
        if (same < kept) {
            free(fr);
            rep->pinning[same].nodes++;
            rep->pinning[same].imported += mt_sites_node_imported(rep->a, pin_node[j]);
            rep->pinned[same] += rep->pinned[j];
            rep->pinning[same].leaked_bytes += rep->pinning[j].leaked_bytes;
            rep->pinning[same].leaked_blocks += rep->pinning[j].leaked_blocks;
            continue;
        }
        rep->pinned[kept] = rep->pinned[j];
        rep->pinning[kept] = rep->pinning[j];
        rep->pinning[kept].frames = fr;
        rep->pinning[kept].nframes = (size_t)k;
        rep->pinning[kept].nodes = 1;
        rep->pinning[kept].imported = mt_sites_node_imported(rep->a, pin_node[j]);
        kept++;
    }
    rep->npinning = kept;
    free(pin_node);
    free(below);
out:
    free(bl.v);
    return rc;
}

/* A Python program recorded with its frames: the sites a user can act on are the ones with a
 * frame of Python code from a file, not only the interpreter's start-up (no Python frame), its
 * frozen modules (import machinery, site) or code compiled from a string. */
static int mt_frag_python_frames(const mt_analysis_t *a)
{
    return a->python.present && (a->python.flags & MT_PY_FRAMES);
}

static int mt_frag_site_in_script(const mt_site_t *s)
{
    /* made while importing: start-up cost, not the script's steady state (with the import
     * machinery hidden, only the nodes say so; with it shown, the frames below do too) */
    if (s->nodes && s->imported == s->nodes)
        return 0;
    int from_file = 0;
    for (size_t i = 0; i < s->nframes; i++) {
        const mt_frame_t *f = &s->frames[i];
        if (!f->python || !f->file)
            continue;
        if (strncmp(f->file, "<frozen importlib", 17) == 0)
            return 0; /* made while importing: start-up cost, not the script's steady state */
        if (f->file[0] != '<') /* not <frozen site>, <string>, <stdin> */
            from_file = 1;
    }
    return from_file;
}

static void mt_frag_pinning_in_script(mt_report_fragmentation_t *rep)
{
    size_t k = 0;
    for (size_t j = 0; j < rep->npinning; j++) {
        if (!mt_frag_site_in_script(&rep->pinning[j])) {
            free(rep->pinning[j].frames);
            continue;
        }
        rep->pinned[k] = rep->pinned[j];
        rep->pinning[k++] = rep->pinning[j];
    }
    rep->npinning = k;
}

/* A Python script's end: the recorder samples the allocator right before the marker; an older
 * log's last sample before it counts only when the heap was about the same then. */
static void mt_frag_script_end(mt_report_fragmentation_t *rep, const mt_analysis_t *a)
{
    const mt_pyinfo_t *p = &a->python;
    if (!p->script_end)
        return;
    rep->has_script_end = 1;
    const mt_sample_point_t *s = p->end_sampled ? &p->end_sample : NULL;
    /* end_sample.heap_bytes is every thread's, as the allocator sees them (a thread filter
     * narrows end_heap_bytes) */
    if (s && mt_frag_differs(s->heap_bytes, p->end_sample.heap_bytes))
        s = NULL;
    mt_frag_moment(&rep->at_script_end, p->script_end_us, p->end_sample.heap_bytes,
                   p->end_sample.arena_obj_bytes, s ? &s->s : NULL, s ? s->time_us : 0);
}

int mt_report_fragmentation_build(mt_report_fragmentation_t *rep, const mt_analysis_t *a,
                                  mt_symbolizer_t *sym, size_t top)
{
    const mt_replay_t *r = &a->replay;
    memset(rep, 0, sizeof *rep);
    rep->a = a;
    /* The sample taken nearest the peak in heap terms (mt_sample_nearer_peak): normally the
     * recorder's own sample at the high-water mark. One taken when the heap was far from its
     * peak says nothing about the peak. */
    /* The allocator's figures are the process's whatever the thread filter (replay.h): the
     * heap they are compared with is every thread's (all_*); the filter narrows the sites. */
    const mt_sample_point_t *near = r->nsamples_total ? &r->peak_sample : NULL;
    if (near && mt_frag_differs(near->heap_bytes, r->all_peak_bytes))
        near = NULL;
    mt_frag_moment(&rep->at_peak, r->peak_time_us, r->all_peak_bytes, r->all_peak_arena_obj_bytes,
                   near ? &near->s : NULL, near ? near->time_us : 0);
    /* exit: the last SAMPLE of the run, the replay's exact live bytes */
    uint64_t last_t = r->nsamples ? r->samples[r->nsamples - 1].time_us : 0;
    mt_frag_moment(&rep->at_exit, r->last_time_us, r->all_heap_bytes, r->all_arena_obj_bytes,
                   r->nsamples_total ? &r->last_sample : NULL, last_t);
    mt_frag_script_end(rep, a);
    int rc = mt_sites_build(&rep->sites, a, sym);
    if (rc < 0 || (rc = mt_frag_holes(rep, sym)) < 0)
        goto fail;
    if (a->python.present) {
        rep->py_arenas_at_script_end = a->python.end_arenas.valid;
        if (rep->py_arenas_at_script_end)
            rep->py_arenas = a->python.end_arenas;
        else if ((rc = mt_pyinfo_arena_usage(&a->python, r, r->last_time_us, &rep->py_arenas)) < 0)
            goto fail;
    }
    rep->churn = malloc((rep->sites.n ? rep->sites.n : 1) * sizeof *rep->churn);
    if (!rep->churn) {
        rc = -ENOMEM;
        goto fail;
    }
    size_t m = mt_sites_top(&rep->sites, MT_COST_TEMPORARY, rep->sites.n, rep->churn);
    int script_only = mt_frag_python_frames(a);
    for (size_t i = 0; i < m && rep->nchurn < top; i++) {
        size_t k = rep->churn[i];
        const mt_site_t *s = &rep->sites.v[k];
        if (s->bytes_allocated > (uint64_t)MT_FRAG_SMALL * s->allocations)
            continue;
        /* whether a site is the script's is read from its frames */
        int loaded = script_only ? mt_sites_load(&rep->sites, k) : 0;
        if (loaded < 0) {
            rc = loaded;
            goto fail;
        }
        if (!script_only || mt_frag_site_in_script(s))
            rep->churn[rep->nchurn++] = k;
        else if (loaded)
            mt_sites_drop(&rep->sites, k);
    }
    if (script_only)
        mt_frag_pinning_in_script(rep);
    if (rep->npinning > top)
        rep->npinning = top; /* kept in walk order: topmost first */
    if ((rc = mt_sites_load_list(&rep->sites, rep->churn, rep->nchurn)) < 0)
        goto fail;
    return 0;
fail:
    mt_report_fragmentation_destroy(rep);
    return rc;
}

void mt_report_fragmentation_destroy(mt_report_fragmentation_t *rep)
{
    mt_sites_destroy(&rep->sites);
    if (rep->pinning)
        for (size_t i = 0; i < rep->npinning; i++)
            free(rep->pinning[i].frames);
    free(rep->pinning);
    free(rep->pinned);
    free(rep->hole_sizes);
    free(rep->churn);
    memset(rep, 0, sizeof *rep);
}

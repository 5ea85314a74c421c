// SPDX-License-Identifier: MIT
// The fragmentation report as text and JSON (render_fragmentation.h), with the advice each
// section gives. Reads a built mt_report_fragmentation_t; prints only to the stream it is given.
#include "render_fragmentation.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "fmt.h"
#include "json_writer.h"
#include "render_stack.h"
#include "render_threads.h"
#include "text_escape.h"

static const char mt_pin_advice[] = "allocate these long-lived blocks early or from their own "
                                    "pool/arena, so the freed space below them can be returned";
static const char mt_churn_advice[] = "reuse a buffer or use a pool/arena for these small "
                                      "short-lived objects (Python: __slots__, generators)";

static void mt_json_moment(mt_json_t *j, const char *key, const mt_frag_moment_t *m,
                           const mt_report_fragmentation_t *rep, int has_holes)
{
    mt_json_key(j, key);
    mt_json_object_begin(j);
    mt_json_key_double(j, "time_s", (double)m->time_us / 1e6);
    mt_json_key_u64(j, "live_bytes", m->live_bytes);
    mt_json_key_u64(j, "pymalloc_object_bytes", m->arena_obj_bytes);
#define MT_OPT_U64(k, v)                                                                           \
    do {                                                                                           \
        mt_json_key(j, k);                                                                         \
        if (m->sampled)                                                                            \
            mt_json_u64(j, v);                                                                     \
        else                                                                                       \
            mt_json_null(j);                                                                       \
    } while (0)
    MT_OPT_U64("footprint_bytes", m->footprint_bytes);
    MT_OPT_U64("free_held_bytes", m->free_held_bytes);
    MT_OPT_U64("free_chunks", m->free_chunks);
    MT_OPT_U64("top_free_bytes", m->keepcost);
#undef MT_OPT_U64
    mt_json_key(j, "largest_free_bytes");
    if (has_holes)
        mt_json_u64(j, rep->largest_hole > m->keepcost ? rep->largest_hole : m->keepcost);
    else
        mt_json_null(j);
    mt_json_key(j, "fragmentation_ratio");
    if (m->sampled)
        mt_json_double(j, m->fragmentation_ratio);
    else
        mt_json_null(j);
    mt_json_key(j, "external_fragmentation");
    if (has_holes && m->sampled && m->free_held_bytes) {
        uint64_t lf = rep->largest_hole > m->keepcost ? rep->largest_hole : m->keepcost;
        mt_json_double(j, lf >= m->free_held_bytes ? 0.0
                                                   : 1.0 - (double)lf / (double)m->free_held_bytes);
    } else {
        mt_json_null(j);
    }
    mt_json_key(j, "sample_time_s");
    if (m->sampled)
        mt_json_double(j, (double)m->sample_time_us / 1e6);
    else
        mt_json_null(j);
    mt_json_object_end(j);
}

/* The sampled series: one entry per SAMPLE kept by the replay (bounded, decimated). */
static void mt_json_over_time(mt_json_t *j, const mt_replay_t *r)
{
    mt_json_key(j, "over_time");
    mt_json_array_begin(j);
    for (size_t i = 0; i < r->nsamples; i++) {
        const mt_sample_point_t *p = &r->samples[i];
        mt_frag_moment_t m;
        mt_frag_moment_of(&m, p);
        mt_json_object_begin(j);
        mt_json_key_double(j, "time_s", (double)p->time_us / 1e6);
        mt_json_key_u64(j, "live_bytes", p->heap_bytes);
        mt_json_key_u64(j, "pymalloc_object_bytes", p->arena_obj_bytes);
        mt_json_key_u64(j, "footprint_bytes", m.footprint_bytes);
        mt_json_key_u64(j, "free_held_bytes", m.free_held_bytes);
        mt_json_key_u64(j, "free_chunks", m.free_chunks);
        mt_json_key_u64(j, "rss_bytes", p->s.rss);
        mt_json_key_double(j, "fragmentation_ratio", m.fragmentation_ratio);
        mt_json_object_end(j);
    }
    mt_json_array_end(j);
}

static const char *const mt_py_fullness_keys[4] = {"under_25", "under_50", "under_75",
                                                   "at_least_75"};

static void mt_json_python_arenas(mt_json_t *j, const mt_report_fragmentation_t *rep)
{
    const mt_pyarena_usage_t *u = &rep->py_arenas;
    const mt_pyinfo_t *p = &rep->a->python;
    if (!u->valid) {
        mt_json_null(j);
        return;
    }
    mt_json_object_begin(j);
    mt_json_key_string(j, "moment", rep->py_arenas_at_script_end ? "script_end" : "exit");
    mt_json_key_double(j, "time_s", (double)u->time_us / 1e6);
    mt_json_key_u64(j, "arenas", u->arenas);
    mt_json_key_u64(j, "arena_bytes", u->arena_bytes);
    mt_json_key_u64(j, "used_bytes", u->used_bytes);
    mt_json_key_u64(j, "blocks", u->blocks);
    mt_json_key_double(j, "used_ratio",
                       u->arena_bytes ? (double)u->used_bytes / (double)u->arena_bytes : 0.0);
    mt_json_key(j, "fullness");
    mt_json_object_begin(j);
    for (unsigned k = 0; k < 4; k++) {
        mt_json_key_u64(j, mt_py_fullness_keys[k], u->fullness[k]);
    }
    mt_json_object_end(j);
    mt_json_key_u64(j, "peak_arenas", p->arena_peak_count);
    mt_json_key_u64(j, "peak_arena_bytes", p->arena_peak_bytes);
    mt_json_key_u64(j, "arenas_allocated", p->arena_allocs);
    mt_json_key_u64(j, "arenas_freed", p->arena_frees);
    mt_json_object_end(j);
}

int mt_render_fragmentation_json(const mt_report_fragmentation_t *rep, FILE *out, int pretty)
{
    mt_json_t j;
    mt_json_document_begin(&j, out, pretty, "memtrace-fragmentation", rep->a->path);
    /* --thread narrows the sites; the moments and holes stay the process's */
    mt_render_thread_filter_json(&j, rep->a);
    mt_json_moment(&j, "at_peak", &rep->at_peak, rep, 0);
    /* The holes (largest free, external fragmentation) belong to the moment they were
     * measured at: the end of a Python script, else exit. */
    mt_json_moment(&j, "at_exit", &rep->at_exit, rep, !rep->has_script_end);
    if (rep->has_script_end) {
        mt_json_moment(&j, "at_script_end", &rep->at_script_end, rep, 1);
    } else {
        mt_json_key(&j, "at_script_end");
        mt_json_null(&j);
    }
    mt_json_key(&j, "overhead");
    mt_json_object_begin(&j);
    mt_json_key_u64(&j, "requested_bytes", rep->requested_bytes);
    mt_json_key_u64(&j, "usable_bytes", rep->usable_bytes);
    mt_json_key_u64(&j, "overhead_bytes", rep->usable_bytes - rep->requested_bytes);
    mt_json_object_end(&j);
    mt_json_key(&j, "holes");
    mt_json_array_begin(&j);
    for (unsigned k = 0; k < MT_FRAG_HOLE_BUCKETS; k++) {
        if (!rep->holes[k])
            continue;
        mt_json_object_begin(&j);
        mt_json_key_u64(&j, "min", k ? 1ull << (k - 1) : 0);
        mt_json_key_u64(&j, "max", k ? (1ull << k) - 1 : 0);
        mt_json_key_u64(&j, "count", rep->holes[k]);
        mt_json_key_u64(&j, "bytes", rep->hole_bytes[k]);
        mt_json_object_end(&j);
    }
    mt_json_array_end(&j);
    mt_json_key(&j, "request");
    if (rep->request) {
        mt_json_object_begin(&j);
        mt_json_key_u64(&j, "bytes", rep->request);
        mt_json_key_u64(&j, "fitting_holes", mt_frag_holes_fitting(rep, rep->request));
        mt_json_object_end(&j);
    } else {
        mt_json_null(&j);
    }
    mt_json_over_time(&j, &rep->a->replay);
    mt_json_key(&j, "pinning_sites");
    mt_json_array_begin(&j);
    for (size_t i = 0; i < rep->npinning; i++) {
        mt_json_object_begin(&j);
        mt_json_key_u64(&j, "pinned_free_bytes", rep->pinned[i]);
        mt_json_key_u64(&j, "live_bytes", rep->pinning[i].leaked_bytes);
        mt_json_key_u64(&j, "blocks", rep->pinning[i].leaked_blocks);
        mt_json_key_string(&j, "suggestion", mt_pin_advice);
        mt_json_key(&j, "stack");
        mt_render_stack_json(&j, rep->a->modules, &rep->pinning[i]);
        mt_json_object_end(&j);
    }
    mt_json_array_end(&j);
    mt_json_key(&j, "churn_sites");
    mt_json_array_begin(&j);
    for (size_t i = 0; i < rep->nchurn; i++) {
        const mt_site_t *s = &rep->sites.v[rep->churn[i]];
        mt_json_object_begin(&j);
        mt_json_key_u64(&j, "temporary", s->temporary);
        mt_json_key_u64(&j, "allocations", s->allocations);
        mt_json_key_u64(&j, "bytes", s->bytes_allocated);
        mt_json_key_string(&j, "suggestion", mt_churn_advice);
        mt_render_site_end_json(&j, rep->a, s);
    }
    mt_json_array_end(&j);
    mt_json_key(&j, "python_arenas");
    mt_json_python_arenas(&j, rep);
    mt_json_object_end(&j);
    return mt_json_finish(&j);
}

static void mt_text_moment(FILE *o, const char *title, int width, const mt_frag_moment_t *m)
{
    char b1[32], b2[32], b3[32], c[32];
    fprintf(o, "  %-*s live %s", width, title, mt_fmt_bytes(b1, sizeof b1, m->live_bytes));
    if (m->sampled)
        fprintf(o, ", footprint %s, free held %s in %s chunks, ratio %.2f\n",
                mt_fmt_bytes(b2, sizeof b2, m->footprint_bytes),
                mt_fmt_bytes(b3, sizeof b3, m->free_held_bytes),
                mt_fmt_count(c, sizeof c, m->free_chunks), m->fragmentation_ratio);
    else
        fprintf(o, " (allocator not sampled at this moment)\n");
    /* Without this, a Python heap reads as more live bytes than glibc's footprint. */
    if (m->arena_obj_bytes)
        fprintf(o,
                "  %-*s (%s of the live bytes are small Python objects in pymalloc's arenas, "
                "outside glibc's heap)\n",
                width, "", mt_fmt_bytes(b1, sizeof b1, m->arena_obj_bytes));
}

/* At most this many rows of the sampled series in text; JSON has them all. */
#define MT_FRAG_TEXT_ROWS 10

static void mt_text_over_time(FILE *o, const char *head, const char *reset, const mt_replay_t *r)
{
    if (r->nsamples < 2)
        return;
    char t[32], b1[32], b2[32], b3[32], b4[32];
    int python = r->peak_arena_obj_bytes > 0;
    fprintf(o, "\n%sover time%s (%zu samples)\n", head, reset, r->nsamples);
    fprintf(o, "  %10s %12s", "time", "live");
    if (python)
        fprintf(o, " %12s", "in arenas");
    fprintf(o, " %12s %12s %6s\n", "footprint", "free held", "ratio");
    size_t rows = r->nsamples < MT_FRAG_TEXT_ROWS ? r->nsamples : MT_FRAG_TEXT_ROWS;
    for (size_t k = 0; k < rows; k++) {
        /* evenly spread, always showing the first and the last sample */
        const mt_sample_point_t *p = &r->samples[k * (r->nsamples - 1) / (rows - 1)];
        mt_frag_moment_t m;
        mt_frag_moment_of(&m, p);
        snprintf(t, sizeof t, "%.3f s", (double)p->time_us / 1e6);
        fprintf(o, "  %10s %12s", t, mt_fmt_bytes(b1, sizeof b1, m.live_bytes));
        if (python)
            fprintf(o, " %12s", mt_fmt_bytes(b4, sizeof b4, m.arena_obj_bytes));
        fprintf(o, " %12s %12s %6.2f\n", mt_fmt_bytes(b2, sizeof b2, m.footprint_bytes),
                mt_fmt_bytes(b3, sizeof b3, m.free_held_bytes), m.fragmentation_ratio);
    }
}

int mt_render_fragmentation_text(const mt_report_fragmentation_t *rep, FILE *o, int colour,
                                 size_t max_frames)
{
    const char *head = colour ? "\033[1;4m" : "", *reset = colour ? "\033[0m" : "";
    char b1[32], b2[32], b3[32], b4[32], b5[32], c[32];
    fprintf(o, "%smemtrace fragmentation%s ", head, reset);
    mt_text_put(o, rep->a->path);
    fputc('\n', o);
    mt_render_thread_filter_text(o, rep->a, 18);
    if (rep->a->thread_filter)
        fprintf(o, "  (the allocator's figures and holes are the whole process's: the thread "
                   "filter narrows the pinning and churn sites)\n");
    if (rep->has_script_end) {
        /* A script: its end is what it held; exit comes after interpreter finalization. */
        mt_text_moment(o, "at peak", 18, &rep->at_peak);
        mt_text_moment(o, "at script end", 18, &rep->at_script_end);
        mt_text_moment(o, "after finalization", 18, &rep->at_exit);
    } else {
        mt_text_moment(o, "at peak", 8, &rep->at_peak);
        mt_text_moment(o, "at exit", 8, &rep->at_exit);
    }
    fprintf(o, "  overhead (estimated for glibc): %s usable for %s requested\n",
            mt_fmt_bytes(b1, sizeof b1, rep->usable_bytes),
            mt_fmt_bytes(b2, sizeof b2, rep->requested_bytes));
    fprintf(o, "\n%sholes between live blocks at %s%s: %s, %s in total, largest %s\n", head,
            rep->has_script_end ? "the end of the script" : "exit", reset,
            mt_fmt_count(c, sizeof c, rep->nholes), mt_fmt_bytes(b1, sizeof b1, rep->holes_total),
            mt_fmt_bytes(b2, sizeof b2, rep->largest_hole));
    for (unsigned k = 0; k < MT_FRAG_HOLE_BUCKETS; k++)
        if (rep->holes[k])
            fprintf(o, "  %10s - <%-10s %10s holes\n", mt_fmt_bytes(b1, sizeof b1, 1ull << (k - 1)),
                    mt_fmt_bytes(b2, sizeof b2, 1ull << k),
                    mt_fmt_count(c, sizeof c, rep->holes[k]));
    if (rep->request)
        fprintf(o, "  a request of %s fits in %s of these holes\n",
                mt_fmt_bytes(b1, sizeof b1, rep->request),
                mt_fmt_count(c, sizeof c, mt_frag_holes_fitting(rep, rep->request)));
    mt_text_over_time(o, head, reset, &rep->a->replay);
    fprintf(o, "\n%spinning sites%s\n", head, reset);
    if (!rep->npinning)
        fprintf(o, "  (none)\n");
    for (size_t i = 0; i < rep->npinning; i++) {
        fprintf(o, "  #%zu %s freed below %s live in %s blocks: %s\n", i + 1,
                mt_fmt_bytes(b1, sizeof b1, rep->pinned[i]),
                mt_fmt_bytes(b2, sizeof b2, rep->pinning[i].leaked_bytes),
                mt_fmt_count(c, sizeof c, rep->pinning[i].leaked_blocks), mt_pin_advice);
        mt_render_stack_text(o, colour, rep->a->modules, &rep->pinning[i], max_frames);
    }
    const mt_pyarena_usage_t *u = &rep->py_arenas;
    if (u->valid) {
        fprintf(o,
                "\n%spymalloc arenas%s (at %s): %s held (%s), %s used by %s live small "
                "objects (%.0f%%); peak %s arenas (%s)\n",
                head, reset, rep->py_arenas_at_script_end ? "the end of the script" : "exit",
                mt_fmt_count(c, sizeof c, u->arenas), mt_fmt_bytes(b1, sizeof b1, u->arena_bytes),
                mt_fmt_bytes(b2, sizeof b2, u->used_bytes), mt_fmt_count(b3, sizeof b3, u->blocks),
                u->arena_bytes ? 100.0 * (double)u->used_bytes / (double)u->arena_bytes : 0.0,
                mt_fmt_count(b4, sizeof b4, rep->a->python.arena_peak_count),
                mt_fmt_bytes(b5, sizeof b5, rep->a->python.arena_peak_bytes));
        fprintf(o,
                "  arenas by fullness: %" PRIu64 " under 25%%, %" PRIu64 " under 50%%, %" PRIu64
                " under 75%%, %" PRIu64 " at least 75%%\n",
                u->fullness[0], u->fullness[1], u->fullness[2], u->fullness[3]);
        if (u->arenas && u->fullness[0] * 2 > u->arenas)
            fprintf(o, "  most arenas are nearly empty: a few long-lived objects keep each "
                       "arena alive (create them together, or use __slots__)\n");
    }
    fprintf(o, "\n%schurn sites%s\n", head, reset);
    if (!rep->nchurn)
        fprintf(o, "  (none)\n");
    for (size_t i = 0; i < rep->nchurn; i++) {
        const mt_site_t *s = &rep->sites.v[rep->churn[i]];
        fprintf(o, "  #%zu %s temporary of %s allocations", i + 1,
                mt_fmt_count(c, sizeof c, s->temporary),
                mt_fmt_count(b1, sizeof b1, s->allocations));
        mt_render_site_threads_text(o, rep->a, s);
        fprintf(o, ": %s\n", mt_churn_advice);
        mt_render_stack_text(o, colour, rep->a->modules, s, max_frames);
    }
    return ferror(o) ? -EIO : 0;
}

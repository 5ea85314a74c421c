// SPDX-License-Identifier: MIT
// Per-thread views as text, JSON and labels (render_threads.h): the thread table, the
// --thread filter line and a site's thread column. Writes only to the stream it is given.
#include "render_threads.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "render_stack.h"
#include "text_escape.h"

static double mt_rt_secs(uint64_t us)
{
    return (double)us / 1e6;
}

static void mt_rt_name_json(mt_json_t *j, const mt_analysis_t *a, uint64_t tid)
{
    mt_json_key_u64(j, "tid", tid);
    mt_json_key(j, "name");
    mt_json_string(j, mt_tnames_get(&a->thread_names, tid)); /* null: never named */
}

void mt_render_window_json(mt_json_t *j, const mt_analysis_t *a)
{
    if (!a->window.on)
        return; /* no key at all: the output without a window stays as it was */
    mt_json_key(j, "window");
    mt_json_object_begin(j);
    mt_json_key_double(j, "from_s", (double)a->window.from_us / 1e6);
    mt_json_key_double(j, "to_s", (double)a->window.to_us / 1e6);
    mt_json_key_bool(j, "to_end_of_log", a->window_at_end);
    mt_json_object_end(j);
}

const char *mt_window_note(char *buf, size_t len, const mt_analysis_t *a)
{
    if (!a->window.on)
        return NULL;
    snprintf(buf, len,
             "window %" PRIu64 ".%03" PRIu64 " s to %" PRIu64 ".%03" PRIu64
             " s: allocated in it, held at its end",
             a->window.from_us / 1000000, a->window.from_us % 1000000 / 1000,
             a->window.to_us / 1000000, a->window.to_us % 1000000 / 1000);
    return buf;
}

void mt_render_window_text(FILE *o, const mt_analysis_t *a, int width)
{
    if (!a->window.on)
        return;
    fprintf(o,
            "  %-*s %" PRIu64 ".%03" PRIu64 " s to %" PRIu64 ".%03" PRIu64 " s%s: allocated in it,"
            " held at its end\n",
            width, "window", a->window.from_us / 1000000, a->window.from_us % 1000000 / 1000,
            a->window.to_us / 1000000, a->window.to_us % 1000000 / 1000,
            a->window_at_end ? " (end of log)" : "");
}

void mt_render_thread_filter_json(mt_json_t *j, const mt_analysis_t *a)
{
    const mt_replay_t *r = &a->replay;
    /* Only for such a log: the key is new, and every other log's reports stay as they were. */
    if (a->aggregated)
        mt_json_key_bool(j, "aggregated", 1);
    mt_render_window_json(j, a); /* every report that says whose blocks says when, too */
    mt_json_key(j, "thread_filter");
    if (!a->thread_filter) {
        mt_json_null(j);
        return;
    }
    mt_json_object_begin(j);
    mt_json_key(j, "threads");
    mt_json_array_begin(j);
    for (size_t i = 0; i < r->nsel; i++) {
        mt_json_object_begin(j);
        mt_rt_name_json(j, a, r->sel_tids[i]);
        mt_json_object_end(j);
    }
    mt_json_array_end(j);
    /* The moment the filtered peak figures are read at (replay.h). */
    mt_json_key_u64(j, "process_peak_heap_bytes", r->all_peak_bytes);
    mt_json_key_u64(j, "process_peak_heap_blocks", r->all_peak_blocks);
    mt_json_object_end(j);
}

int mt_render_threads_json(mt_json_t *j, const mt_analysis_t *a)
{
    mt_report_threads_t rep;
    if (mt_report_threads_build(&rep, a) < 0)
        return -ENOMEM;
    if (a->aggregated) /* no thread's figures were kept (README, "Aggregated recording") */
        rep.n = 0;
    mt_json_key(j, "threads");
    mt_json_array_begin(j);
    for (size_t i = 0; i < rep.n; i++) {
        const mt_thread_row_t *t = &rep.v[i];
        mt_json_object_begin(j);
        mt_rt_name_json(j, a, t->st.tid);
        mt_json_key_u64(j, "allocations", t->st.allocations);
        mt_json_key_u64(j, "bytes_allocated", t->st.bytes_allocated);
        mt_json_key_u64(j, "own_peak_bytes", t->st.own_peak_bytes);
        mt_json_key_double(j, "own_peak_time_s", mt_rt_secs(t->st.own_peak_us));
        mt_json_key_u64(j, "bytes_at_heap_peak", t->st.peak_bytes);
        mt_json_key_u64(j, "blocks_at_heap_peak", t->st.peak_blocks);
        mt_json_key_u64(j, "held_bytes", t->held_bytes);
        mt_json_key_u64(j, "held_blocks", t->held_blocks);
        mt_json_key_double(j, "first_s", mt_rt_secs(t->st.first_us));
        mt_json_key_double(j, "last_s", mt_rt_secs(t->st.last_us));
        mt_json_object_end(j);
    }
    mt_json_array_end(j);
    mt_render_thread_filter_json(j, a);
    mt_report_threads_destroy(&rep);
    return 0;
}

int mt_render_threads_text(FILE *o, const mt_analysis_t *a, int colour, size_t max)
{
    mt_report_threads_t rep;
    if (mt_report_threads_build(&rep, a) < 0)
        return -ENOMEM;
    const char *head = colour ? "\033[1;4m" : "", *reset = colour ? "\033[0m" : "";
    int end = a->python.script_end;
    fprintf(o, "\n%sthreads%s (%zu)\n", head, reset, rep.n);
    if (rep.n == 0)
        fprintf(o, "  (none)\n");
    else
        fprintf(o, "  %-24s %8s %12s %11s %11s %11s %11s\n", "thread", "tid", "allocations",
                "allocated", "own peak", "at peak", end ? "at end" : "not freed");
    size_t shown = max && max < rep.n ? max : rep.n;
    for (size_t i = 0; i < shown; i++) {
        const mt_thread_row_t *t = &rep.v[i];
        char name[64], c[32], b1[32], b2[32], b3[32], b4[32];
        fprintf(o, "  %-24.24s %8" PRIu64 " %12s %11s %11s %11s %11s\n",
                mt_text_safe(name, sizeof name, t->label), t->st.tid,
                mt_fmt_count(c, sizeof c, t->st.allocations),
                mt_fmt_bytes(b1, sizeof b1, t->st.bytes_allocated),
                mt_fmt_bytes(b2, sizeof b2, t->st.own_peak_bytes),
                mt_fmt_bytes(b3, sizeof b3, t->st.peak_bytes),
                mt_fmt_bytes(b4, sizeof b4, t->held_bytes));
    }
    if (shown < rep.n)
        fprintf(o, "  ... %zu more threads (--format json lists them all)\n", rep.n - shown);
    fprintf(o, "  (own peak: the most the thread held at once; at peak: what it held at the heap "
               "peak)\n");
    mt_report_threads_destroy(&rep);
    return 0;
}

void mt_render_thread_filter_text(FILE *o, const mt_analysis_t *a, int width)
{
    const mt_replay_t *r = &a->replay;
    if (a->aggregated)
        fprintf(o, "  %-*s %s\n", width, "log", MT_RENDER_AGGREGATED);
    mt_render_window_text(o, a, width);
    if (!a->thread_filter)
        return;
    fprintf(o, "  %-*s ", width, "threads");
    if (r->nsel == 0)
        fputs("none of this log's", o);
    mt_render_thread_list(o, a, mt_text_put, 8);
    fputs(" only\n", o);
}

void mt_render_thread_list(FILE *o, const mt_analysis_t *a, void (*put)(FILE *, const char *),
                           size_t max)
{
    const mt_replay_t *r = &a->replay;
    for (size_t i = 0; i < r->nsel; i++) {
        char label[96];
        mt_analysis_thread_label(a, r->sel_tids[i], label, sizeof label);
        fputs(i ? ", " : "", o);
        put(o, label);
        fprintf(o, " (%" PRIu64 ")", r->sel_tids[i]);
        if (i + 1 == max && r->nsel > max) {
            fprintf(o, ", ... %zu more", r->nsel - max);
            break;
        }
    }
}

const char *mt_thread_filter_note(char *buf, size_t len, const mt_analysis_t *a)
{
    const mt_replay_t *r = &a->replay;
    if (!a->thread_filter)
        return NULL;
    int k = snprintf(buf, len, "thread%s ", r->nsel == 1 ? "" : "s");
    size_t used = k > 0 ? (size_t)k : 0;
    for (size_t i = 0; i < r->nsel && used < len; i++) {
        char label[96];
        mt_analysis_thread_label(a, r->sel_tids[i], label, sizeof label);
        k = snprintf(buf + used, len - used, "%s%s (%" PRIu64 ")", i ? ", " : "", label,
                     r->sel_tids[i]);
        used += k > 0 ? (size_t)k : 0;
    }
    if (used < len)
        snprintf(buf + used, len - used, r->nsel ? " only" : "none");
    return buf;
}

void mt_render_site_threads_json(mt_json_t *j, const mt_analysis_t *a, const mt_site_t *s)
{
    mt_json_key_u64(j, "thread_count", s->nthreads);
    mt_json_key(j, "threads");
    mt_json_array_begin(j);
    for (uint32_t i = 0; i < s->nthreads && i < MT_SITE_THREADS_LISTED; i++) {
        mt_json_object_begin(j);
        mt_rt_name_json(j, a, mt_replay_thread(&a->replay, mt_site_thread(s, i)).tid);
        mt_json_object_end(j);
    }
    mt_json_array_end(j);
}

void mt_render_site_end_json(mt_json_t *j, const mt_analysis_t *a, const mt_site_t *s)
{
    mt_json_key(j, "stack");
    mt_render_stack_json(j, a->modules, s);
    mt_render_site_threads_json(j, a, s);
    mt_json_object_end(j);
}

const char *mt_site_threads_label(char *buf, size_t len, const mt_analysis_t *a, const mt_site_t *s)
{
    char label[96];
    size_t used = 0;
    buf[0] = '\0';
    if (s->nthreads == 1) {
        uint64_t tid = mt_replay_thread(&a->replay, mt_site_thread(s, 0)).tid;
        mt_analysis_thread_label(a, tid, label, sizeof label);
        snprintf(buf, len, "%s (%" PRIu64 ")", label, tid);
        return buf;
    }
    if (s->nthreads == 0)
        return buf;
    int k = snprintf(buf, len, "%" PRIu32 " threads: ", s->nthreads);
    used = k > 0 ? (size_t)k : 0;
    for (uint32_t i = 0; i < s->nthreads && i < 3 && used < len; i++) {
        uint64_t tid = mt_replay_thread(&a->replay, mt_site_thread(s, i)).tid;
        mt_analysis_thread_label(a, tid, label, sizeof label);
        k = snprintf(buf + used, len - used, "%s%s %" PRIu64, i ? ", " : "", label, tid);
        used += k > 0 ? (size_t)k : 0;
    }
    if (s->nthreads > 3 && used < len)
        snprintf(buf + used, len - used, ", ...");
    return buf;
}

void mt_render_site_threads_text(FILE *o, const mt_analysis_t *a, const mt_site_t *s)
{
    char buf[256];
    if (s->nthreads == 0)
        return;
    fputs(s->nthreads == 1 ? ", thread " : ", ", o);
    mt_text_put(o, mt_site_threads_label(buf, sizeof buf, a, s));
}

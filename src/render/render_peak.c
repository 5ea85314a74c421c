// SPDX-License-Identifier: MIT
// The peak report as text, JSON and the one-line reason of --fail-peak-above (render_peak.h).
// Reads a built mt_report_peak_t; prints only to the stream it is given.
#include "render_peak.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "fmt.h"
#include "json_writer.h"
#include "render_stack.h"
#include "render_threads.h"
#include "text_escape.h"

void mt_render_peak_reason(const mt_report_peak_t *rep, const char *verdict, char *buf, size_t len)
{
    const mt_replay_t *r = &rep->a->replay;
    char b[96], t[32], held[64], where[288] = "", most[400] = "";
    if (rep->n) {
        const mt_site_t *s = &rep->sites.v[rep->idx[0]];
        if (mt_render_user_where(where, sizeof where, rep->a->modules, s->frames, s->nframes))
            snprintf(most, sizeof most, "; the most held then, %s bytes, %s",
                     mt_fmt_count(held, sizeof held, s->peak_bytes), where);
    }
    snprintf(buf, len, "peak heap %s at %s%s%s",
             mt_fmt_bytes_exact(b, sizeof b, r->peak_heap_bytes),
             mt_fmt_clock(t, sizeof t, r->peak_time_us), verdict, most);
}

static double mt_peak_secs(uint64_t us)
{
    return (double)us / 1e6;
}

int mt_render_peak_json(const mt_report_peak_t *rep, FILE *out, int pretty)
{
    const mt_replay_t *r = &rep->a->replay;
    mt_json_t j;
    mt_json_document_begin(&j, out, pretty, "memtrace-peak", rep->a->path);
    mt_json_key_u64(&j, "peak_heap_bytes", r->peak_heap_bytes);
    mt_json_key_u64(&j, "peak_heap_blocks", r->peak_heap_blocks);
    mt_json_key_double(&j, "peak_time_s", mt_peak_secs(r->peak_time_us));
    mt_json_key(&j, "peak_rss_bytes");
    if (r->nsamples_total)
        mt_json_u64(&j, r->peak_rss_bytes);
    else
        mt_json_null(&j);
    mt_json_key(&j, "peak_rss_time_s");
    if (r->nsamples_total)
        mt_json_double(&j, mt_peak_secs(r->peak_rss_time_us));
    else
        mt_json_null(&j);
    /* each thread's part of the peak; with --thread, the peak figures are those threads' */
    if (mt_render_threads_json(&j, rep->a) < 0)
        return -ENOMEM;
    mt_json_key(&j, "sites");
    mt_json_array_begin(&j);
    for (size_t i = 0; i < rep->n; i++) {
        const mt_site_t *s = &rep->sites.v[rep->idx[i]];
        mt_json_object_begin(&j);
        mt_json_key_u64(&j, "bytes", s->peak_bytes);
        mt_json_key_u64(&j, "blocks", s->peak_blocks);
        mt_render_site_end_json(&j, rep->a, s);
    }
    mt_json_array_end(&j);
    mt_json_key(&j, "other_sites");
    mt_json_object_begin(&j);
    mt_json_key_u64(&j, "sites", rep->other_sites);
    mt_json_key_u64(&j, "bytes", rep->other_bytes);
    mt_json_key_u64(&j, "blocks", rep->other_blocks);
    mt_json_object_end(&j);
    mt_json_key_bool(&j, "truncated", rep->a->truncated);
    mt_json_object_end(&j);
    return mt_json_finish(&j);
}

int mt_render_peak_text(const mt_report_peak_t *rep, FILE *o, int colour, size_t max_frames)
{
    const mt_replay_t *r = &rep->a->replay;
    const char *head = colour ? "\033[1;4m" : "", *bold = colour ? "\033[1m" : "",
               *reset = colour ? "\033[0m" : "";
    char b[64], c[32], t[32];
    fprintf(o, "%smemtrace peak%s ", head, reset);
    mt_text_put(o, rep->a->path);
    fputc('\n', o);
    mt_render_thread_filter_text(o, rep->a, 18);
    fprintf(o, "  %-18s %s in %s blocks at %s\n", "peak heap",
            mt_fmt_bytes_exact(b, sizeof b, r->peak_heap_bytes),
            mt_fmt_count(c, sizeof c, r->peak_heap_blocks),
            mt_fmt_clock(t, sizeof t, r->peak_time_us));
    if (rep->a->thread_filter) /* replay.h: the threads' part of the process's peak */
        fprintf(o, "  %-18s %s (all threads; the figure above is these threads' part)\n",
                "process peak", mt_fmt_bytes_exact(b, sizeof b, r->all_peak_bytes));
    if (r->nsamples_total)
        fprintf(o, "  %-18s %s at %s\n", "peak RSS",
                mt_fmt_bytes_exact(b, sizeof b, r->peak_rss_bytes),
                mt_fmt_clock(t, sizeof t, r->peak_rss_time_us));
    else
        fprintf(o, "  %-18s not sampled\n", "peak RSS");
    fprintf(o, "\n%ssites holding the peak%s\n", head, reset);
    if (rep->n == 0)
        fprintf(o, "  (none)\n");
    for (size_t i = 0; i < rep->n; i++) {
        const mt_site_t *s = &rep->sites.v[rep->idx[i]];
        double pct =
            r->peak_heap_bytes ? 100.0 * (double)s->peak_bytes / (double)r->peak_heap_bytes : 0.0;
        fprintf(o, "  %s#%zu%s %s in %s blocks (%.1f%%)", bold, i + 1, reset,
                mt_fmt_bytes_exact(b, sizeof b, s->peak_bytes),
                mt_fmt_count(c, sizeof c, s->peak_blocks), pct);
        mt_render_site_threads_text(o, rep->a, s);
        fputc('\n', o);
        mt_render_stack_text(o, colour, rep->a->modules, s, max_frames);
    }
    if (rep->other_sites)
        fprintf(o, "  ... %zu more sites hold %s in %s blocks\n", rep->other_sites,
                mt_fmt_bytes_exact(b, sizeof b, rep->other_bytes),
                mt_fmt_count(c, sizeof c, rep->other_blocks));
    if (mt_render_threads_text(o, rep->a, colour, 20) < 0)
        return -ENOMEM;
    if (rep->a->truncated)
        mt_render_text_warning(o, "", "", rep->a->truncation, rep->a->cut_reason);
    return ferror(o) ? -EIO : 0;
}

// SPDX-License-Identifier: MIT
// Temporary allocations, lifetimes and sizes in `memtrace report` (see render_histograms.h).
// Buckets with no allocation are left out of both outputs so a report stays short; the JSON
// gives each bucket's bounds, so a script never has to know how buckets are chosen.
#include "render_histograms.h"

#include <inttypes.h>

#include "fmt.h"
#include "render_stack.h"
#include "render_threads.h"

static void mt_render_lifetimes_json(mt_json_t *j, const mt_histograms_t *h)
{
    mt_json_object_begin(j);
    for (unsigned i = 0; i < MT_LIFETIME_BUCKETS; i++) {
        mt_json_key(j, mt_histograms_lifetime_label(i));
        mt_json_u64(j, h->lifetimes[i]);
    }
    mt_json_key_u64(j, "never_freed", h->never_freed);
    mt_json_object_end(j);
}

void mt_render_histograms_json(mt_json_t *j, const mt_report_summary_t *rep)
{
    const mt_replay_t *r = &rep->a->replay;
    const mt_histograms_t *h = &rep->hist;
    mt_json_key_u64(j, "temporary_allocations", r->temporary_allocations);
    mt_json_key(j, "top_temporary_sites");
    mt_json_array_begin(j);
    for (size_t i = 0; i < rep->nby_temporary; i++) {
        const mt_site_t *s = &rep->sites.v[rep->by_temporary[i]];
        mt_json_object_begin(j);
        mt_json_key_u64(j, "temporary", s->temporary);
        mt_json_key_u64(j, "allocations", s->allocations);
        mt_json_key_u64(j, "bytes", s->bytes_allocated);
        mt_render_site_end_json(j, rep->a, s);
    }
    mt_json_array_end(j);
    mt_json_key(j, "lifetimes");
    if (r->aggregated) { /* an aggregated log has no block's birth and death */
        mt_json_null(j);
    } else {
        mt_render_lifetimes_json(j, h);
    }
    mt_json_key(j, "sizes");
    mt_json_array_begin(j);
    for (unsigned i = 0; i < MT_SIZE_BUCKETS; i++) {
        if (!h->sizes[i])
            continue;
        mt_json_object_begin(j);
        mt_json_key_u64(j, "min", mt_histograms_size_lo(i));
        mt_json_key_u64(j, "max", mt_histograms_size_hi(i));
        mt_json_key_u64(j, "count", h->sizes[i]);
        mt_json_object_end(j);
    }
    mt_json_array_end(j);
}

/* A bar of up to 30 cells proportional to v/max. */
static void mt_bar(FILE *o, uint64_t v, uint64_t max)
{
    unsigned n = max ? (unsigned)((v * 30 + max - 1) / max) : 0;
    for (unsigned i = 0; i < n; i++)
        fputs("#", o);
}

void mt_render_histograms_text(FILE *o, const mt_report_summary_t *rep, int colour,
                               size_t max_frames)
{
    const mt_replay_t *r = &rep->a->replay;
    const mt_histograms_t *h = &rep->hist;
    const char *head = colour ? "\033[1;4m" : "", *bold = colour ? "\033[1m" : "",
               *reset = colour ? "\033[0m" : "";
    char c1[32], c2[32], b1[32], b2[32];
    double pct =
        r->allocations ? 100.0 * (double)r->temporary_allocations / (double)r->allocations : 0.0;
    fprintf(o, "\n%stemporary allocations%s (freed before the same thread allocated again)\n", head,
            reset);
    fprintf(o, "  %s of %s allocations (%.1f%%)\n",
            mt_fmt_count(c1, sizeof c1, r->temporary_allocations),
            mt_fmt_count(c2, sizeof c2, r->allocations), pct);
    for (size_t i = 0; i < rep->nby_temporary; i++) {
        const mt_site_t *s = &rep->sites.v[rep->by_temporary[i]];
        fprintf(o, "  %s#%zu%s %s temporary of %s allocations", bold, i + 1, reset,
                mt_fmt_count(c1, sizeof c1, s->temporary),
                mt_fmt_count(c2, sizeof c2, s->allocations));
        mt_render_site_threads_text(o, rep->a, s);
        fputc('\n', o);
        mt_render_stack_text(o, colour, rep->a->modules, s, max_frames);
    }

    uint64_t max = h->never_freed;
    for (unsigned i = 0; i < MT_LIFETIME_BUCKETS; i++)
        max = h->lifetimes[i] > max ? h->lifetimes[i] : max;
    fprintf(o, "\n%sblock lifetimes%s\n", head, reset);
    if (r->aggregated)
        fprintf(o, "  (not in an aggregated log: no block's birth and death was written)\n");
    for (unsigned i = 0; !r->aggregated && i < MT_LIFETIME_BUCKETS; i++) {
        fprintf(o, "  %-12s %14s  ", mt_histograms_lifetime_label(i),
                mt_fmt_count(c1, sizeof c1, h->lifetimes[i]));
        mt_bar(o, h->lifetimes[i], max);
        fputc('\n', o);
    }
    fprintf(o, "  %-12s %14s  ", "never freed", mt_fmt_count(c1, sizeof c1, h->never_freed));
    mt_bar(o, h->never_freed, max);
    fputc('\n', o);

    max = 0;
    for (unsigned i = 0; i < MT_SIZE_BUCKETS; i++)
        max = h->sizes[i] > max ? h->sizes[i] : max;
    fprintf(o, "\n%sallocation sizes%s\n", head, reset);
    for (unsigned i = 0; i < MT_SIZE_BUCKETS; i++) {
        if (!h->sizes[i])
            continue;
        char range[80];
        if (i == 0)
            snprintf(range, sizeof range, "0 B");
        else if (i == 64)
            snprintf(range, sizeof range, ">= %s",
                     mt_fmt_bytes(b1, sizeof b1, mt_histograms_size_lo(i)));
        else /* half-open, so rounding never shows "1.00 KiB - 2.00 KiB" twice */
            snprintf(range, sizeof range, "%s - <%s",
                     mt_fmt_bytes(b1, sizeof b1, mt_histograms_size_lo(i)),
                     mt_fmt_bytes(b2, sizeof b2, mt_histograms_size_hi(i) + 1));
        fprintf(o, "  %-22s %12s  ", range, mt_fmt_count(c1, sizeof c1, h->sizes[i]));
        mt_bar(o, h->sizes[i], max);
        fputc('\n', o);
    }
}

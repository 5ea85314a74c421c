// SPDX-License-Identifier: MIT
// Text rendering of reports for people: aligned labels, binary units with the exact byte
// count beside them, stacks innermost first. Colour only when the caller says so; this file
// never looks at the terminal or the environment.
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "fmt.h"
#include "render.h"
#include "render_histograms.h"
#include "render_stack.h"
#include "render_threads.h"
#include "text_escape.h"

typedef struct mt_style {
    const char *bold, *dim, *head, *num, *fn, *warn, *reset;
} mt_style_t;

static const mt_style_t mt_plain = {"", "", "", "", "", "", ""};
static const mt_style_t mt_ansi = {"\033[1m",    "\033[2m",    "\033[1;4m", "\033[36m",
                                   "\033[1;32m", "\033[1;33m", "\033[0m"};

static void mt_row(FILE *o, const mt_style_t *st, const char *label, const char *value)
{
    fprintf(o, "  %-18s %s", label, st->num);
    mt_text_put(o, value); /* the command line is the program's */
    fprintf(o, "%s\n", st->reset);
}

static void mt_text_sites(FILE *o, const mt_style_t *st, const mt_report_summary_t *rep,
                          const char *title, const size_t *idx, size_t n, size_t max_frames)
{
    fprintf(o, "\n%s%s%s\n", st->head, title, st->reset);
    if (n == 0)
        fprintf(o, "  (none)\n");
    for (size_t i = 0; i < n; i++) {
        const mt_site_t *s = &rep->sites.v[idx[i]];
        char b[64], c[32], lb[64], lc[32];
        fprintf(o, "  %s#%zu%s %s%s%s in %s%s%s allocations", st->bold, i + 1, st->reset, st->num,
                mt_fmt_bytes_exact(b, sizeof b, s->bytes_allocated), st->reset, st->num,
                mt_fmt_count(c, sizeof c, s->allocations), st->reset);
        if (s->leaked_blocks)
            fprintf(o, ", %s leaked in %s blocks",
                    mt_fmt_bytes_exact(lb, sizeof lb, s->leaked_bytes),
                    mt_fmt_count(lc, sizeof lc, s->leaked_blocks));
        mt_render_site_threads_text(o, rep->a, s);
        fputc('\n', o);
        mt_render_stack_text(o, st == &mt_ansi, rep->a->modules, s, max_frames);
    }
}

/* How the log began (a fork, an exec) and where the process went on: the rows that let a
 * person walk from one log of a process tree to the next (analysis.h, mt_lineage_t). */
static void mt_text_lineage(FILE *o, const mt_style_t *st, const mt_analysis_t *a)
{
    const mt_lineage_t *l = &a->lineage;
    const mt_replay_t *r = &a->replay;
    char v[4400], b1[64], b2[64], c1[32], c2[32];
    if (l->how == MT_ORIGIN_FORK) {
        snprintf(v, sizeof v, "forked by pid %" PRIu64 ", log %s", a->process.ppid,
                 l->from_log && l->from_log[0] ? l->from_log : "unknown");
        mt_row(o, st, "started as", v);
    } else if (l->how == MT_ORIGIN_EXEC) {
        snprintf(v, sizeof v, "exec'd by the image of log %s", l->from_log);
        mt_row(o, st, "started as", v);
    } else if (l->how == MT_ORIGIN_ATTACH) {
        mt_row(o, st, "recorded",
               r->has_exit && r->exit_reason == MT_EXIT_DETACH
                   ? "from an attach to the detach (memtrace attach): blocks allocated before "
                     "are not counted, blocks not freed were held at the detach"
                   : "from an attach (memtrace attach): blocks allocated before are not counted");
    }
    if (a->inherit == MT_INHERIT_UNKNOWN) {
        mt_row(o, st, "inherited heap", "not counted");
        mt_render_text_line(o, "    ", st->warn, a->inherit_note, st->reset);
    } else if (a->inherit != MT_INHERIT_NONE && !mt_replay_tid_selected(r, 0)) {
        /* --thread without 0: the figures below are the child's own threads' (replay.h) */
        mt_row(o, st, "inherited heap",
               "not in these figures: its blocks are the thread (inherited), tid 0 "
               "(--thread 0 selects them)");
    } else if (a->inherit != MT_INHERIT_NONE) {
        snprintf(v, sizeof v, "%s in %s blocks at the fork; %s of them (%s) freed here",
                 mt_fmt_bytes_exact(b1, sizeof b1, r->inherited_bytes),
                 mt_fmt_count(c1, sizeof c1, r->inherited_blocks),
                 mt_fmt_count(c2, sizeof c2, r->inherited_freed_blocks),
                 mt_fmt_bytes(b2, sizeof b2, r->inherited_freed_bytes));
        mt_row(o, st, "inherited heap", v);
    }
    if (r->has_exit && r->exit_reason == MT_EXIT_EXEC && l->next_log) {
        snprintf(v, sizeof v, "the exec'd program's log is %s", l->next_log);
        mt_row(o, st, "then", v);
    }
}

int mt_render_summary_text(const mt_report_summary_t *rep, FILE *o, const mt_render_opts_t *opts)
{
    const mt_style_t *st = opts->colour ? &mt_ansi : &mt_plain;
    const mt_analysis_t *a = rep->a;
    const mt_replay_t *r = &a->replay;
    char v[256], b1[64], b2[64], c1[32], t1[32];

    fprintf(o, "%smemtrace report%s ", st->head, st->reset);
    mt_text_put(o, a->path);
    fputc('\n', o);
    mt_row(o, st, "command", rep->command[0] ? rep->command : "(unknown)");
    if (r->has_exit) {
        const char *why = mt_render_exit_reason(r->exit_reason);
        if (r->exit_reason == MT_EXIT_SIGNAL)
            snprintf(v, sizeof v, "%" PRIu64 ", killed by signal %" PRIu64,
                     a->process.present ? a->process.pid : a->header_pid, r->exit_status);
        else
            snprintf(v, sizeof v, "%" PRIu64 ", exit %s %" PRIu64,
                     a->process.present ? a->process.pid : a->header_pid, why ? why : "?",
                     r->exit_status);
    } else {
        snprintf(v, sizeof v, "%" PRIu64 ", %s",
                 a->process.present ? a->process.pid : a->header_pid,
                 a->window_stopped ? "exit after the window" : "no exit recorded");
    }
    mt_row(o, st, "pid", v);
    mt_text_lineage(o, st, a);
    mt_render_thread_filter_text(o, a, 18);
    mt_row(o, st, "duration", mt_fmt_seconds(v, sizeof v, r->last_time_us));
    mt_row(o, st, "allocations", mt_fmt_count(v, sizeof v, r->allocations));
    mt_row(o, st, "frees", mt_fmt_count(v, sizeof v, r->frees));
    mt_row(o, st, "bytes allocated", mt_fmt_bytes_exact(v, sizeof v, r->bytes_allocated));
    if (r->allocs_by_kind[MT_ALLOC_CUSTOM] || r->custom_blocks) {
        /* memtrace.h's blocks: counted above too, as their slabs are */
        char c2[32];
        snprintf(v, sizeof v, "%s allocations, %s; %s not freed, %s",
                 mt_fmt_count(c1, sizeof c1, r->allocs_by_kind[MT_ALLOC_CUSTOM]),
                 mt_fmt_bytes_exact(b1, sizeof b1, r->custom_bytes_allocated),
                 mt_fmt_count(c2, sizeof c2, r->custom_blocks),
                 mt_fmt_bytes_exact(b2, sizeof b2, r->custom_bytes));
        mt_row(o, st, "custom blocks", v);
    }
    snprintf(v, sizeof v, "%s at %s", mt_fmt_bytes_exact(b1, sizeof b1, r->peak_heap_bytes),
             mt_fmt_clock(t1, sizeof t1, r->peak_time_us));
    mt_row(o, st, "peak heap", v);
    if (a->thread_filter) { /* what the peak above is read at (replay.h) */
        snprintf(v, sizeof v, "%s (all threads; the figure above is these threads' part)",
                 mt_fmt_bytes_exact(b1, sizeof b1, r->all_peak_bytes));
        mt_row(o, st, "process peak", v);
    }
    if (r->nsamples_total) {
        snprintf(v, sizeof v, "%s at %s", mt_fmt_bytes_exact(b1, sizeof b1, r->peak_rss_bytes),
                 mt_fmt_clock(t1, sizeof t1, r->peak_rss_time_us));
        mt_row(o, st, "peak RSS", v);
    } else {
        mt_row(o, st, "peak RSS", "not sampled");
    }
    mt_held_t held = mt_analysis_held(a);
    if (held.at_script_end) {
        snprintf(v, sizeof v, "%s in %s blocks", mt_fmt_bytes_exact(b1, sizeof b1, held.bytes),
                 mt_fmt_count(c1, sizeof c1, held.blocks));
        mt_row(o, st, "held at script end", v);
    }
    int n =
        snprintf(v, sizeof v, "%s in %s blocks", mt_fmt_bytes_exact(b1, sizeof b1, r->heap_bytes),
                 mt_fmt_count(c1, sizeof c1, r->heap_blocks));
    uint64_t kept = r->inherited_blocks - r->inherited_freed_blocks;
    if (kept && n > 0 && (size_t)n < sizeof v)
        snprintf(v + n, sizeof v - (size_t)n, ", %s of them (%s) inherited",
                 mt_fmt_count(c1, sizeof c1, kept),
                 mt_fmt_bytes(b2, sizeof b2, r->inherited_bytes - r->inherited_freed_bytes));
    mt_row(o, st,
           a->window_stopped                                 ? "held at window end"
           : a->truncated                                    ? "live at end of log"
           : held.at_script_end                              ? "after finalization"
           : r->has_exit && r->exit_reason == MT_EXIT_DETACH ? "held at detach"
                                                             : "not freed at exit",
           v);
    if (a->leaks.complete) {
        const mt_leakclass_t *lc = &a->leaks;
        snprintf(v, sizeof v,
                 "definite %s B in %" PRIu64 ", indirect %" PRIu64 " B in %" PRIu64
                 ", possible %" PRIu64 " B in %" PRIu64 ", reachable %" PRIu64 " B in %" PRIu64,
                 mt_fmt_count(c1, sizeof c1, lc->bytes[MT_LEAKS_DEFINITE]),
                 lc->blocks[MT_LEAKS_DEFINITE], lc->bytes[MT_LEAKS_INDIRECT],
                 lc->blocks[MT_LEAKS_INDIRECT], lc->bytes[MT_LEAKS_POSSIBLE],
                 lc->blocks[MT_LEAKS_POSSIBLE], lc->bytes[MT_LEAKS_REACHABLE],
                 lc->blocks[MT_LEAKS_REACHABLE]);
        mt_row(o, st, "leaks", v);
    } else {
        mt_row(o, st, "leaks", "not classified (record with 'memtrace run --leak-check')");
    }
    if (r->mmap_calls || r->munmap_calls) {
        snprintf(v, sizeof v, "peak %s, %s still mapped at the end",
                 mt_fmt_bytes_exact(b1, sizeof b1, r->mmap_peak_bytes),
                 mt_fmt_bytes_exact(b2, sizeof b2, r->mmap_bytes));
        mt_row(o, st, "anonymous mmap", v);
    }
    if (r->unknown_frees) {
        mt_row(o, st, "unknown frees", mt_fmt_count(v, sizeof v, r->unknown_frees));
    }
    if (r->freed_before_attach) { /* memtrace attach: not errors, blocks it never saw made */
        snprintf(v, sizeof v, "%s blocks freed, allocated before attach",
                 mt_fmt_count(c1, sizeof c1, r->freed_before_attach));
        mt_row(o, st, "before attach", v);
    }
    for (size_t i = 0; i < a->marks.n; i++) { /* memtrace_mark, in order */
        mt_fmt_clock(t1, sizeof t1, a->marks.v[i].time_us);
        snprintf(v, sizeof v, "%s  %s", t1, a->marks.v[i].name);
        mt_row(o, st, "mark", v);
    }

    char title[96];
    snprintf(title, sizeof title, "top %zu allocation sites by bytes allocated", rep->nby_bytes);
    mt_text_sites(o, st, rep, title, rep->by_bytes, rep->nby_bytes, opts->max_frames);
    snprintf(title, sizeof title, "top %zu allocation sites by number of allocations",
             rep->nby_count);
    mt_text_sites(o, st, rep, title, rep->by_count, rep->nby_count, opts->max_frames);
    mt_render_histograms_text(o, rep, opts->colour, opts->max_frames);
    if (!a->aggregated && mt_render_threads_text(o, a, opts->colour, 20) < 0)
        return -ENOMEM;

    size_t nw = mt_symbolizer_warning_count(rep->sym);
    if (nw) {
        fprintf(o, "\n%snotes%s\n", st->head, st->reset);
        for (size_t i = 0; i < nw; i++)
            mt_render_text_line(o, "  ", st->warn, mt_symbolizer_warning(rep->sym, i), st->reset);
    }
    if (a->truncated)
        mt_render_text_warning(o, st->warn, st->reset, a->truncation, a->cut_reason);
    if (a->allocator_notice[0])
        mt_render_text_warning(o, st->warn, st->reset, a->allocator_notice, NULL);
    if (a->lost_notice[0])
        mt_render_text_warning(o, st->warn, st->reset, a->lost_notice, NULL);
    return ferror(o) ? -EIO : 0;
}

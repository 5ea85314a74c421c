// SPDX-License-Identifier: MIT
// Rendering of `memtrace diff` (see render_diff.h): a text table of the totals and the sites that
// changed, largest growth first, or the JSON of docs/json-schema.md. Colour only when the
// caller says so; never looks at the terminal itself.
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "render_diff.h"
#include "fmt.h"
#include "json_writer.h"
#include "render_stack.h"
#include "render_threads.h"
#include "text_escape.h"

/* "+96,256 B", "-1,024 B", "0 B" (exact, signed) */
static const char *mt_signed_bytes(char *buf, size_t len, int64_t v, const char *unit)
{
    char c[32];
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    snprintf(buf, len, "%s%s%s%s",
             v > 0   ? "+"
             : v < 0 ? "-"
                     : "",
             mt_fmt_count(c, sizeof c, m), unit[0] ? " " : "", unit);
    return buf;
}

/* "(+12.5%)", "(new)" when old is 0, "" when nothing changed */
static const char *mt_percent(char *buf, size_t len, uint64_t old, uint64_t new_)
{
    if (old == new_)
        buf[0] = '\0';
    else if (!old)
        snprintf(buf, len, " (new)");
    else
        snprintf(buf, len, " (%+.1f%%)", ((double)new_ - (double)old) * 100.0 / (double)old);
    return buf;
}

static void mt_diff_row(FILE *o, const char *label, uint64_t old, uint64_t new_, const char *unit,
                        const char *num, const char *reset)
{
    char a[32], b[32], c[40], p[32], ua[40], ub[40];
    snprintf(ua, sizeof ua, "%s%s%s", mt_fmt_count(a, sizeof a, old), unit[0] ? " " : "", unit);
    snprintf(ub, sizeof ub, "%s%s%s", mt_fmt_count(b, sizeof b, new_), unit[0] ? " " : "", unit);
    fprintf(o, "  %-18s %18s %18s   %s%s%s%s\n", label, ua, ub, num,
            mt_signed_bytes(c, sizeof c, (int64_t)(new_ - old), unit), reset,
            mt_percent(p, sizeof p, old, new_));
}

static const char *const mt_status_names[] = {"changed", "new", "vanished"};

int mt_render_diff_text(const mt_diff_t *d, FILE *o, const mt_diff_render_opts_t *opt)
{
    const char *head = opt->colour ? "\033[1;4m" : "", *bold = opt->colour ? "\033[1m" : "";
    const char *num = opt->colour ? "\033[36m" : "", *reset = opt->colour ? "\033[0m" : "";
    const char *grow = opt->colour ? "\033[1;31m" : "", *shrink = opt->colour ? "\033[1;32m" : "";
    fprintf(o, "%smemtrace diff%s ", head, reset);
    mt_text_put(o, d->a_old->path);
    fputs(" -> ", o);
    mt_text_put(o, d->a_new->path);
    fputc('\n', o);
    char note[256];
    const mt_analysis_t *runs[] = {d->a_old, d->a_new};
    for (int i = 0; i < 2; i++)
        if (mt_thread_filter_note(note, sizeof note, runs[i])) {
            fprintf(o, "  %-18s ", i ? "new run" : "old run");
            mt_text_put(o, note);
            fputc('\n', o);
        }
    /* --from/--to: each run's window, on its own clock (a mark or the peak differ per run) */
    for (int i = 0; i < 2; i++)
        if (mt_window_note(note, sizeof note, runs[i])) {
            fprintf(o, "  %-18s ", i ? "new run" : "old run");
            mt_text_put(o, note);
            fputc('\n', o);
        }
    int win = d->a_old->window.on;
    fprintf(o, "  %-18s %18s %18s   %s\n", "", "old", "new", "change");
    mt_diff_row(o, "peak heap", d->old.peak_bytes, d->new_.peak_bytes, "B", num, reset);
    mt_diff_row(o, win ? "held at window end" : "not freed at exit", d->old.leaked_bytes,
                d->new_.leaked_bytes, "B", num, reset);
    mt_diff_row(o, "allocations", d->old.allocations, d->new_.allocations, "", num, reset);
    mt_diff_row(o, "bytes allocated", d->old.bytes_allocated, d->new_.bytes_allocated, "B", num,
                reset);

    const char *what = d->by == MT_DIFF_BY_LEAKED ? "not freed at exit" : "held at the peak";
    size_t n = opt->top && opt->top < d->norder ? opt->top : d->norder;
    char cnt[32];
    fprintf(o, "\n%ssites by change in bytes %s%s (%zu of %s that changed)\n", head, what, reset, n,
            mt_fmt_count(cnt, sizeof cnt, d->norder));
    if (!n)
        fprintf(o, "  (none)\n");
    for (size_t i = 0; i < n; i++) {
        const mt_diff_site_t *s = &d->v[d->order[i]];
        int64_t dp = mt_diff_site_delta(s, MT_DIFF_BY_PEAK),
                dl = mt_diff_site_delta(s, MT_DIFF_BY_LEAKED);
        int64_t main_d = d->by == MT_DIFF_BY_LEAKED ? dl : dp;
        char a[40], b[32], c[32], e[40], f[32], g[32];
        enum mt_diff_status st = mt_diff_status(s);
        fprintf(o, "  %s#%zu%s %s%s%s at peak (%s -> %s B), %s not freed (%s -> %s B)", bold, i + 1,
                reset,
                main_d > 0   ? grow
                : main_d < 0 ? shrink
                             : num,
                mt_signed_bytes(a, sizeof a, dp, "B"), reset,
                mt_fmt_count(b, sizeof b, s->old.peak_bytes),
                mt_fmt_count(c, sizeof c, s->new_.peak_bytes),
                mt_signed_bytes(e, sizeof e, dl, "B"),
                mt_fmt_count(f, sizeof f, s->old.leaked_bytes),
                mt_fmt_count(g, sizeof g, s->new_.leaked_bytes));
        if (st != MT_DIFF_CHANGED)
            fprintf(o, "  %s[%s]%s", bold, mt_status_names[st], reset);
        else if (s->moved)
            fputs("  [lines moved]", o);
        fputc('\n', o);
        mt_render_stack_text(o, opt->colour, s->mods, s->shown, opt->max_frames);
    }
    if (opt->fail_above) {
        int over = mt_diff_exceeds(d, opt->fail_above);
        fprintf(o, "\n--fail-above %s: %s\n", opt->fail_above_text,
                over ? "exceeded" : "not exceeded");
    }
    return ferror(o) ? -EIO : 0;
}

static void mt_diff_figures_json(mt_json_t *j, const mt_diff_figures_t *f)
{
    mt_json_object_begin(j);
    mt_json_key_u64(j, "peak_bytes", f->peak_bytes);
    mt_json_key_u64(j, "peak_blocks", f->peak_blocks);
    mt_json_key_u64(j, "leaked_bytes", f->leaked_bytes);
    mt_json_key_u64(j, "leaked_blocks", f->leaked_blocks);
    mt_json_key_u64(j, "allocations", f->allocations);
    mt_json_key_u64(j, "bytes_allocated", f->bytes_allocated);
    mt_json_object_end(j);
}

static void mt_diff_delta_json(mt_json_t *j, const mt_diff_figures_t *o, const mt_diff_figures_t *n)
{
    mt_json_object_begin(j);
    mt_json_key(j, "peak_bytes");
    mt_json_i64(j, (int64_t)(n->peak_bytes - o->peak_bytes));
    mt_json_key(j, "leaked_bytes");
    mt_json_i64(j, (int64_t)(n->leaked_bytes - o->leaked_bytes));
    mt_json_key(j, "allocations");
    mt_json_i64(j, (int64_t)(n->allocations - o->allocations));
    mt_json_key(j, "bytes_allocated");
    mt_json_i64(j, (int64_t)(n->bytes_allocated - o->bytes_allocated));
    mt_json_object_end(j);
}

static void mt_diff_run_json(mt_json_t *j, const mt_analysis_t *a, const mt_diff_figures_t *f)
{
    char *cmd = mt_analysis_command(a);
    mt_json_object_begin(j);
    mt_json_key_string(j, "path", a->path);
    mt_json_key_string(j, "command", cmd ? cmd : "");
    mt_json_key_bool(j, "truncated", a->truncated);
    mt_render_thread_filter_json(j, a); /* --thread: that run's threads of those names */
    mt_json_key(j, "totals");
    mt_diff_figures_json(j, f);
    mt_json_object_end(j);
    free(cmd);
}

int mt_render_diff_json(const mt_diff_t *d, FILE *out, const mt_diff_render_opts_t *opt)
{
    mt_json_t j;
    mt_json_document_begin(&j, out, 1, "memtrace-diff", NULL);
    mt_json_key(&j, "old");
    mt_diff_run_json(&j, d->a_old, &d->old);
    mt_json_key(&j, "new");
    mt_diff_run_json(&j, d->a_new, &d->new_);
    mt_json_key(&j, "delta");
    mt_diff_delta_json(&j, &d->old, &d->new_);
    mt_json_key_string(&j, "by", d->by == MT_DIFF_BY_LEAKED ? "leaked" : "peak");
    mt_json_key_u64(&j, "sites_changed", d->norder);
    mt_json_key(&j, "sites");
    mt_json_array_begin(&j);
    size_t n = opt->top && opt->top < d->norder ? opt->top : d->norder;
    for (size_t i = 0; i < n; i++) {
        const mt_diff_site_t *s = &d->v[d->order[i]];
        mt_json_object_begin(&j);
        mt_json_key_string(&j, "status", mt_status_names[mt_diff_status(s)]);
        mt_json_key_bool(&j, "lines_moved", s->moved);
        mt_json_key(&j, "old");
        mt_diff_figures_json(&j, &s->old);
        mt_json_key(&j, "new");
        mt_diff_figures_json(&j, &s->new_);
        mt_json_key(&j, "delta");
        mt_diff_delta_json(&j, &s->old, &s->new_);
        mt_json_key(&j, "stack");
        mt_render_stack_json(&j, s->mods, s->shown);
        mt_json_object_end(&j);
    }
    mt_json_array_end(&j);
    mt_json_key(&j, "fail_above");
    if (opt->fail_above) {
        mt_json_object_begin(&j);
        mt_json_key_string(&j, "threshold", opt->fail_above_text);
        mt_json_key_bool(&j, "percent", opt->fail_above->percent);
        mt_json_key_double(&j, "value", opt->fail_above->value);
        mt_json_key_bool(&j, "exceeded", mt_diff_exceeds(d, opt->fail_above));
        mt_json_object_end(&j);
    } else {
        mt_json_null(&j);
    }
    mt_json_object_end(&j);
    return mt_json_finish(&j);
}

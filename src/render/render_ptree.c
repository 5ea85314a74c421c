// SPDX-License-Identifier: MIT
// Rendering of the process tree (see render_ptree.h). Commands and paths come from the logs:
// text goes through text_escape, JSON through the writer's escaping.
#include "render_ptree.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "fmt.h"
#include "render.h"
#include "text_escape.h"

/* A command cell longer than this is cut ("..."): the rows stay rows on a terminal. */
#define MT_PTREE_COMMAND_MAX 160

typedef struct mt_pstyle {
    const char *head, *num, *warn, *reset;
} mt_pstyle_t;

static const mt_pstyle_t mt_pplain = {"", "", "", ""};
static const mt_pstyle_t mt_pansi = {"\033[1;4m", "\033[36m", "\033[1;33m", "\033[0m"};

static void mt_ptree_row(FILE *o, const mt_pstyle_t *st, const char *label, const char *value)
{
    fprintf(o, "  %-18s %s%s%s\n", label, st->num, value, st->reset);
}

/* "0", "1", "signal 9", "no exit" (the log ends early), "exec'd" (the next image wrote none). */
static const char *mt_ptree_exit(const mt_pimage_t *im, char *buf, size_t len)
{
    if (!im->has_exit)
        return "no exit";
    if (im->exit_reason == MT_EXIT_SIGNAL)
        snprintf(buf, len, "signal %" PRIu64, im->exit_status);
    else if (im->exit_reason == MT_EXIT_EXEC)
        return "exec'd";
    else
        snprintf(buf, len, "%" PRIu64, im->exit_status);
    return buf;
}

static void mt_ptree_totals(const mt_ptree_t *t, FILE *o, const mt_pstyle_t *st)
{
    char v[512], b1[64], b2[64], c1[32], c2[32];
    size_t big = mt_ptree_biggest(t);
    if (big != MT_PTREE_NONE) {
        const mt_process_t *p = &t->procs[big];
        char cmd[128];
        snprintf(v, sizeof v, "%s, pid %" PRIu64 ": %s",
                 mt_fmt_bytes_exact(b1, sizeof b1, p->peak_bytes), p->pid,
                 mt_text_safe(cmd, sizeof cmd, t->images[p->peak_image].command));
        mt_ptree_row(o, st, "largest peak heap", v);
    }
    snprintf(v, sizeof v,
             "%s over %zu processes (a forked child that does not exec counts "
             "its parent's heap again)",
             mt_fmt_bytes_exact(b1, sizeof b1, t->peak_sum), t->nprocs);
    mt_ptree_row(o, st, "peaks added up", v);
    snprintf(v, sizeof v, "%s in %s blocks, in %zu of the processes",
             mt_fmt_bytes_exact(b1, sizeof b1, t->held_bytes),
             mt_fmt_count(c1, sizeof c1, t->held_blocks), t->held_procs);
    mt_ptree_row(o, st, "not freed at exit", v);
    snprintf(v, sizeof v, "%s (%s), %s frees", mt_fmt_count(c1, sizeof c1, t->allocations),
             mt_fmt_bytes(b2, sizeof b2, t->bytes_allocated),
             mt_fmt_count(c2, sizeof c2, t->frees));
    mt_ptree_row(o, st, "allocations", v);
    if (t->unknown_frees)
        mt_ptree_row(o, st, "unknown frees", mt_fmt_count(v, sizeof v, t->unknown_frees));
    mt_ptree_row(o, st, "duration",
                 mt_fmt_seconds(v, sizeof v,
                                t->end_ns > t->start_ns ? (t->end_ns - t->start_ns) / 1000 : 0));
}

/* The commands of a process's images, "a -> b -> c", cut to MT_PTREE_COMMAND_MAX. */
static void mt_ptree_commands(const mt_ptree_t *t, const mt_process_t *p, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t k = 0; k < p->nimages && n + 1 < len; k++) {
        char safe[MT_PTREE_COMMAND_MAX + 8];
        mt_text_safe(safe, sizeof safe, t->images[p->images[k]].command);
        int w = snprintf(out + n, len - n, "%s%s", k ? " -> " : "", safe[0] ? safe : "?");
        n = w < 0 ? n : n + (size_t)w < len ? n + (size_t)w : len - 1;
    }
    if (n > MT_PTREE_COMMAND_MAX)
        memcpy(out + MT_PTREE_COMMAND_MAX - 3, "...", 4);
}

static void mt_ptree_logs(FILE *o, const mt_ptree_t *t, const mt_process_t *p)
{
    fprintf(o, "%56s%s ", "", p->nimages > 1 ? "logs:" : "log:");
    for (size_t k = 0; k < p->nimages; k++) {
        const mt_pimage_t *im = &t->images[p->images[k]];
        if (k)
            fputs(" -> ", o);
        mt_text_put(o, im->path);
        if (im->truncated)
            fputs(" (truncated)", o);
    }
    fputc('\n', o);
}

static void mt_ptree_table(const mt_ptree_t *t, FILE *o, const mt_pstyle_t *st, int as_tree)
{
    fprintf(o, "\n%sprocesses %s%s\n", st->head, as_tree ? "as a tree" : "by peak heap", st->reset);
    fprintf(o, "  %8s %8s %11s %11s  %-9s  %s\n", "PID", "PPID", "PEAK", "NOT FREED", "EXIT",
            "COMMAND");
    for (size_t i = 0; i < t->nprocs; i++) {
        const mt_process_t *p = &t->procs[as_tree ? t->tree_order[i] : t->by_peak[i]];
        const mt_pimage_t *last = &t->images[p->images[p->nimages - 1]];
        char b1[32], b2[32], ex[32], cmd[MT_PTREE_COMMAND_MAX + 16];
        mt_ptree_commands(t, p, cmd, sizeof cmd);
        fprintf(o, "  %8" PRIu64 " %8" PRIu64 " %s%11s %11s%s  %-9s  %*s%s\n", p->pid, p->ppid,
                st->num, mt_fmt_bytes(b1, sizeof b1, p->peak_bytes),
                mt_fmt_bytes(b2, sizeof b2, p->held_bytes), st->reset,
                mt_ptree_exit(last, ex, sizeof ex), as_tree ? (int)(2 * p->depth) : 0, "", cmd);
        mt_ptree_logs(o, t, p);
    }
}

int mt_render_ptree_text(const mt_ptree_t *t, FILE *o, const mt_ptree_render_opts_t *opts)
{
    const mt_pstyle_t *st = opts->colour ? &mt_pansi : &mt_pplain;
    fprintf(o, "%smemtrace %s%s: %zu process%s in %zu log%s", st->head,
            opts->command ? opts->command : "report", st->reset, t->nprocs,
            t->nprocs == 1 ? "" : "es", t->nimages, t->nimages == 1 ? "" : "s");
    if (t->run_id && t->run_id[0]) {
        fputs(", run ", o);
        mt_text_put(o, t->run_id);
    }
    fputc('\n', o);
    mt_ptree_totals(t, o, st);
    mt_ptree_table(t, o, st, opts->as_tree);
    if (t->truncated || t->nskipped) {
        fputc('\n', o);
        if (t->truncated)
            fprintf(o,
                    "%swarning:%s %zu log%s end early (killed, or still running): their "
                    "figures go up to where they stop\n",
                    st->warn, st->reset, t->truncated, t->truncated == 1 ? "" : "s");
        if (t->other_runs)
            fprintf(o,
                    "%snote:%s the logs of %zu other run%s were left out: only the newest "
                    "run is shown\n",
                    st->warn, st->reset, t->other_runs, t->other_runs == 1 ? "" : "s");
        if (t->unreadable)
            fprintf(o, "%swarning:%s %zu file%s could not be read (see the messages above)\n",
                    st->warn, st->reset, t->unreadable, t->unreadable == 1 ? "" : "s");
        size_t copies = 0;
        for (size_t i = 0; i < t->nskipped; i++)
            copies +=
                strncmp(t->skipped[i].reason, MT_PTREE_SAME_LOG, strlen(MT_PTREE_SAME_LOG)) == 0;
        if (copies)
            fprintf(o, "%snote:%s %zu log%s given twice or copied %s counted once\n", st->warn,
                    st->reset, copies, copies == 1 ? "" : "s", copies == 1 ? "was" : "were");
    }
    return ferror(o) ? -EIO : 0;
}

/* ---- JSON ---- */

static void mt_ptree_json_exit(mt_json_t *j, const mt_pimage_t *im)
{
    if (!im->has_exit) {
        mt_json_null(j);
        return;
    }
    mt_json_object_begin(j);
    mt_json_key_string(j, "reason", mt_render_exit_reason(im->exit_reason));
    mt_json_key_u64(j, "status", im->exit_status);
    mt_json_object_end(j);
}

static void mt_ptree_json_image(mt_json_t *j, const mt_pimage_t *im)
{
    mt_json_object_begin(j);
    mt_json_key_string(j, "log", im->path);
    mt_json_key_string(j, "command", im->command);
    mt_json_key_string(j, "exe", im->exe);
    mt_json_key_string(j, "origin", mt_render_origin(im->how));
    mt_json_key(j, "exit");
    mt_ptree_json_exit(j, im);
    mt_json_key_bool(j, "truncated", im->truncated);
    mt_json_key_u64(j, "allocations", im->allocations);
    mt_json_key_u64(j, "frees", im->frees);
    mt_json_key_u64(j, "bytes_allocated", im->bytes_allocated);
    mt_json_key_u64(j, "peak_heap_bytes", im->peak_bytes);
    mt_json_key_u64(j, "peak_heap_blocks", im->peak_blocks);
    mt_json_key_u64(j, "leaked_bytes", im->held_bytes);
    mt_json_key_u64(j, "leaked_blocks", im->held_blocks);
    mt_json_key_u64(j, "inherited_bytes", im->inherited_bytes);
    mt_json_key_u64(j, "inherited_blocks", im->inherited_blocks);
    mt_json_key_string(j, "inherited_note", im->inherit_note[0] ? im->inherit_note : NULL);
    mt_json_key_u64(j, "unknown_frees", im->unknown_frees);
    mt_json_object_end(j);
}

static void mt_ptree_json_process(mt_json_t *j, const mt_ptree_t *t, const mt_process_t *p)
{
    const mt_pimage_t *last = &t->images[p->images[p->nimages - 1]];
    mt_json_object_begin(j);
    mt_json_key_u64(j, "pid", p->pid);
    mt_json_key_u64(j, "ppid", p->ppid);
    mt_json_key(j, "parent_pid"); /* null: the parent wrote no log (a root of the tree) */
    if (p->parent == MT_PTREE_NONE)
        mt_json_null(j);
    else
        mt_json_u64(j, t->procs[p->parent].pid);
    mt_json_key_u64(j, "depth", p->depth);
    mt_json_key_string(j, "command", last->command);
    mt_json_key_string(j, "log", t->images[p->images[0]].path);
    mt_json_key_string(j, "peak_log", t->images[p->peak_image].path);
    mt_json_key(j, "exit");
    mt_ptree_json_exit(j, last);
    mt_json_key_u64(j, "peak_heap_bytes", p->peak_bytes);
    mt_json_key_u64(j, "leaked_bytes", p->held_bytes);
    mt_json_key_u64(j, "leaked_blocks", p->held_blocks);
    mt_json_key_u64(j, "allocations", p->allocations);
    mt_json_key_u64(j, "frees", p->frees);
    mt_json_key_u64(j, "bytes_allocated", p->bytes_allocated);
    mt_json_key(j, "images");
    mt_json_array_begin(j);
    for (size_t k = 0; k < p->nimages; k++)
        mt_ptree_json_image(j, &t->images[p->images[k]]);
    mt_json_array_end(j);
    mt_json_object_end(j);
}

static void mt_ptree_json_totals(mt_json_t *j, const mt_ptree_t *t)
{
    mt_json_key(j, "totals");
    mt_json_object_begin(j);
    mt_json_key_u64(j, "processes", t->nprocs);
    mt_json_key_u64(j, "logs", t->nimages);
    mt_json_key_u64(j, "truncated_logs", t->truncated);
    mt_json_key_u64(j, "allocations", t->allocations);
    mt_json_key_u64(j, "frees", t->frees);
    mt_json_key_u64(j, "bytes_allocated", t->bytes_allocated);
    mt_json_key(j, "peak_heap_bytes_max");
    size_t big = mt_ptree_biggest(t);
    mt_json_u64(j, big == MT_PTREE_NONE ? 0 : t->procs[big].peak_bytes);
    mt_json_key_u64(j, "peak_heap_bytes_sum", t->peak_sum);
    mt_json_key_u64(j, "leaked_bytes", t->held_bytes);
    mt_json_key_u64(j, "leaked_blocks", t->held_blocks);
    mt_json_key_u64(j, "processes_leaking", t->held_procs);
    mt_json_key_u64(j, "unknown_frees", t->unknown_frees);
    mt_json_key_double(j, "duration_s",
                       t->end_ns > t->start_ns ? (double)(t->end_ns - t->start_ns) / 1e9 : 0);
    mt_json_object_end(j);
}

void mt_render_ptree_json(const mt_ptree_t *t, mt_json_t *j)
{
    mt_json_object_begin(j);
    mt_json_key_string(j, "format", "memtrace-processes");
    mt_json_key_u64(j, "schema_version", 1);
    mt_json_key_string(j, "run_id", t->run_id && t->run_id[0] ? t->run_id : NULL);
    mt_ptree_json_totals(j, t);
    mt_json_key(j, "processes");
    mt_json_array_begin(j);
    for (size_t i = 0; i < t->nprocs; i++)
        mt_ptree_json_process(j, t, &t->procs[t->by_peak[i]]);
    mt_json_array_end(j);
    mt_json_key_u64(j, "other_runs", t->other_runs);
    mt_json_key(j, "skipped");
    mt_json_array_begin(j);
    for (size_t i = 0; i < t->nskipped; i++) {
        mt_json_object_begin(j);
        mt_json_key_string(j, "log", t->skipped[i].path);
        mt_json_key_string(j, "reason", t->skipped[i].reason);
        mt_json_object_end(j);
    }
    mt_json_array_end(j);
}

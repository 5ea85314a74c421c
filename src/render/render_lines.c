// SPDX-License-Identifier: MIT
// Text and JSON of the line-by-line report (render_lines.h). The text follows the layout
// Python users know from memory_profiler's @profile (Line #, figures, Line Contents), one
// table per function; source text from the file is escaped like every string from outside.
// Prints only to the stream it is given.
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "fmt.h"
#include "json_writer.h"
#include "render_stack.h"
#include "render_lines.h"
#include "render_threads.h"
#include "text_escape.h"

/* Widths of the text columns: "38.6 MiB" is at most 8 characters, "1,000,000,000" 13. */
#define MT_LINES_NUM_W 6
#define MT_LINES_BYTES_W 9
#define MT_LINES_COUNT_W 11
#define MT_LINES_TAB 8

static double mt_lines_secs(uint64_t us)
{
    return (double)us / 1e6;
}

/* ---- text ---- */

typedef struct mt_lines_style {
    const char *head, *bold, *dim, *reset;
} mt_lines_style_t;

static void mt_lines_group(FILE *o, const char *title, int width)
{
    int len = (int)strlen(title) + 2, left = (width - len) / 2, right = width - len - left;
    fputs("  ", o);
    for (int i = 0; i < left; i++)
        fputc('-', o);
    fprintf(o, " %s ", title);
    for (int i = 0; i < right; i++)
        fputc('-', o);
}

static void mt_lines_header(FILE *o, const mt_lines_style_t *st, const char *end_title)
{
    const int bw = 2 * MT_LINES_BYTES_W + 1, cw = 2 * MT_LINES_COUNT_W + 1;
    fprintf(o, "%s%*s", st->bold, MT_LINES_NUM_W, "");
    mt_lines_group(o, "Allocated", bw);
    mt_lines_group(o, "At peak", bw);
    mt_lines_group(o, end_title, bw);
    mt_lines_group(o, "Allocations", cw);
    fprintf(o, "\n%*s", MT_LINES_NUM_W, "Line #");
    for (int g = 0; g < 3; g++)
        fprintf(o, "  %*s %*s", MT_LINES_BYTES_W, "own", MT_LINES_BYTES_W, "incl.");
    fprintf(o, "  %*s %*s  Line Contents%s\n", MT_LINES_COUNT_W, "own", MT_LINES_COUNT_W, "incl.",
            st->reset);
    int total = MT_LINES_NUM_W + 3 * (2 + bw) + 2 + cw + 2 + 13;
    for (int i = 0; i < total; i++)
        fputc('=', o);
    fputc('\n', o);
}

static const char *mt_lines_bytes_cell(char *buf, size_t len, uint64_t v)
{
    return v ? mt_fmt_bytes(buf, len, v) : "-";
}

static const char *mt_lines_count_cell(char *buf, size_t len, uint64_t v)
{
    return v ? mt_fmt_count(buf, len, v) : "-";
}

/* A source line with its tabs expanded, escaped for the terminal. */
static void mt_lines_source_text(FILE *o, const char *s)
{
    char buf[1024];
    size_t k = 0, col = 0;
    for (; *s; s++) {
        if (k + MT_LINES_TAB + 1 >= sizeof buf) {
            buf[k] = '\0';
            mt_text_put(o, buf);
            k = 0;
        }
        if (*s == '\t') {
            do
                buf[k++] = ' ';
            while (++col % MT_LINES_TAB);
        } else {
            buf[k++] = *s;
            col++;
        }
    }
    buf[k] = '\0';
    mt_text_put(o, buf);
}

static void mt_lines_text_row(FILE *o, const mt_lines_style_t *st, const mt_report_lines_t *rep,
                              const mt_lines_row_t *row)
{
    if (row->gap_before)
        fprintf(o, "%*s\n", MT_LINES_NUM_W, "...");
    const mt_line_stats_t *s = row->stats;
    fprintf(o, "%s%*" PRIu32, s ? "" : st->dim, MT_LINES_NUM_W, row->line);
    if (s) {
        char b[6][32], c[2][32];
        fprintf(o, "  %*s %*s  %*s %*s  %*s %*s  %*s %*s", MT_LINES_BYTES_W,
                mt_lines_bytes_cell(b[0], 32, s->own.bytes_allocated), MT_LINES_BYTES_W,
                mt_lines_bytes_cell(b[1], 32, s->incl.bytes_allocated), MT_LINES_BYTES_W,
                mt_lines_bytes_cell(b[2], 32, s->own.peak_bytes), MT_LINES_BYTES_W,
                mt_lines_bytes_cell(b[3], 32, s->incl.peak_bytes), MT_LINES_BYTES_W,
                mt_lines_bytes_cell(b[4], 32, s->own.end_bytes), MT_LINES_BYTES_W,
                mt_lines_bytes_cell(b[5], 32, s->incl.end_bytes), MT_LINES_COUNT_W,
                mt_lines_count_cell(c[0], 32, s->own.allocations), MT_LINES_COUNT_W,
                mt_lines_count_cell(c[1], 32, s->incl.allocations));
    } else {
        fprintf(o, "%*s", 3 * (2 + 2 * MT_LINES_BYTES_W + 1) + 2 + 2 * MT_LINES_COUNT_W + 1, "");
    }
    fputs("  ", o);
    mt_lines_source_text(o, mt_report_lines_text(rep, row->line));
    fprintf(o, "%s\n", s ? "" : st->reset);
}

static void mt_lines_text_intro(FILE *o, const mt_lines_style_t *st, const mt_report_lines_t *rep)
{
    const mt_replay_t *r = &rep->a->replay;
    char b[64], c[64], t[32];
    fprintf(o, "%smemtrace lines%s ", st->head, st->reset);
    mt_text_put(o, rep->a->path);
    fprintf(o, "\n  %-18s ", "file");
    mt_text_put(o, rep->file);
    fputs(rep->file_is_script ? " (the script that was run)\n" : "\n", o);
    if (rep->source_errno) {
        fprintf(o, "  %-18s not read: %s; figures by line number only\n", "source",
                strerror(rep->source_errno));
    } else if (strcmp(rep->source_path, rep->file) != 0) {
        fprintf(o, "  %-18s ", "source");
        mt_text_put(o, rep->source_path);
        fputc('\n', o);
    }
    if (rep->source_changed)
        fprintf(o,
                "  %-18s modified after the run was recorded: the text shown may not be the "
                "code that ran\n",
                "warning");
    if (rep->function) {
        fprintf(o, "  %-18s ", "function");
        mt_text_put(o, rep->function);
        fputc('\n', o);
    }
    mt_render_thread_filter_text(o, rep->a, 18); /* --thread: whose allocations these are */
    fprintf(o, "  %-18s heap peak of %s at %s\n", "at peak",
            mt_fmt_bytes_exact(b, sizeof b, r->peak_heap_bytes),
            mt_fmt_clock(t, sizeof t, r->peak_time_us));
    if (rep->held.at_script_end)
        fprintf(o, "  %-18s held when the script ended (%s), before interpreter finalization\n",
                "at script end", mt_fmt_clock(t, sizeof t, rep->a->python.script_end_us));
    else
        fprintf(o, "  %-18s still allocated when the log ended (%s)\n", "at exit",
                mt_fmt_clock(t, sizeof t, r->last_time_us));
    fprintf(o, "  %-18s %s allocated in %s allocations, %s held at the %s\n", "whole file, own",
            mt_fmt_bytes_exact(b, sizeof b, rep->total.bytes_allocated),
            mt_fmt_count(t, sizeof t, rep->total.allocations),
            mt_fmt_bytes_exact(c, sizeof c, rep->total.end_bytes),
            rep->held.at_script_end ? "end of the script" : "end of the log");
    fprintf(o,
            "  %-18s own: the line is the innermost Python frame of the allocation;\n"
            "  %-18s incl.: the line is anywhere in its Python stack (callees included)\n",
            "columns", "");
}

int mt_render_lines_text(const mt_report_lines_t *rep, FILE *o, int colour)
{
    const mt_lines_style_t st =
        colour ? (mt_lines_style_t){"\033[1;4m", "\033[1m", "\033[2m", "\033[0m"}
               : (mt_lines_style_t){"", "", "", ""};
    mt_lines_text_intro(o, &st, rep);
    const char *end_title = rep->held.at_script_end ? "At script end" : "At exit";
    if (rep->nblocks == 0)
        fprintf(o, "\n  (no allocation in this file)\n");
    for (size_t i = 0; i < rep->nblocks; i++) {
        const mt_lines_block_t *b = &rep->blocks[i];
        fprintf(o, "\n%s", st.bold);
        mt_text_put(o, b->name);
        fprintf(o, "%s  lines %" PRIu32 "-%" PRIu32 "%s\n", st.reset, b->first, b->last,
                strcmp(b->name, "<module>") == 0 ? ", those outside functions that allocated" : "");
        mt_lines_header(o, &st, end_title);
        for (size_t k = 0; k < b->nrows; k++)
            mt_lines_text_row(o, &st, rep, &rep->rows[b->row0 + k]);
    }
    if (rep->a->truncated)
        mt_render_text_warning(o, "", "", rep->a->truncation, rep->a->cut_reason);
    return ferror(o) ? -EIO : 0;
}

/* ---- JSON ---- */

static void mt_lines_json_figures(mt_json_t *j, const mt_line_figures_t *f)
{
    mt_json_object_begin(j);
    mt_json_key_u64(j, "allocations", f->allocations);
    mt_json_key_u64(j, "bytes_allocated", f->bytes_allocated);
    mt_json_key_u64(j, "peak_bytes", f->peak_bytes);
    mt_json_key_u64(j, "peak_blocks", f->peak_blocks);
    mt_json_key_u64(j, "end_bytes", f->end_bytes);
    mt_json_key_u64(j, "end_blocks", f->end_blocks);
    mt_json_object_end(j);
}

static void mt_lines_json_block(mt_json_t *j, const mt_report_lines_t *rep,
                                const mt_lines_block_t *b)
{
    static const mt_line_figures_t none;
    mt_json_object_begin(j);
    mt_json_key_string(j, "name", b->name);
    mt_json_key_u64(j, "first_line", b->first);
    mt_json_key_u64(j, "last_line", b->last);
    mt_json_key(j, "lines");
    mt_json_array_begin(j);
    for (size_t k = 0; k < b->nrows; k++) {
        const mt_lines_row_t *row = &rep->rows[b->row0 + k];
        const char *text = mt_py_source_line(&rep->source, row->line);
        mt_json_object_begin(j);
        mt_json_key_u64(j, "line", row->line);
        mt_json_key_string(j, "text", text);
        mt_json_key(j, "own");
        mt_lines_json_figures(j, row->stats ? &row->stats->own : &none);
        mt_json_key(j, "incl");
        mt_lines_json_figures(j, row->stats ? &row->stats->incl : &none);
        mt_json_object_end(j);
    }
    mt_json_array_end(j);
    mt_json_object_end(j);
}

int mt_render_lines_json(const mt_report_lines_t *rep, FILE *out, int pretty)
{
    const mt_replay_t *r = &rep->a->replay;
    mt_json_t j;
    mt_json_document_begin(&j, out, pretty, "memtrace-lines", rep->a->path);
    mt_json_key_string(&j, "python_file", rep->file);
    mt_json_key_bool(&j, "script", rep->file_is_script);
    mt_json_key_string(&j, "function", rep->function);
    mt_json_key_string(&j, "source", rep->source_path);
    mt_json_key_string(&j, "source_error", rep->source_errno ? strerror(rep->source_errno) : NULL);
    mt_json_key_bool(&j, "source_changed", rep->source_changed);
    mt_json_key_u64(&j, "peak_heap_bytes", r->peak_heap_bytes);
    mt_json_key_double(&j, "peak_time_s", mt_lines_secs(r->peak_time_us));
    mt_json_key_string(&j, "held_at", rep->held.at_script_end ? "script_end" : "exit");
    mt_json_key(&j, "held_time_s");
    mt_json_double(&j, mt_lines_secs(rep->held.at_script_end ? rep->a->python.script_end_us
                                                             : r->last_time_us));
    mt_json_key(&j, "file_own");
    mt_lines_json_figures(&j, &rep->total);
    mt_json_key(&j, "functions");
    mt_json_array_begin(&j);
    for (size_t i = 0; i < rep->nblocks; i++)
        mt_lines_json_block(&j, rep, &rep->blocks[i]);
    mt_json_array_end(&j);
    mt_json_key_bool(&j, "truncated", rep->a->truncated);
    mt_render_thread_filter_json(&j, rep->a); /* "thread_filter": null without --thread */
    mt_json_object_end(&j);
    return mt_json_finish(&j);
}

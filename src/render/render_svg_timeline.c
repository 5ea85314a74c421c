// SPDX-License-Identifier: MIT
// The timeline renderers (see render_svg_timeline.h). The heap series comes from the replay's
// bounded min/max buckets, RSS and footprint from its bounded sample series; both are reduced
// again here by maximum, never by averaging, so a spike is never drawn lower than it was.
// The SVG has no scripts and no external references: it opens anywhere.
#include "render_svg_timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "render_threads.h"
#include "text_escape.h"

/* Appends (t, v) to out, merging into the last point when the series is already at max:
 * callers feed points in time order, so grouping consecutive points keeps maxima. */
static size_t mt_tl_reduce(mt_timeline_point_t *out, size_t n, size_t group, uint64_t t, uint64_t v,
                           size_t *in_group)
{
    if (n > 0 && *in_group < group) {
        if (v > out[n - 1].value)
            out[n - 1].value = v;
        (*in_group)++;
        return n;
    }
    out[n] = (mt_timeline_point_t){t, v};
    *in_group = 1;
    return n + 1;
}

size_t mt_timeline_series(const mt_replay_t *r, enum mt_timeline_series which,
                          mt_timeline_point_t *out, size_t max)
{
    size_t n = 0, in_group = 0;
    if (max == 0)
        return 0;
    if (which == MT_TL_HEAP) {
        /* one point is kept for the end of the run: the value the last event left */
        size_t room = max > 1 ? max - 1 : 1;
        size_t total = r->nseries, group = (total + room - 1) / room;
        uint64_t last = 0;
        for (size_t i = 0; i < total; i++) {
            const mt_heap_bucket_t *b = &r->series[i];
            /* A bucket without events holds the value the last event left. */
            uint64_t v = b->used ? b->max : last;
            if (b->used)
                last = b->last;
            n = mt_tl_reduce(out, n, group ? group : 1, (uint64_t)i * r->series_width_us, v,
                             &in_group);
        }
        /* A bucket shows its maximum, so frees after the last bucket's peak would not show.
         * Times come in ticks (1 ms for the recorder): the end may be the last bucket's start,
         * then the line drops there. */
        if (n > 0 && n < max &&
            (r->last_time_us > out[n - 1].time_us ||
             (r->last_time_us == out[n - 1].time_us && out[n - 1].value != r->heap_bytes)))
            out[n++] = (mt_timeline_point_t){r->last_time_us, r->heap_bytes};
        return n;
    }
    size_t total = r->nsamples, group = (total + max - 1) / max;
    if (which == MT_TL_PY_ARENAS) {
        size_t i = 0;
        while (i < total && !r->samples[i].py_arena_bytes)
            i++;
        if (i == total)
            return 0; /* not a Python program (or pymalloc off): no line at all */
    }
    for (size_t i = 0; i < total; i++) {
        const mt_sample_t *s = &r->samples[i].s;
        uint64_t v = which == MT_TL_RSS         ? s->rss
                     : which == MT_TL_PY_ARENAS ? r->samples[i].py_arena_bytes
                                                : mt_sample_footprint(s);
        n = mt_tl_reduce(out, n, group ? group : 1, r->samples[i].time_us, v, &in_group);
    }
    return n;
}

typedef struct mt_tl_all {
    mt_timeline_point_t *p[MT_TL_SERIES];
    size_t n[MT_TL_SERIES];
    uint64_t tmin, tmax, vmax; /* the time drawn: the log's, or the window's (--from/--to) */
} mt_tl_all_t;

static void mt_tl_free(mt_tl_all_t *t)
{
    for (int i = 0; i < MT_TL_SERIES; i++)
        free(t->p[i]);
}

static int mt_tl_load(const mt_analysis_t *a, mt_tl_all_t *t, size_t max)
{
    const mt_replay_t *r = &a->replay;
    memset(t, 0, sizeof *t);
    for (int i = 0; i < MT_TL_SERIES; i++) {
        t->p[i] = malloc(max * sizeof *t->p[i]);
        if (!t->p[i]) {
            mt_tl_free(t);
            return -ENOMEM;
        }
        t->n[i] = mt_timeline_series(r, (enum mt_timeline_series)i, t->p[i], max);
    }
    t->tmax = r->last_time_us ? r->last_time_us : 1;
    if (a->window.on) {
        /* The window's span only. The replay read the log from its start, but the heap line
         * is the window's blocks: its point at or before the window's start (the bucket the
         * start falls in) is drawn from the start. Samples are points: those inside only. */
        t->tmin = a->window.from_us;
        t->tmax = a->window.to_us > t->tmin ? a->window.to_us : t->tmin + 1;
        for (int i = 0; i < MT_TL_SERIES; i++) {
            size_t first = 0, k = 0;
            while (first < t->n[i] && t->p[i][first].time_us < t->tmin)
                first++;
            if (i == MT_TL_HEAP && first > 0 &&
                (first == t->n[i] || t->p[i][first].time_us > t->tmin))
                first--;
            for (size_t j = first; j < t->n[i] && t->p[i][j].time_us <= t->tmax; j++) {
                t->p[i][k] = t->p[i][j];
                if (t->p[i][k].time_us < t->tmin)
                    t->p[i][k].time_us = t->tmin;
                k++;
            }
            t->n[i] = k;
        }
        /* the heap holds its last value to the window's end (the log went on past it) */
        size_t nh = t->n[MT_TL_HEAP];
        if (nh > 0 && nh < max && t->p[MT_TL_HEAP][nh - 1].time_us < t->tmax)
            t->p[MT_TL_HEAP][t->n[MT_TL_HEAP]++] =
                (mt_timeline_point_t){t->tmax, t->p[MT_TL_HEAP][nh - 1].value};
    }
    for (int i = 0; i < MT_TL_SERIES; i++)
        for (size_t k = 0; k < t->n[i]; k++)
            if (t->p[i][k].value > t->vmax)
                t->vmax = t->p[i][k].value;
    if (r->peak_heap_bytes > t->vmax)
        t->vmax = r->peak_heap_bytes;
    if (t->vmax == 0)
        t->vmax = 1;
    return 0;
}

#define W 960.0
#define H 440.0
#define ML 90.0 /* margins: room for the byte labels on the left */
#define MR 20.0
#define MT 40.0
#define MB 80.0      /* time labels, the axis title, then the legend: under the plot, never on it */
#define MT_TL_CW 7.0 /* average character width at 12px, for placing labels */

/* The axis scale: the smallest of 1, 2 or 5 x 10^n at least raw (raw > 0). */
static double mt_tl_nice(double raw)
{
    double p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m <= 1.000001 ? 1 : m <= 2.000001 ? 2 : m <= 5.000001 ? 5 : 10) * p;
}

/* Decimals that show a multiple of step exactly (step = d x 10^n). */
static int mt_tl_decimals(double step)
{
    int d = (int)-floor(log10(step) + 1e-9);
    return d > 0 ? d : 0;
}

/* An axis in round steps of its unit: ticks at k * step for k = 0..n, the last at or past the
 * data's maximum (for values) or at or before it (for time). */
typedef struct mt_tl_axis {
    double unit;      /* bytes or microseconds per unit shown */
    const char *name; /* "MiB", "s" */
    double step;      /* in units: 1, 2 or 5 x 10^n */
    int n, decimals;
    double top;   /* what the axis spans, in bytes or microseconds */
    double first; /* the first tick, in units (time in a window; else 0) */
} mt_tl_axis_t;

static mt_tl_axis_t mt_tl_bytes_axis(uint64_t vmax)
{
    static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    mt_tl_axis_t ax = {.unit = 1, .name = names[0]};
    for (int k = 1; k < 6 && (double)vmax >= ax.unit * 1024; k++) {
        ax.unit *= 1024;
        ax.name = names[k];
    }
    double v = (double)vmax / ax.unit;
    ax.step = mt_tl_nice(v / 5);
    if (ax.unit == 1 && ax.step < 1)
        ax.step = 1; /* no fractions of a byte */
    ax.n = (int)ceil(v / ax.step - 1e-9);
    if (ax.n < 1)
        ax.n = 1;
    ax.decimals = mt_tl_decimals(ax.step);
    ax.top = ax.n * ax.step * ax.unit;
    return ax;
}

/* The time axis over [tmin, tmax]: its ticks at the round times inside (first, then every
 * step), so that a window's axis reads in the log's own seconds. */
static mt_tl_axis_t mt_tl_time_axis(uint64_t tmin, uint64_t tmax)
{
    mt_tl_axis_t ax = {.unit = 1e6, .name = "s"};
    if (tmax < 1000)
        ax.unit = 1, ax.name = "\xc2\xb5s";
    else if (tmax < 1000000)
        ax.unit = 1e3, ax.name = "ms";
    double v = (double)(tmax - tmin) / ax.unit;
    ax.step = mt_tl_nice(v / 6);
    if (ax.unit == 1 && ax.step < 1)
        ax.step = 1;
    ax.first = ceil((double)tmin / ax.unit / ax.step - 1e-9) * ax.step;
    ax.n = (int)floor(((double)tmax / ax.unit - ax.first) / ax.step + 1e-9);
    ax.decimals = mt_tl_decimals(ax.step);
    ax.top = (double)tmax;
    return ax;
}

static const char *mt_tl_tick(char *b, size_t len, const mt_tl_axis_t *ax, int k)
{
    snprintf(b, len, "%.*f %s", ax->decimals, ax->first + k * ax->step, ax->name);
    return b;
}

static double mt_tl_x(const mt_tl_all_t *t, uint64_t us)
{
    return ML + (W - ML - MR) * ((double)us - (double)t->tmin) / (double)(t->tmax - t->tmin);
}

static double mt_tl_y(const mt_tl_all_t *t, uint64_t v)
{
    return H - MB - (H - MT - MB) * (double)v / (double)t->vmax;
}

static void mt_tl_escape(FILE *o, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            fputs("&lt;", o);
        else if (*s == '>')
            fputs("&gt;", o);
        else if (*s == '&')
            fputs("&amp;", o);
        else
            fputc(*s, o);
    }
}

/* A Python script's end (before interpreter finalization): what "held" is measured at. */
static void mt_tl_script_end_svg(const mt_analysis_t *a, const mt_tl_all_t *t, FILE *o)
{
    if (!a->python.script_end || a->python.script_end_us < t->tmin ||
        a->python.script_end_us > t->tmax)
        return;
    char b[32];
    double x = mt_tl_x(t, a->python.script_end_us);
    /* the label on the side of the line with room for it */
    int left = x - ML > 90;
    fprintf(o,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" "
            "stroke-dasharray=\"2 3\"><title>end of the script at %s</title></line>\n"
            "<text class=\"label script-end\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
            "fill=\"#555\">script end</text>\n",
            x, MT, x, H - MB, mt_fmt_seconds(b, sizeof b, a->python.script_end_us),
            left ? x - 4 : x + 4, H - MB - 6, left ? "end" : "start");
}

/* The program's marks (memtrace_mark): a vertical line each, the name written down along it
 * (marks close together stay readable), exact time on hover. XML allows no control bytes. */
static void mt_tl_mark_name(FILE *o, const char *name)
{
    for (const char *c = name; *c; c++)
        if ((unsigned char)*c >= 0x20)
            mt_tl_escape(o, (char[]){*c, 0});
}

static void mt_tl_marks_svg(const mt_analysis_t *a, const mt_tl_all_t *t, FILE *o)
{
    char b[32];
    /* the label of a mark closer than a line of text to the one before goes on below its */
    double last = -100, ly = MT + 4, lend = MT + 4;
    for (size_t i = 0; i < a->marks.n; i++) {
        const mt_mark_t *m = &a->marks.v[i];
        if (m->time_us < t->tmin || m->time_us > t->tmax)
            continue; /* outside the window */
        double x = mt_tl_x(t, m->time_us), lx = x + 4;
        ly = x - last < 13 ? lend + 8 : MT + 4;
        lend = ly + MT_TL_CW * (double)strlen(m->name);
        last = x;
        fprintf(o,
                "<g class=\"mark\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#ff7f0e\" stroke-dasharray=\"6 2\"/><title>mark ",
                x, MT, x, H - MB);
        mt_tl_mark_name(o, m->name);
        fprintf(o,
                " at %s</title><text class=\"label mark\" x=\"%.1f\" y=\"%.1f\" "
                "transform=\"rotate(90 %.1f %.1f)\" fill=\"#ff7f0e\">",
                mt_fmt_seconds(b, sizeof b, m->time_us), lx, ly, lx, ly);
        mt_tl_mark_name(o, m->name);
        fputs("</text></g>\n", o);
    }
}

int mt_timeline_svg(const mt_analysis_t *a, FILE *o)
{
    static const char *const names[MT_TL_SERIES] = {"heap in use", "RSS", "allocator footprint",
                                                    "pymalloc arenas"};
    static const char *const colours[MT_TL_SERIES] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd"};
    const mt_replay_t *r = &a->replay;
    mt_tl_all_t t;
    if (mt_tl_load(a, &t, MT_TIMELINE_MAX_POINTS) < 0)
        return -ENOMEM;
    /* round steps of the unit shown: the value axis ends on a tick at or above the maximum */
    mt_tl_axis_t ya = mt_tl_bytes_axis(t.vmax), xa = mt_tl_time_axis(t.tmin, t.tmax);
    t.vmax = (uint64_t)ceil(ya.top);
    char b[32];
    fprintf(o,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<rect class=\"plot\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            "fill=\"none\"/>\n"
            "<text class=\"title\" x=\"%.0f\" y=\"24\" font-size=\"15\">memtrace timeline: ",
            W, H, W, H, ML, MT, W - ML - MR, H - MT - MB, ML);
    /* the title stays inside the picture: a long path keeps its end */
    char note[256], wnote[160];
    const char *note_s = mt_thread_filter_note(note, sizeof note, a);
    const char *wnote_s = mt_window_note(wnote, sizeof wnote, a);
    size_t room = (size_t)((W - ML - MR) / 8.5) - 20 - (note_s ? strlen(note_s) + 2 : 0);
    size_t plen = a->path ? strlen(a->path) : 0;
    if (plen > room && room > 3) {
        fputs("...", o);
        mt_tl_escape(o, a->path + plen - (room - 3));
    } else {
        mt_tl_escape(o, a->path);
    }
    if (note_s) { /* --thread: the heap line is theirs */
        fputs(", ", o);
        mt_tl_escape(o, note_s);
    }
    fputs("</text>\n", o);
    if (wnote_s) { /* --from/--to: under the title, as the flame graph has it */
        fprintf(o, "<text class=\"window\" x=\"%.0f\" y=\"%.0f\" fill=\"#555\">", ML, MT - 4);
        mt_tl_escape(o, wnote_s);
        fputs("</text>\n", o);
    }
    /* axes, grid and labels with units */
    for (int i = 0; i <= ya.n; i++) {
        double y = H - MB - (H - MT - MB) * (double)i / ya.n;
        fprintf(o,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                "<text class=\"tick-y\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                ML, y, W - MR, y, ML - 6, y + 4, mt_tl_tick(b, sizeof b, &ya, i));
    }
    for (int i = 0; i <= xa.n; i++) {
        double x = ML + (W - ML - MR) * ((xa.first + i * xa.step) * xa.unit - (double)t.tmin) /
                            (double)(t.tmax - t.tmin);
        /* the last label may not pass the right edge */
        const char *anchor = x + 30 > W ? "end" : "middle";
        fprintf(o,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n"
                "<text class=\"tick-x\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n",
                x, H - MB, x, H - MB + 5, x, H - MB + 18, anchor, mt_tl_tick(b, sizeof b, &xa, i));
    }
    fprintf(o,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n"
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n"
            "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">time (%s)</text>\n"
            "<text class=\"axis\" x=\"16\" y=\"%.1f\" transform=\"rotate(-90 16 %.1f)\" "
            "text-anchor=\"middle\">bytes</text>\n",
            ML, H - MB, W - MR, H - MB, ML, MT, ML, H - MB, (ML + W - MR) / 2, H - MB + 36, xa.name,
            (H - MB + MT) / 2, (H - MB + MT) / 2);
    /* series: steps, so a value holds until the next point; the legend in a row under the
     * plot, so that it never hides a line */
    double lx = ML;
    for (int s = 0; s < MT_TL_SERIES; s++) {
        if (!t.n[s])
            continue;
        fprintf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
                colours[s]);
        double py = mt_tl_y(&t, 0);
        for (size_t k = 0; k < t.n[s]; k++) {
            double x = mt_tl_x(&t, t.p[s][k].time_us), y = mt_tl_y(&t, t.p[s][k].value);
            fprintf(o, "%.1f,%.1f %.1f,%.1f ", x, py, x, y);
            py = y;
        }
        fputs("\"/>\n", o);
        fprintf(o,
                "<rect class=\"legend\" x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"3\" "
                "fill=\"%s\"/><text class=\"legend\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                lx, H - 22, colours[s], lx + 18, H - 17, names[s]);
        lx += 18 + MT_TL_CW * (double)strlen(names[s]) + 24;
    }
    mt_tl_script_end_svg(a, &t, o);
    mt_tl_marks_svg(a, &t, o);
    /* the peak, exact on hover; its label on the side of the marker where it fits */
    char exact[64], b2[32];
    double px = mt_tl_x(&t, r->peak_time_us), py = mt_tl_y(&t, r->peak_heap_bytes);
    mt_fmt_bytes(b, sizeof b, r->peak_heap_bytes);
    double lw = MT_TL_CW * (double)(strlen(b) + 5);
    int right = px + 6 + lw <= W - MR;
    fprintf(o,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" "
            "stroke-dasharray=\"4 3\"/>\n"
            "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#d62728\"><title>heap peak %s at "
            "%s</title></circle>\n"
            "<text class=\"label peak\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">peak %s</text>\n",
            px, MT, px, H - MB, px, py, mt_fmt_bytes_exact(exact, sizeof exact, r->peak_heap_bytes),
            mt_fmt_seconds(b2, sizeof b2, r->peak_time_us), right ? px + 6 : px - 6,
            py - 6 < MT + 12 ? MT + 12 : py - 6, right ? "start" : "end", b);
    fputs("</svg>\n", o);
    mt_tl_free(&t);
    return ferror(o) ? -EIO : 0;
}

/* The column of time_us in a chart width columns wide over [tmin, tmax]; width for any time
 * at or past the end (a corrupt log's times need not be ordered), so the conversion never
 * leaves the range of unsigned. */
static unsigned mt_tl_column(uint64_t time_us, unsigned width, const mt_tl_all_t *t)
{
    if (t->tmax <= t->tmin || time_us >= t->tmax)
        return width;
    if (time_us < t->tmin)
        return 0;
    return (unsigned)((double)(time_us - t->tmin) * width / (double)(t->tmax - t->tmin));
}

int mt_timeline_text(const mt_analysis_t *a, FILE *o, int colour, unsigned width, unsigned height)
{
    static const char *const eighths[9] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    const mt_replay_t *r = &a->replay;
    mt_tl_all_t t;
    if (width == 0 || height == 0 || mt_tl_load(a, &t, MT_TIMELINE_MAX_POINTS) < 0)
        return -ENOMEM;
    uint64_t *col = calloc(width, sizeof *col);
    if (!col) {
        mt_tl_free(&t);
        return -ENOMEM;
    }
    /* Heap only: the column's maximum, each value held until the next point. */
    uint64_t vmax = r->peak_heap_bytes ? r->peak_heap_bytes : 1;
    for (size_t k = 0; k < t.n[MT_TL_HEAP]; k++) /* a thread's own peak may be higher */
        if (t.p[MT_TL_HEAP][k].value > vmax)
            vmax = t.p[MT_TL_HEAP][k].value;
    for (size_t k = 0; k < t.n[MT_TL_HEAP]; k++) {
        uint64_t end = k + 1 < t.n[MT_TL_HEAP] ? t.p[MT_TL_HEAP][k + 1].time_us : t.tmax;
        unsigned c0 = mt_tl_column(t.p[MT_TL_HEAP][k].time_us, width, &t);
        unsigned c1 = mt_tl_column(end, width, &t);
        for (unsigned c = c0; c <= c1 && c < width; c++)
            if (t.p[MT_TL_HEAP][k].value > col[c])
                col[c] = t.p[MT_TL_HEAP][k].value;
    }
    const char *hi = colour ? "\033[31m" : "", *reset = colour ? "\033[0m" : "";
    char b[32], b2[32];
    fputs("heap in use, ", o);
    mt_text_put(o, a->path);
    fprintf(o, " (peak %s at %s)\n", mt_fmt_bytes(b, sizeof b, r->peak_heap_bytes),
            mt_fmt_seconds(b2, sizeof b2, r->peak_time_us));
    char note[256];
    if (mt_thread_filter_note(note, sizeof note, a)) {
        mt_text_put(o, note);
        fputs(" (the peak is the heap's: what they held then)\n", o);
    }
    if (mt_window_note(note, sizeof note, a)) {
        mt_text_put(o, note);
        fputc('\n', o);
    }
    for (unsigned row = height; row-- > 0;) {
        if (row == height - 1)
            fprintf(o, "%10s |", mt_fmt_bytes(b, sizeof b, vmax));
        else if (row == 0)
            fprintf(o, "%10s |", "0 B");
        else
            fprintf(o, "%10s |", "");
        fputs(hi, o);
        for (unsigned c = 0; c < width; c++) {
            uint64_t e = col[c] * height * 8 / vmax; /* height in eighths of a row */
            uint64_t lo = (uint64_t)row * 8;
            fputs(eighths[e <= lo ? 0 : e - lo >= 8 ? 8 : e - lo], o);
        }
        fprintf(o, "%s\n", reset);
    }
    fprintf(o, "%10s +", "");
    unsigned pc = mt_tl_column(r->peak_time_us, width, &t);
    for (unsigned c = 0; c < width; c++)
        fputs(c == pc || (pc >= width && c == width - 1) ? "^" : "-", o);
    if (t.tmin) { /* a window: its ends in the log's seconds */
        mt_fmt_seconds(b2, sizeof b2, t.tmin);
        int room = (int)width - (int)strlen(b2);
        fprintf(o, "\n%10s  %s%*s\n", "", b2, room > 0 ? room : 0,
                mt_fmt_seconds(b, sizeof b, t.tmax));
    } else {
        fprintf(o, "\n%10s  0 s%*s\n", "", (int)width - 3, mt_fmt_seconds(b, sizeof b, t.tmax));
    }
    if (r->nsamples_total && a->window.on) /* the count is the log's, from its start */
        fprintf(o, "peak RSS %s at %s in the window\n",
                mt_fmt_bytes(b, sizeof b, r->peak_rss_bytes),
                mt_fmt_seconds(b2, sizeof b2, r->peak_rss_time_us));
    else if (r->nsamples_total)
        fprintf(o, "peak RSS %s at %s; footprint (arena + mmapped) sampled %" PRIu64 " times\n",
                mt_fmt_bytes(b, sizeof b, r->peak_rss_bytes),
                mt_fmt_seconds(b2, sizeof b2, r->peak_rss_time_us), r->nsamples_total);
    if (a->python.arena_peak_bytes)
        fprintf(o, "pymalloc arenas: peak %s held (%" PRIu64 " arenas)\n",
                mt_fmt_bytes(b, sizeof b, a->python.arena_peak_bytes), a->python.arena_peak_count);
    if (a->python.script_end)
        fprintf(o, "the script ended at %s (then interpreter finalization)\n",
                mt_fmt_seconds(b, sizeof b, a->python.script_end_us));
    free(col);
    mt_tl_free(&t);
    return ferror(o) ? -EIO : 0;
}

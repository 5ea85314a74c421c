// SPDX-License-Identifier: MIT
// `memtrace peak FILE`: who holds the memory at the heap's high-water mark, as text or JSON on
// stdout (over several logs: for the process with the highest peak, multi_log.h). Argument
// parsing and exit status only; the report is src/reports/report_peak.c.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "multi_log.h"
#include "render_peak.h"

#define MT_PEAK_DEFAULT_TOP 10
#define MT_PEAK_DEFAULT_FRAMES MT_CLI_DEFAULT_FRAMES

static void mt_peak_usage(FILE *out)
{
    /* the shared help lines are macros (cli_common.h), one a line */
    // clang-format off
    fprintf(out,
            "usage: memtrace peak [options] FILE\n"
            "       memtrace peak [options] FILE... | DIR\n"
            "\n"
            "The moment of the heap's high-water mark, the total then, and the sites holding it\n"
            "at that moment, biggest first (bytes and blocks held then, not allocated in total);\n"
            "also the peak RSS and when it was sampled.\n"
            "\n"
            "Given several logs, or a directory, it shows the processes of the run by peak heap\n"
            "(as 'memtrace report' does), then this report for the process with the highest one.\n"
            "\n"
            "options:\n"
            "  --format text|json  output format (default text; JSON schema: docs/json-schema.md)\n"
            "  --top N             number of sites, 0 for all (default %d)\n"
            "  --frames N          frames shown per stack in text, 0 for all (default %d)\n"
            "  --tree              several logs: the processes as a tree instead of by peak\n"
            MT_CLI_SITE_HELP_THREAD
            MT_CLI_HELP_WINDOW
            MT_CLI_SITE_HELP_TAIL
            "\n"
            "exit status: 0 report written; 1 a log could not be read or is truncated;\n"
            "2 usage error.\n",
            MT_PEAK_DEFAULT_TOP, MT_PEAK_DEFAULT_FRAMES);
    // clang-format on
}

/* The peak report of a loaded log (mt_cli_report_fn). */
static int mt_peak_render(const char *path, FILE *out, mt_analysis_t *a, mt_symbolizer_t *sym,
                          void *ctx)
{
    const mt_cli_site_opts_t *o = ctx;
    mt_report_peak_t rep;
    if (mt_report_peak_build(&rep, a, sym, o->top) < 0)
        return mt_cli_oom(path);
    int r = o->json ? mt_render_peak_json(&rep, out, 1)
                    : mt_render_peak_text(&rep, out, mt_cli_colour(o->no_color), o->frames);
    int rc = mt_cli_finish(path, a, r);
    mt_report_peak_destroy(&rep);
    return rc;
}

/* The peak report of one log on out (multi_log.h's mt_cli_one_fn). */
static int mt_peak_one(const char *path, FILE *out, void *ctx)
{
    const mt_cli_site_opts_t *o = ctx;
    /* read from sites and totals only */
    return mt_cli_report_log(path, out, o->show_import, 1, mt_peak_render, ctx);
}

int mt_cmd_peak(int argc, char **argv)
{
    static const struct option own[] = {
        {"tree", no_argument, NULL, MT_CLI_OPT_OWN},
        {NULL, 0, NULL, 0},
    };
    mt_cli_site_opts_t o = {.top = MT_PEAK_DEFAULT_TOP,
                            .frames = MT_PEAK_DEFAULT_FRAMES,
                            .multi_ok = 1,
                            .own = own,
                            .on_own = mt_cli_tree_option};
    o.own_ctx = &o;
    int status = mt_cli_site_options("peak", argc, argv, mt_peak_usage, &o);
    if (status >= 0)
        return status;
    if (!mt_cli_logs_multi(o.paths, o.npaths))
        return mt_peak_one(o.path, stdout, &o);
    if ((status = mt_cli_threads_one_log("peak")) != 0)
        return status;
    mt_cli_multi_t m = {.cmd = "peak",
                        .json = o.json,
                        .colour = mt_cli_colour(o.no_color),
                        .as_tree = o.as_tree,
                        .biggest = mt_peak_one,
                        .ctx = &o,
                        .what = "who holds its peak"};
    return mt_cli_multi_run(&m, o.paths, o.npaths);
}

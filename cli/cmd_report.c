// SPDX-License-Identifier: MIT
// `memtrace report FILE`: the summary of a log (totals, peak, not freed at exit, top sites),
// as text or JSON on stdout; over several logs, the run's processes first (multi_log.h).
// This file owns the terminal decisions (colour, NO_COLOR) and the exit status; all analysis
// is in src/. Errors are one line on stderr, "memtrace: ...".
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "cli_common.h"
#include "commands.h"
#include "multi_log.h"
#include "peak_check.h"
#include "render.h"
#include "report_summary.h"
#include "symbolizer.h"

#define MT_REPORT_DEFAULT_TOP 10
#define MT_REPORT_DEFAULT_FRAMES MT_CLI_DEFAULT_FRAMES

static void mt_report_usage(FILE *out)
{
    /* the shared help lines are macros (cli_common.h), one a line */
    // clang-format off
    fprintf(out,
            "usage: memtrace report [options] FILE\n"
            "       memtrace report [options] FILE... | DIR\n"
            "\n"
            "Summarize a memtrace log: allocations, frees, bytes allocated, peak heap and when,\n"
            "peak RSS, memory not freed at exit, and the top allocation sites by bytes and by\n"
            "count with symbolized stacks (innermost frame first); the blocks of the program's\n"
            "own allocator (memtrace.h's custom blocks) and its marks, in order, when it has any.\n"
            "\n"
            "Given several logs, or a directory (its memtrace logs are found by their content),\n"
            "it shows the processes of the run: pid, parent, peak heap, not freed at exit, exit\n"
            "status, command line and log files (an exec chain as a -> b), biggest peak first,\n"
            "with totals over them; then the report of the process with the highest peak.\n"
            "\n"
            "options:\n"
            "  --format text|json  output format (default text; JSON schema: docs/json-schema.md)\n"
            "  --top N             number of sites per list, 0 for all (default %d)\n"
            "  --frames N          frames shown per stack in text, 0 for all (default %d)\n"
            "  --tree              several logs: the processes as a tree (children under their\n"
            "                      parent, by peak) instead of by peak\n"
            "  --fail-peak-above SIZE\n"
            "                      exit 1 when the heap's peak (of the process with the highest\n"
            "                      one) is above SIZE bytes (4096, 64K, 10MiB, 1.5G), with a\n"
            "                      line on stderr saying where\n"
            MT_CLI_SITE_HELP_THREAD
            MT_CLI_HELP_WINDOW
            MT_CLI_SITE_HELP_TAIL
            "\n"
            "exit status: 0 report written; 1 a log could not be read, or it is truncated\n"
            "(the report of what is there is still written, with a warning on stderr), or the\n"
            "peak is above --fail-peak-above; 2 usage error.\n",
            MT_REPORT_DEFAULT_TOP, MT_REPORT_DEFAULT_FRAMES);
    // clang-format on
}

typedef struct mt_report_cli {
    mt_cli_site_opts_t o;
    uint64_t peak_limit;         /* --fail-peak-above */
    const char *peak_limit_text; /* as given, NULL when not given */
} mt_report_cli_t;

enum { OPT_TREE = MT_CLI_OPT_OWN, OPT_FAIL_PEAK_ABOVE };

static int mt_report_option(const char *cmd, int opt, const char *value, void *ctx)
{
    mt_report_cli_t *cli = ctx;
    if (opt == OPT_TREE)
        return mt_cli_tree_option(cmd, opt, value, &cli->o);
    cli->peak_limit_text = value;
    return mt_cli_size(cmd, "--fail-peak-above", value, &cli->peak_limit);
}

/* The summary of a loaded log (mt_cli_report_fn), then the --fail-peak-above check. */
static int mt_report_render(const char *path, FILE *out, mt_analysis_t *a, mt_symbolizer_t *sym,
                            void *ctx)
{
    const mt_report_cli_t *cli = ctx;
    const mt_cli_site_opts_t *o = &cli->o;
    mt_report_summary_t rep;
    if (mt_report_summary_build(&rep, a, sym, o->top) < 0)
        return mt_cli_oom(path);
    mt_render_opts_t ro = {.colour = mt_cli_colour(o->no_color), .max_frames = o->frames};
    int r = o->json ? mt_render_summary_json(&rep, out, 1) : mt_render_summary_text(&rep, out, &ro);
    int rc = mt_cli_finish(path, a, r);
    mt_report_summary_destroy(&rep);
    /* after the report, so that the reason is the last line */
    if (cli->peak_limit_text && mt_cli_peak_check("memtrace: report: ", "", a, sym, cli->peak_limit,
                                                  cli->peak_limit_text) != 0)
        rc = 1;
    return rc;
}

/* The report of one log on out (multi_log.h's mt_cli_one_fn); over several logs, the one with
 * the highest peak, which is also the one --fail-peak-above checks. */
static int mt_report_one(const char *path, FILE *out, void *ctx)
{
    const mt_report_cli_t *cli = ctx;
    /* read from sites and totals only */
    return mt_cli_report_log(path, out, cli->o.show_import, 1, mt_report_render, ctx);
}

int mt_cmd_report(int argc, char **argv)
{
    static const struct option own[] = {
        {"tree", no_argument, NULL, OPT_TREE},
        {"fail-peak-above", required_argument, NULL, OPT_FAIL_PEAK_ABOVE},
        {NULL, 0, NULL, 0},
    };
    mt_report_cli_t cli = {.o = {.top = MT_REPORT_DEFAULT_TOP,
                                 .frames = MT_REPORT_DEFAULT_FRAMES,
                                 .multi_ok = 1,
                                 .own = own,
                                 .on_own = mt_report_option}};
    mt_cli_site_opts_t *o = &cli.o;
    o->own_ctx = &cli;
    int status = mt_cli_site_options("report", argc, argv, mt_report_usage, o);
    if (status >= 0)
        return status;
    if (!mt_cli_logs_multi(o->paths, o->npaths))
        return mt_report_one(o->path, stdout, &cli);
    if ((status = mt_cli_threads_one_log("report")) != 0)
        return status;
    mt_cli_multi_t m = {.cmd = "report",
                        .json = o->json,
                        .colour = mt_cli_colour(o->no_color),
                        .as_tree = o->as_tree,
                        .biggest = mt_report_one,
                        .ctx = &cli,
                        .what = "its report"};
    return mt_cli_multi_run(&m, o->paths, o->npaths);
}

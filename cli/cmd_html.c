// SPDX-License-Identifier: MIT
// `memtrace html FILE -o report.html`: the whole analysis of a log as one self-contained page.
// Argument handling only; the page is src/render/render_html.c.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "mt_config.h"
#include "multi_log.h"
#include "render_html.h"

#define MT_HTML_DEFAULT_TOP 20

static void mt_html_usage(FILE *out)
{
    /* the shared help lines are macros (cli_common.h), one a line */
    // clang-format off
    fprintf(out,
            "usage: memtrace html [options] -o REPORT.html FILE\n"
            "       memtrace html [options] -o REPORT.html FILE... | DIR\n"
            "\n"
            "One self-contained HTML page (no network access) with the summary, the\n"
            "timeline, flame graphs of the heap at its peak and of what was not freed at\n"
            "exit, the top allocation sites, the leaks and the fragmentation report. The\n"
            "page summarizes: its size does not grow with the number of events (tables keep\n"
            "the top rows, flame graphs merge frames below 0.1%% and draw at most 3000).\n"
            "Given several logs, or a directory, the page is that of the process with the\n"
            "highest peak, under a table of all the run's processes.\n"
            "\n"
            "options:\n"
            "  -o, --output FILE   write the page to FILE ('-' for stdout); required\n"
            "  --title TEXT        page title (default: memtrace report: FILE)\n"
            "  --top N             rows per table, 0 for all that fit the page (default %d)\n"
            MT_CLI_HELP_IMPORT_NAMES("")
            "  --thread NAME|ID    the page of the blocks that thread (a name, or a tid;\n"
            "                      repeatable) allocated; the peak stays the heap's; one log\n"
            "                      only\n"
            MT_CLI_HELP_WINDOW
            "  -h, --help          show this help\n"
            "\n"
            "exit status: 0 written; 1 the log could not be read or is truncated, or the\n"
            "output could not be written; 2 usage error.\n",
            MT_HTML_DEFAULT_TOP);
    // clang-format on
}

static int mt_html_one(const char *path, const char *out_path, const mt_html_opts_t *ho,
                       int show_import);

int mt_cmd_html(int argc, char **argv)
{
    enum { OPT_TITLE = 1, OPT_TOP };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"title", required_argument, NULL, OPT_TITLE},
        {"top", required_argument, NULL, OPT_TOP},
        MT_CLI_SHARED_OPTIONS,
        MT_CLI_WINDOW_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *out_path = NULL;
    mt_html_opts_t ho = {
        .top = MT_HTML_DEFAULT_TOP, .frames = MT_CLI_DEFAULT_FRAMES, .version = MT_VERSION};
    int show_import = 0, c, status;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out_path = optarg;
            break;
        case OPT_TITLE:
            ho.title = optarg;
            break;
        case OPT_TOP:
            if (mt_cli_top("html", optarg, &ho.top))
                return 2;
            break;
        default:
            if ((status = mt_cli_other_option("html", c, argv, longopts, mt_html_usage,
                                              &show_import)) >= 0)
                return status;
        }
    }
    if (optind >= argc)
        return mt_cli_usage("html", "no log file given");
    if (!out_path)
        return mt_cli_usage("html", "no output file: give -o REPORT.html ('-' for stdout)");
    if (!mt_cli_logs_multi(argv + optind, (size_t)(argc - optind)))
        return mt_html_one(argv[optind], out_path, &ho, show_import);
    status = mt_cli_threads_one_log("html");
    if (status)
        return status;
    /* Several logs: the page of the process with the highest peak, the run's processes on
     * top of it. */
    mt_ptree_t t;
    int bad;
    if (mt_cli_multi_tree("html", argv + optind, (size_t)(argc - optind), &t, &bad))
        return 1;
    ho.processes = &t;
    int rc = mt_html_one(mt_ptree_biggest_log(&t), out_path, &ho, show_import);
    int truncated = t.truncated != 0;
    mt_ptree_destroy(&t);
    return rc || bad || truncated ? 1 : 0;
}

/* The page of the log at path, written to out_path ('-': stdout); show_import: stacks keep
 * Python's import machinery. */
static int mt_html_one(const char *path, const char *out_path, const mt_html_opts_t *ho,
                       int show_import)
{
    mt_analysis_t *a;
    mt_symbolizer_t *sym;
    int rc = mt_cli_load_as(path, show_import, 0, &a, &sym);
    if (rc)
        return rc;
    rc = 1;
    mt_out_t o;
    FILE *f = mt_cli_open_out(&o, "html", out_path);
    if (f) {
        int r = mt_render_html(a, sym, f, ho);
        if (r == -ENOMEM) {
            mt_cli_oom(path);
            (void)mt_out_close(&o, r); /* a page cut short is removed */
        } else {
            rc = mt_cli_close_out(&o, path, a, r);
        }
    }
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
    return rc;
}

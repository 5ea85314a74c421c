// SPDX-License-Identifier: MIT
// `memtrace flamegraph FILE -o out.svg`: the allocation sites as an interactive flame graph.
// Argument handling only; the tree is src/reports/flame_tree.c, the SVG
// src/render/render_flamegraph.c.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "flame_tree.h"
#include "render_flamegraph.h"
#include "render_threads.h"

/* Frames narrower than this share are merged into "other": 0.01% is a tenth of a pixel at the
 * default width, and keeps the SVG of a large program to a size browsers open at once. */
#define MT_FG_DEFAULT_MIN_PERCENT "0.01"
#define MT_FG_MAX_NODES 50000
/* The costs of cli_common.h a flame graph draws: all of them. */
#define MT_FG_COSTS                                                                                \
    ((1u << MT_COST_PEAK) | (1u << MT_COST_LEAKED) | (1u << MT_COST_ALLOCATIONS) |                 \
     (1u << MT_COST_TEMPORARY) | (1u << MT_COST_ALLOCATED))

static void mt_flamegraph_usage(FILE *out)
{
    /* the shared help lines are macros (cli_common.h), one a line */
    // clang-format off
    fprintf(out,
            "usage: memtrace flamegraph [options] -o OUT.svg FILE\n"
            "\n"
            "The allocation stacks of a log as a self-contained interactive SVG flame graph,\n"
            "root at the top: hover a frame for its function, file:line, bytes and counts,\n"
            "click to zoom, Search (or Ctrl-F) highlights matching frames and their share.\n"
            "OUT.svg#search=NAME opens with a search. Native frames of the program are red-\n"
            "orange, of libraries yellow, Python frames blue-green.\n"
            "\n"
            "options:\n"
            "  -o, --output FILE    write the SVG to FILE ('-' for stdout); required\n"
            "  --cost KIND          what widths measure (default peak):\n"
            "                         peak         bytes held at the heap peak\n"
            "                         leaked       bytes not freed at exit\n"
            "                         allocations  number of allocation calls\n"
            "                         temporary    allocations freed before the thread's\n"
            "                                      next allocation\n"
            "                         allocated    bytes allocated in total\n"
            "  --title TEXT         title line (default: the cost)\n"
            "  --min-percent P      merge frames below P%% of the total into \"other\"\n"
            "                       (default %s, 0 keeps all; at most %d frames and 2 MB\n"
            "                       are drawn: past that the cut rises, never the cost)\n"
            "  --width N            width in pixels (default 1200)\n"
            MT_CLI_HELP_IMPORT_NAMES(" ")
            "  --thread NAME|ID     only the blocks that thread (a name, or a tid; repeatable)\n"
            "                       allocated; peak stays the heap's peak\n"
            "  --from T, --to T     only the window from T to T: what was allocated in it and\n"
            "                       what of that was still held at its end, the peak inside\n"
            "                       it. T: seconds since the start (1.5), start, end or peak\n"
            "                       (the time of the heap's peak)\n"
            "  -h, --help           show this help\n"
            "\n"
            "exit status: 0 written; 1 the log could not be read or is truncated, or the\n"
            "output could not be written; 2 usage error.\n",
            MT_FG_DEFAULT_MIN_PERCENT, MT_FG_MAX_NODES);
    // clang-format on
}

static int mt_parse_percent(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0 && v <= 100)) {
        mt_cli_usage("flamegraph", "--min-percent needs a number from 0 to 100, got '%s'", s);
        return -1;
    }
    *out = v;
    return 0;
}

typedef struct mt_fg_cli {
    const char *out_path, *title;
    enum mt_cost cost;
    double min_percent;
    size_t width;
} mt_fg_cli_t;

/* The flame graph of a loaded log (mt_cli_report_fn), written to -o OUT ('-': out). */
static int mt_fg_write(const char *path, FILE *out, mt_analysis_t *a, mt_symbolizer_t *sym,
                       void *ctx)
{
    const mt_fg_cli_t *g = ctx;
    (void)out; /* mt_cli_open_out's stdout for '-' */
    int rc = 1;
    mt_sites_t sites;
    mt_flame_tree_t tree;
    char note[256]; /* --thread: say whose allocations the graph shows */
    mt_flame_svg_opts_t so = {.title = g->title,
                              .note = mt_thread_filter_note(note, sizeof note, a),
                              .width = (unsigned)g->width};
    mt_flame_budget_t budget = {.a = a, .svg = &so};
    mt_flame_opts_t fo = {.cost = g->cost,
                          .min_share = g->min_percent / 100,
                          .max_nodes = MT_FG_MAX_NODES,
                          .size = mt_flame_svg_size,
                          .size_arg = &budget,
                          .max_size = MT_FLAME_SVG_MAX_BYTES};
    if (mt_sites_build(&sites, a, sym) < 0)
        return mt_cli_oom(path);
    if (mt_flame_tree_build(&tree, a, &sites, &fo) < 0) {
        mt_cli_oom(path);
        goto out_sites;
    }
    mt_out_t o;
    FILE *f = mt_cli_open_out(&o, "flamegraph", g->out_path);
    if (f)
        rc = mt_cli_close_out(&o, path, a, mt_render_flamegraph_svg(&tree, a, f, &so));
    mt_flame_tree_destroy(&tree);
out_sites:
    mt_sites_destroy(&sites);
    return rc;
}

int mt_cmd_flamegraph(int argc, char **argv)
{
    enum { OPT_COST = 1, OPT_TITLE, OPT_MIN, OPT_WIDTH };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"cost", required_argument, NULL, OPT_COST},
        {"title", required_argument, NULL, OPT_TITLE},
        {"min-percent", required_argument, NULL, OPT_MIN},
        {"width", required_argument, NULL, OPT_WIDTH},
        MT_CLI_SHARED_OPTIONS,
        MT_CLI_WINDOW_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    mt_fg_cli_t g = {.cost = MT_COST_PEAK,
                     .min_percent = strtod(MT_FG_DEFAULT_MIN_PERCENT, NULL),
                     .width = 1200};
    int show_import = 0, c, status;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            g.out_path = optarg;
            break;
        case OPT_COST:
            if (mt_cli_cost("flamegraph", optarg, MT_FG_COSTS, &g.cost))
                return 2;
            break;
        case OPT_TITLE:
            g.title = optarg;
            break;
        case OPT_MIN:
            if (mt_parse_percent(optarg, &g.min_percent) < 0)
                return 2;
            break;
        case OPT_WIDTH:
            if (mt_cli_number("flamegraph", "--width", optarg, 100000, &g.width) < 0)
                return 2;
            if (g.width < 200)
                return mt_cli_usage("flamegraph", "--width needs at least 200 pixels, got %zu",
                                    g.width);
            break;
        default:
            if ((status = mt_cli_other_option("flamegraph", c, argv, longopts, mt_flamegraph_usage,
                                              &show_import)) >= 0)
                return status;
        }
    }
    const char *path;
    if (mt_cli_one_path("flamegraph", argc, argv, &path))
        return 2;
    if (!g.out_path)
        return mt_cli_usage("flamegraph", "no output file: give -o OUT.svg ('-' for stdout)");
    /* read from sites and totals only */
    return mt_cli_report_log(path, stdout, show_import, 1, mt_fg_write, &g);
}

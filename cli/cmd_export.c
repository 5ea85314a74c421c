// SPDX-License-Identifier: MIT
// `memtrace export FILE --to folded|pprof|massif`: hands a log's allocation sites to other
// tools (flamegraph.pl/inferno/speedscope, go tool pprof/Pyroscope, ms_print/massif-visualizer).
// Argument parsing, the output file and exit status only; the formats are src/export_*.c.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_common.h"
#include "commands.h"
#include "export.h"

#define MT_EXPORT_COSTS                                                                            \
    ((1u << MT_COST_PEAK) | (1u << MT_COST_LEAKED) | (1u << MT_COST_ALLOCATIONS) |                 \
     (1u << MT_COST_ALLOCATED))

static void mt_export_usage(FILE *out)
{
    fprintf(out,
            "usage: memtrace export [options] --to FORMAT FILE\n"
            "\n"
            "Write the allocation sites of a log in another tool's format:\n"
            "  folded  'outer;...;inner BYTES' lines for flamegraph.pl, inferno, speedscope\n"
            "  pprof   gzip-compressed profile.proto for go tool pprof, Pyroscope, speedscope\n"
            "          (sample types alloc_objects, alloc_space, inuse_objects, inuse_space)\n"
            "  massif  valgrind massif's out file for ms_print and massif-visualizer\n"
            "          (heap over time, detailed snapshots at the peak and at the end)\n"
            "\n"
            "options:\n"
            "  --to FORMAT           folded, pprof or massif (required)\n"
            "  -o, --output FILE     write to FILE instead of stdout ('-': stdout)\n"
            "  --cost COST           what a stack weighs: peak (bytes held at the heap peak,\n"
            "                        default), leaked (bytes not freed at exit), allocations\n"
            "                        (number of allocation calls) or allocated (bytes\n"
            "                        allocated in total); pprof: what inuse_* and the default\n"
            "                        sample type mean; massif shows both and ignores it\n"
            "  --show-import-machinery\n"
            "                        keep Python's import machinery (<frozen importlib...>)\n"
            "                        in stacks; by default what an import allocates is charged\n"
            "                        to the module's lines and the line that imported it\n"
            "  --full-names          C++ names in full (by default template arguments\n"
            "                        are shortened: std::vector<>::push_back)\n"
            "  --thread NAME|ID      only the blocks that thread (a name, or a tid; repeatable)\n"
            "                        allocated\n"
            "  --from T, --to T      only the window from T to T: what was allocated in it and\n"
            "                        what of that was still held at its end. T: seconds since\n"
            "                        the start (1.5), start, end or peak (the heap's peak);\n"
            "                        --to with a time is the window's end, with a format the\n"
            "                        format: --to folded --to 2.5\n"
            "  -h, --help            show this help\n"
            "\n"
            "exit status: 0 written; 1 the log could not be read or is truncated, or the\n"
            "output could not be written; 2 usage error.\n");
}

enum mt_export_to { TO_NONE, TO_FOLDED, TO_PPROF, TO_MASSIF };

typedef struct mt_export_cli {
    enum mt_export_to to;
    enum mt_cost cost;
    const char *out_path; /* NULL: stdout */
} mt_export_cli_t;

/* The export of a loaded log (mt_cli_report_fn) to out, or to -o FILE once the log has been
 * read (never truncated for a log that turns out to be missing or broken). */
static int mt_export_write(const char *path, FILE *out, mt_analysis_t *a, mt_symbolizer_t *sym,
                           void *ctx)
{
    const mt_export_cli_t *e = ctx;
    /* massif's snapshots are the heap at moments of the run, which only the events give */
    if (e->to == TO_MASSIF &&
        mt_cli_need_events("export", a, "heap over time for massif's snapshots"))
        return 1;
    mt_sites_t sites;
    if (mt_sites_build(&sites, a, sym) < 0)
        return mt_cli_oom(path);
    int rc = 1;
    mt_out_t o;
    if (e->out_path && !(out = mt_cli_open_out(&o, "export", e->out_path)))
        goto out;
    int r = e->to == TO_FOLDED  ? mt_export_folded(a, &sites, e->cost, out)
            : e->to == TO_PPROF ? mt_export_pprof(a, &sites, e->cost, out)
                                : mt_export_massif(a, &sites, out);
    rc = e->out_path ? mt_cli_close_out(&o, path, a, r) : mt_cli_finish(path, a, r);
out:
    mt_sites_destroy(&sites);
    return rc;
}

int mt_cmd_export(int argc, char **argv)
{
    enum { OPT_TO = 1, OPT_COST };
    static const struct option longopts[] = {
        {"to", required_argument, NULL, OPT_TO},
        {"output", required_argument, NULL, 'o'},
        {"cost", required_argument, NULL, OPT_COST},
        MT_CLI_SHARED_OPTIONS,
        {"from", required_argument, NULL, MT_CLI_OPT_FROM},
        {NULL, 0, NULL, 0},
    };
    mt_export_cli_t e = {.to = TO_NONE, .cost = MT_COST_PEAK};
    int show_import = 0, c, status;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_TO: {
            /* --to is the format and, given a time, the end of the window (cli_common.h) */
            if (mt_cli_window_is_time(optarg)) {
                if (mt_cli_window_option("export", MT_CLI_OPT_TO, optarg) < 0)
                    return 2;
                break;
            }
            static const char *const tos[] = {"folded", "pprof", "massif"};
            int i = mt_cli_choice("export", "--to", optarg, tos, 3);
            if (i < 0)
                return 2;
            e.to = i == 0 ? TO_FOLDED : i == 1 ? TO_PPROF : TO_MASSIF;
            break;
        }
        case OPT_COST:
            if (mt_cli_cost("export", optarg, MT_EXPORT_COSTS, &e.cost))
                return 2;
            break;
        case 'o':
            e.out_path = optarg;
            break;
        default:
            if ((status = mt_cli_other_option("export", c, argv, longopts, mt_export_usage,
                                              &show_import)) >= 0)
                return status;
        }
    }
    if (e.to == TO_NONE)
        return mt_cli_usage("export", "--to folded|pprof|massif is required");
    const char *path;
    if (mt_cli_one_path("export", argc, argv, &path))
        return 2;
    if (e.to == TO_PPROF && !e.out_path && isatty(STDOUT_FILENO))
        return mt_cli_usage("export", "pprof output is binary; use -o FILE or a pipe");
    if (e.out_path && strcmp(e.out_path, "-") == 0) /* -o - is standard output, as everywhere */
        e.out_path = NULL;
    /* read from sites and totals only */
    return mt_cli_report_log(path, stdout, show_import, 1, mt_export_write, &e);
}

// SPDX-License-Identifier: MIT
// `memtrace fragmentation FILE`: allocator footprint vs live bytes, holes, pinning and churn
// sites, as text or JSON on stdout. Argument parsing only; the report is
// src/reports/report_fragmentation.c.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "render_fragmentation.h"

#define MT_FRAG_DEFAULT_TOP 10
#define MT_FRAG_DEFAULT_FRAMES MT_CLI_DEFAULT_FRAMES

static void mt_frag_usage(FILE *out)
{
    /* the shared help lines are macros (cli_common.h), one a line */
    // clang-format off
    fprintf(out,
            "usage: memtrace fragmentation [options] FILE\n"
            "\n"
            "Allocator footprint against live bytes at the heap peak and at exit (glibc's\n"
            "mallinfo2, sampled on a timer, at each new heap high and at exit), the holes\n"
            "between live blocks at exit, chunk overhead, and the sites that pin freed space\n"
            "or churn the allocator. For Python, the part of the live bytes that is small\n"
            "objects in pymalloc's arenas (outside glibc's heap), and how full those are.\n"
            "\n"
            "options:\n"
            "  --format text|json  output format (default text; JSON schema: docs/json-schema.md)\n"
            "  --top N             sites per list, 0 for all (default %d)\n"
            "  --frames N          frames shown per stack in text, 0 for all (default %d)\n"
            "  --request SIZE      say how many holes at exit could serve a request of SIZE bytes\n"
            "  --thread NAME|ID    the pinning and churn sites of the blocks that thread (a name,\n"
            "                      or a tid; repeatable) allocated; the allocator's figures and\n"
            "                      holes stay the whole process's\n"
            MT_CLI_HELP_WINDOW
            MT_CLI_SITE_HELP_TAIL
            "\n"
            "exit status: 0 report written; 1 the log could not be read or is truncated;\n"
            "2 usage error.\n",
            MT_FRAG_DEFAULT_TOP, MT_FRAG_DEFAULT_FRAMES);
    // clang-format on
}

enum { OPT_REQUEST = MT_CLI_OPT_OWN };

typedef struct mt_frag_cli {
    mt_cli_site_opts_t o;
    size_t request; /* --request */
} mt_frag_cli_t;

static int mt_frag_option(const char *cmd, int opt, const char *value, void *ctx)
{
    size_t *request = ctx;
    (void)opt; /* the only one: --request */
    return mt_cli_number(cmd, "--request", value, (size_t)1 << 40, request);
}

/* The report of a loaded log (mt_cli_report_fn). */
static int mt_frag_render(const char *path, FILE *out, mt_analysis_t *a, mt_symbolizer_t *sym,
                          void *ctx)
{
    const mt_frag_cli_t *cli = ctx;
    if (mt_cli_need_events("fragmentation", a, "allocator samples or block addresses over time"))
        return 1;
    mt_report_fragmentation_t rep;
    if (mt_report_fragmentation_build(&rep, a, sym, cli->o.top) < 0)
        return mt_cli_oom(path);
    rep.request = cli->request;
    int colour = mt_cli_colour(cli->o.no_color);
    int r = cli->o.json ? mt_render_fragmentation_json(&rep, out, 1)
                        : mt_render_fragmentation_text(&rep, out, colour, cli->o.frames);
    int rc = mt_cli_finish(path, a, r);
    mt_report_fragmentation_destroy(&rep);
    return rc;
}

int mt_cmd_fragmentation(int argc, char **argv)
{
    static const struct option own[] = {
        {"request", required_argument, NULL, OPT_REQUEST},
        {NULL, 0, NULL, 0},
    };
    mt_frag_cli_t cli = {.o = {.top = MT_FRAG_DEFAULT_TOP,
                               .frames = MT_FRAG_DEFAULT_FRAMES,
                               .own = own,
                               .on_own = mt_frag_option}};
    cli.o.own_ctx = &cli.request;
    int status = mt_cli_site_options("fragmentation", argc, argv, mt_frag_usage, &cli.o);
    if (status >= 0)
        return status;
    /* the holes at exit are read from the live blocks: they stay */
    return mt_cli_report_log(cli.o.path, stdout, cli.o.show_import, 0, mt_frag_render, &cli);
}

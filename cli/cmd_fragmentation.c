// SPDX-License-Identifier: MIT
// `memtrace fragmentation FILE`: allocator footprint vs live bytes, holes, pinning and churn
// sites, as text or JSON on stdout. Argument parsing only; the report is
// src/report_fragmentation.c.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "report_fragmentation.h"

#define MT_FRAG_DEFAULT_TOP 10
#define MT_FRAG_DEFAULT_FRAMES 12

static void mt_frag_usage(FILE *out)
{
    fprintf(out,
            "usage: memtrace fragmentation [options] FILE\n"
            "\n"
            "Allocator footprint against live bytes at the heap peak and at exit (from the\n"
            "sampled mallinfo2 nearest each), the holes between live blocks at exit, chunk\n"
            "overhead, and the sites that pin freed space or churn the allocator.\n"
            "\n"
            "options:\n"
            "  --format text|json  output format (default text; JSON schema: docs/json-schema.md)\n"
            "  --top N             sites per list (default %d)\n"
            "  --frames N          frames shown per stack in text, 0 for all (default %d)\n"
            "  --no-color          no colours (also when NO_COLOR is set or stdout is no tty)\n"
            "  -h, --help          show this help\n"
            "\n"
            "exit status: 0 report written; 1 the log could not be read or is truncated;\n"
            "2 usage error.\n",
            MT_FRAG_DEFAULT_TOP, MT_FRAG_DEFAULT_FRAMES);
}

int mt_cmd_fragmentation(int argc, char **argv)
{
    enum { OPT_FORMAT = 1, OPT_TOP, OPT_FRAMES, OPT_NO_COLOR };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"top", required_argument, NULL, OPT_TOP},
        {"frames", required_argument, NULL, OPT_FRAMES},
        {"no-color", no_argument, NULL, OPT_NO_COLOR},
        {"no-colour", no_argument, NULL, OPT_NO_COLOR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, no_color = 0, c;
    size_t top = MT_FRAG_DEFAULT_TOP, frames = MT_FRAG_DEFAULT_FRAMES;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0) {
                fprintf(stderr, "memtrace: fragmentation: unknown format '%s' (text or json)\n",
                        optarg);
                return 2;
            }
            json = strcmp(optarg, "json") == 0;
            break;
        case OPT_TOP:
            if (mt_cli_number("fragmentation", "--top", optarg, 1000000, &top) < 0)
                return 2;
            break;
        case OPT_FRAMES:
            if (mt_cli_number("fragmentation", "--frames", optarg, 100000, &frames) < 0)
                return 2;
            break;
        case OPT_NO_COLOR:
            no_color = 1;
            break;
        case 'h':
            mt_frag_usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "memtrace: fragmentation: option '%s' needs a value\n",
                    argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "memtrace: fragmentation: unknown option '%s'\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "memtrace: fragmentation: %s (see 'memtrace fragmentation --help')\n",
                optind >= argc ? "no log file given" : "one log file at a time");
        return 2;
    }
    const char *path = argv[optind];
    mt_analysis_t *a;
    mt_symbolizer_t *sym;
    if (mt_cli_load(path, &a, &sym))
        return 1;
    mt_report_fragmentation_t rep;
    int rc;
    if (mt_report_fragmentation_build(&rep, a, sym, top) < 0) {
        fprintf(stderr, "memtrace: %s: %s\n", path, strerror(ENOMEM));
        rc = 1;
    } else {
        int r = json ? mt_render_fragmentation_json(&rep, stdout, 1)
                     : mt_render_fragmentation_text(&rep, stdout, mt_cli_colour(no_color), frames);
        rc = mt_cli_finish(path, a, r);
        mt_report_fragmentation_destroy(&rep);
    }
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
    return rc;
}

// SPDX-License-Identifier: MIT
// `memtrace report FILE`: the summary of a log (totals, peak, not freed at exit, top sites),
// as text or JSON on stdout. This file owns the terminal decisions (colour, NO_COLOR) and the
// exit status; all analysis is in src/. Errors are one line on stderr, "memtrace: ...".
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "commands.h"
#include "render.h"
#include "report_summary.h"
#include "symbolizer.h"

#define MT_REPORT_DEFAULT_TOP 10
#define MT_REPORT_DEFAULT_FRAMES 12

static void mt_report_usage(FILE *out)
{
    fprintf(out,
            "usage: memtrace report [options] FILE\n"
            "\n"
            "Summarize a memtrace log: allocations, frees, bytes allocated, peak heap and when,\n"
            "peak RSS, memory not freed at exit, and the top allocation sites by bytes and by\n"
            "count with symbolized stacks (innermost frame first).\n"
            "\n"
            "options:\n"
            "  --format text|json  output format (default text; JSON schema: docs/json-schema.md)\n"
            "  --top N             number of sites per list (default %d)\n"
            "  --frames N          frames shown per stack in text, 0 for all (default %d)\n"
            "  --no-color          no colours (also when NO_COLOR is set or stdout is no tty)\n"
            "  -h, --help          show this help\n"
            "\n"
            "exit status: 0 report written; 1 the log could not be read, or it is truncated\n"
            "(the report of what is there is still written, with a warning on stderr);\n"
            "2 usage error.\n",
            MT_REPORT_DEFAULT_TOP, MT_REPORT_DEFAULT_FRAMES);
}

static int mt_report_number(const char *opt, const char *s, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max) {
        fprintf(stderr, "memtrace: report: %s needs a number from 0 to %zu, got '%s'\n", opt, max,
                s);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

int mt_cmd_report(int argc, char **argv)
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
    int json = 0, no_color = 0;
    size_t top = MT_REPORT_DEFAULT_TOP, frames = MT_REPORT_DEFAULT_FRAMES;

    opterr = 0; /* our own messages, in the house format */
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (strcmp(optarg, "text") == 0) {
                json = 0;
            } else if (strcmp(optarg, "json") == 0) {
                json = 1;
            } else {
                fprintf(stderr, "memtrace: report: unknown format '%s' (text or json)\n", optarg);
                return 2;
            }
            break;
        case OPT_TOP:
            if (mt_report_number("--top", optarg, 1000000, &top) < 0)
                return 2;
            break;
        case OPT_FRAMES:
            if (mt_report_number("--frames", optarg, 100000, &frames) < 0)
                return 2;
            break;
        case OPT_NO_COLOR:
            no_color = 1;
            break;
        case 'h':
            mt_report_usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "memtrace: report: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            if (optopt)
                fprintf(stderr, "memtrace: report: unknown option '-%c'\n", optopt);
            else
                fprintf(stderr, "memtrace: report: unknown option '%s'\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "memtrace: report: no log file given (see 'memtrace report --help')\n");
        return 2;
    }
    if (optind + 1 < argc) {
        fprintf(stderr, "memtrace: report: one log file at a time, got '%s' too\n",
                argv[optind + 1]);
        return 2;
    }
    const char *path = argv[optind];

    char err[512];
    mt_analysis_t *a;
    if (mt_analysis_load(&a, path, err, sizeof err) < 0) {
        fprintf(stderr, "memtrace: %s\n", err);
        return 1;
    }
    mt_symbolizer_t *sym;
    mt_report_summary_t rep;
    if (mt_symbolizer_new(&sym, a->modules) < 0) {
        fprintf(stderr, "memtrace: %s: %s\n", path, strerror(ENOMEM));
        mt_analysis_free(a);
        return 1;
    }
    if (mt_report_summary_build(&rep, a, sym, top) < 0) {
        fprintf(stderr, "memtrace: %s: %s\n", path, strerror(ENOMEM));
        mt_symbolizer_free(sym);
        mt_analysis_free(a);
        return 1;
    }
    /* NO_COLOR: "when present and not an empty string" (no-color.org). */
    const char *nc = getenv("NO_COLOR");
    mt_render_opts_t ro = {
        .colour = !json && !no_color && !(nc && nc[0]) && isatty(STDOUT_FILENO),
        .max_frames = frames,
    };
    int rc =
        json ? mt_render_summary_json(&rep, stdout, 1) : mt_render_summary_text(&rep, stdout, &ro);
    if (fflush(stdout) != 0 || rc < 0) {
        fprintf(stderr, "memtrace: write error: %s\n", strerror(errno ? errno : EIO));
        rc = 1;
    } else {
        rc = 0;
    }
    if (a->truncated) {
        fprintf(stderr, "memtrace: %s: %s (%s)\n", path, a->truncation, a->cut_reason);
        rc = 1;
    }
    mt_report_summary_destroy(&rep);
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
    return rc;
}

// SPDX-License-Identifier: MIT
// `memtrace logstats FILE`: where the bytes of a log go, per record type and per stream, as
// text or JSON (src/reports/log_stats.c). For work on the log format and for the curious; it reads
// the log once with no analysis and no symbols.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "render_logstats.h"

static void mt_logstats_usage(FILE *out)
{
    fprintf(out, "usage: memtrace logstats [options] FILE\n"
                 "\n"
                 "Where the bytes of a log go: per stream its compressed and raw bytes, per\n"
                 "record type its records and raw bytes (docs/log-format.md names them).\n"
                 "\n"
                 "options:\n"
                 "  --format text|json  output format (default text)\n"
                 "  -h, --help          show this help\n"
                 "\n"
                 "exit status: 0 written; 1 the log could not be read or is cut (the counts of\n"
                 "what was read are still written); 2 usage error.\n");
}

int mt_cmd_logstats(int argc, char **argv)
{
    enum { OPT_FORMAT = 1 };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if ((json = mt_cli_format_json("logstats", optarg)) < 0)
                return 2;
            break;
        case 'h':
            mt_logstats_usage(stdout);
            return 0;
        default:
            return mt_cli_bad_option("logstats", c, argv, longopts);
        }
    }
    const char *path;
    if (mt_cli_one_path("logstats", argc, argv, &path))
        return 2;
    static mt_logstats_report_t rep;
    char err[512];
    if (mt_logstats_load(&rep, path, err, sizeof err) < 0) {
        fprintf(stderr, "memtrace: %s\n", err);
        return 1;
    }
    mt_out_t o;
    FILE *out = mt_out_open(&o, "logstats", "-");
    int r = json ? mt_logstats_render_json(&rep, out) : mt_logstats_render_text(&rep, out);
    if (mt_out_close(&o, r) != 0)
        return 1;
    if (rep.truncated) {
        fprintf(stderr, "memtrace: %s: %s; the counts cover what was read\n", path, rep.reason);
        return 1;
    }
    return 0;
}

// SPDX-License-Identifier: MIT
// `memtrace peak FILE`: who holds the memory at the heap's high-water mark, as text or JSON on
// stdout. Argument parsing and exit status only; the report is src/report_peak.c.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "report_peak.h"

#define MT_PEAK_DEFAULT_TOP 10
#define MT_PEAK_DEFAULT_FRAMES 12

static void mt_peak_usage(FILE *out)
{
    fprintf(out,
            "usage: memtrace peak [options] FILE\n"
            "\n"
            "The moment of the heap's high-water mark, the total then, and the sites holding it\n"
            "at that moment, biggest first (bytes and blocks held then, not allocated in total);\n"
            "also the peak RSS and when it was sampled.\n"
            "\n"
            "options:\n"
            "  --format text|json  output format (default text; JSON schema: docs/json-schema.md)\n"
            "  --top N             number of sites (default %d)\n"
            "  --frames N          frames shown per stack in text, 0 for all (default %d)\n"
            "  --no-color          no colours (also when NO_COLOR is set or stdout is no tty);\n"
            "                      --no-colour is the same\n"
            "  -h, --help          show this help\n"
            "\n"
            "exit status: 0 report written; 1 the log could not be read or is truncated;\n"
            "2 usage error.\n",
            MT_PEAK_DEFAULT_TOP, MT_PEAK_DEFAULT_FRAMES);
}

int mt_cmd_peak(int argc, char **argv)
{
    mt_cli_site_opts_t o = {.top = MT_PEAK_DEFAULT_TOP, .frames = MT_PEAK_DEFAULT_FRAMES};
    int status = mt_cli_site_options("peak", argc, argv, mt_peak_usage, &o);
    if (status >= 0)
        return status;
    mt_analysis_t *a;
    mt_symbolizer_t *sym;
    if (mt_cli_load(o.path, &a, &sym))
        return 1;
    mt_report_peak_t rep;
    int rc;
    if (mt_report_peak_build(&rep, a, sym, o.top) < 0) {
        fprintf(stderr, "memtrace: %s: %s\n", o.path, strerror(ENOMEM));
        rc = 1;
    } else {
        int r = o.json ? mt_render_peak_json(&rep, stdout, 1)
                       : mt_render_peak_text(&rep, stdout, mt_cli_colour(o.no_color), o.frames);
        rc = mt_cli_finish(o.path, a, r);
        mt_report_peak_destroy(&rep);
    }
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
    return rc;
}

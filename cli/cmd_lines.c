// SPDX-License-Identifier: MIT
// `memtrace lines FILE`: a Python file of the recorded program line by line, with what each
// line allocated and held, as text or JSON on stdout. Argument parsing and exit status only;
// the report is src/reports/report_lines.c.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "render_lines.h"

static void mt_lines_usage(FILE *out)
{
    fputs("usage: memtrace lines [options] FILE\n"
          "\n"
          "A Python file of the recorded program line by line, in the layout of memory_profiler's\n"
          "@profile, but exact: for each line the bytes it allocated, what it held at the heap\n"
          "peak and at the end of the script (before interpreter finalization; at exit when the\n"
          "log has no end of the script), and its allocation calls. Each figure twice: the\n"
          "line's own (it is the innermost Python frame of the allocation) and including its\n"
          "callees (it is anywhere in the Python stack; once per stack under recursion).\n"
          "Every line of each function with figures is shown, then the module's own lines;\n"
          "the source is read from the file on disk (a warning when it changed since the run).\n"
          "\n"
          "options:\n"
          "  --file PY           the Python file: its path as recorded, a path to it, or the\n"
          "                      end of its path (default: the script that was run)\n"
          "  --function NAME     only the functions named NAME (qualified, like Cls.method,\n"
          "                      or the last part of the name; '<module>': the module's lines)\n"
          "  --thread NAME|ID    only the allocations of that thread, whoever freed them: a\n"
          "                      name (every thread of that name) or a tid; repeat for more.\n"
          "                      The peak stays the heap's, of which they hold the part "
          "shown\n" MT_CLI_HELP_WINDOW
          "  --format text|json  output format (default text; JSON schema: docs/json-schema.md)\n"
          "  --no-color          no colours (also when NO_COLOR is set or stdout is no tty);\n"
          "                      --no-colour is the same\n"
          "  -h, --help          show this help\n"
          "\n"
          "exit status: 0 report written; 1 the log could not be read or is truncated, has no\n"
          "Python frames, no code of that file or function, or no such thread; 2 usage error.\n",
          out);
}

typedef struct mt_lines_args {
    mt_lines_opts_t lo;
    int json, no_color;
    const char *path;
} mt_lines_args_t;

/* -1 to go on, or the exit status (0 after --help, 2 after a usage error). */
static int mt_lines_parse(int argc, char **argv, mt_lines_args_t *o)
{
    enum { OPT_FILE = 1, OPT_FUNCTION, OPT_FORMAT, OPT_NO_COLOR };
    static const struct option longopts[] = {
        {"file", required_argument, NULL, OPT_FILE},
        {"function", required_argument, NULL, OPT_FUNCTION},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"no-color", no_argument, NULL, OPT_NO_COLOR},
        {"no-colour", no_argument, NULL, OPT_NO_COLOR},
        {"help", no_argument, NULL, 'h'},
        MT_CLI_THREAD_OPTION,
        MT_CLI_WINDOW_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FILE:
            o->lo.file = optarg;
            break;
        case OPT_FUNCTION:
            o->lo.function = optarg;
            break;
        case OPT_FORMAT:
            if ((o->json = mt_cli_format_json("lines", optarg)) < 0)
                return 2;
            break;
        case OPT_NO_COLOR:
            o->no_color = 1;
            break;
        case MT_CLI_OPT_THREAD:
            mt_cli_add_thread(optarg); /* mt_cli_load applies it */
            break;
        case 'h':
            mt_lines_usage(stdout);
            return 0;
        case MT_CLI_OPT_FROM:
        case MT_CLI_OPT_TO:
            if (mt_cli_window_option("lines", c, optarg) < 0)
                return 2;
            break;
        default:
            return mt_cli_bad_option("lines", c, argv, longopts);
        }
    }
    if (o->lo.file && !o->lo.file[0])
        return mt_cli_usage("lines", "--file needs a file name");
    if (o->lo.function && !o->lo.function[0])
        return mt_cli_usage("lines", "--function needs a name");
    return mt_cli_one_path("lines", argc, argv, &o->path) ? 2 : -1;
}

int mt_cmd_lines(int argc, char **argv)
{
    mt_lines_args_t o = {0};
    int status = mt_lines_parse(argc, argv, &o);
    if (status >= 0)
        return status;
    mt_analysis_t *a;
    /* Python frames only: no symbolizer; --thread and --from/--to apply */
    if ((status = mt_cli_load(o.path, &a, NULL)) != 0)
        return status;
    mt_report_lines_t rep;
    char err[512];
    int rc;
    if (mt_report_lines_build(&rep, a, &o.lo, err, sizeof err) < 0) {
        fprintf(stderr, "memtrace: %s\n", err);
        rc = 1;
    } else {
        int r = o.json ? mt_render_lines_json(&rep, stdout, 1)
                       : mt_render_lines_text(&rep, stdout, mt_cli_colour(o.no_color));
        rc = mt_cli_finish(o.path, a, r);
        mt_report_lines_destroy(&rep);
    }
    mt_analysis_free(a);
    return rc;
}

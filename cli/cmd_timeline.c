// SPDX-License-Identifier: MIT
// `memtrace timeline FILE [-o out.svg]`: heap, RSS and allocator footprint over time, as an
// SVG file or, without -o, a compact chart on stdout. Argument handling only; the rendering
// is src/render/render_svg_timeline.c.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "render_svg_timeline.h"

static void mt_timeline_usage(FILE *out)
{
    fprintf(out,
            "usage: memtrace timeline [options] FILE\n"
            "\n"
            "Heap in use, RSS and allocator footprint (mallinfo2 arena + mmapped) over time,\n"
            "with the heap peak marked. With -o, a self-contained SVG; without, a chart of\n"
            "the heap on stdout.\n"
            "\n"
            "options:\n"
            "  -o, --output FILE   write an SVG to FILE ('-' for stdout)\n"
            "  --width N           chart width in columns (text, default 60)\n"
            "  --height N          chart height in rows (text, default 12)\n"
            "  --thread NAME|ID    the heap line of the blocks that thread (a name, or a tid;\n"
            "                      repeatable) allocated; RSS and footprint stay the "
            "process's\n" MT_CLI_HELP_WINDOW
            "                      (the chart spans the window; its heap line is the window's\n"
            "                      blocks)\n"
            "  --no-color          no colours (also when NO_COLOR is set or stdout is no tty);\n"
            "                      --no-colour is the same\n"
            "  -h, --help          show this help\n"
            "\n"
            "exit status: 0 written; 1 the log could not be read or is truncated, or the\n"
            "output could not be written; 2 usage error.\n");
}

int mt_cmd_timeline(int argc, char **argv)
{
    enum { OPT_WIDTH = 1, OPT_HEIGHT, OPT_NO_COLOR };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"height", required_argument, NULL, OPT_HEIGHT},
        {"no-color", no_argument, NULL, OPT_NO_COLOR},
        {"no-colour", no_argument, NULL, OPT_NO_COLOR},
        {"help", no_argument, NULL, 'h'},
        MT_CLI_THREAD_OPTION,
        MT_CLI_WINDOW_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *svg = NULL;
    size_t width = 60, height = 12;
    int no_color = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            svg = optarg;
            break;
        case OPT_WIDTH:
            if (mt_cli_number("timeline", "--width", optarg, 1000, &width) < 0)
                return 2;
            if (width < 8)
                return mt_cli_usage("timeline", "--width needs at least 8 columns, got %zu", width);
            break;
        case OPT_HEIGHT:
            if (mt_cli_number("timeline", "--height", optarg, 200, &height) < 0)
                return 2;
            if (height < 2)
                return mt_cli_usage("timeline", "--height needs at least 2 rows, got %zu", height);
            break;
        case OPT_NO_COLOR:
            no_color = 1;
            break;
        case MT_CLI_OPT_THREAD:
            mt_cli_add_thread(optarg);
            break;
        case 'h':
            mt_timeline_usage(stdout);
            return 0;
        default: {
            int w = mt_cli_window_option("timeline", c, optarg);
            if (w < 0)
                return 2;
            if (w > 0)
                break;
            return mt_cli_bad_option("timeline", c, argv, longopts);
        }
        }
    }
    const char *path;
    if (mt_cli_one_path("timeline", argc, argv, &path))
        return 2;
    mt_analysis_t *a;
    if (mt_cli_load(path, &a, NULL))
        return 1;
    if (mt_cli_need_events("timeline", a, "heap, RSS or allocator footprint over time")) {
        mt_analysis_free(a);
        return 1;
    }
    int rc;
    if (svg) {
        mt_out_t o;
        FILE *f = mt_cli_open_out(&o, "timeline", svg); /* -o - is standard output */
        rc = f ? mt_cli_close_out(&o, path, a, mt_timeline_svg(a, f)) : 1;
    } else {
        int r =
            mt_timeline_text(a, stdout, mt_cli_colour(no_color), (unsigned)width, (unsigned)height);
        rc = mt_cli_finish(path, a, r);
    }
    mt_analysis_free(a);
    return rc;
}

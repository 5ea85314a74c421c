// SPDX-License-Identifier: MIT
// `memtrace diff OLD NEW`: what grew between two runs, by allocation site, as text or JSON, with
// --fail-above for CI. Argument parsing and exit status only; the diff is src/reports/diff.c.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "render_diff.h"
#include "fmt.h"

#define MT_DIFF_DEFAULT_TOP 10
#define MT_DIFF_DEFAULT_FRAMES MT_CLI_DEFAULT_FRAMES

static void mt_diff_usage(FILE *out)
{
    fprintf(out,
            "usage: memtrace diff [options] OLD NEW\n"
            "\n"
            "What grew between two runs: the totals of both logs (peak heap, not freed at exit,\n"
            "allocations) and the allocation sites whose bytes at the peak or at exit changed,\n"
            "largest change first, grown or shrunk; sites only in NEW are marked [new], only in\n"
            "OLD [vanished].\n"
            "Sites match by symbolized stack (function, file, line), so two builds match.\n"
            "\n"
            "options:\n"
            "  --format text|json    output format (default text; schema: docs/json-schema.md)\n"
            "  --by peak|leaked      figure that sorts the sites and that --fail-above checks:\n"
            "                        the peak heap (default) or the bytes not freed at exit\n"
            "  --fail-above LIMIT    exit 1 when that total grew by more than LIMIT: bytes\n"
            "                        (4096, 64K, 10MiB, 1.5G; K = KB = KiB = 1024) or a\n"
            "                        percentage of OLD's total (5%%)\n"
            "  --top N               number of sites listed, 0 for all (default %d)\n"
            "  --frames N            frames shown per stack in text, 0 for all (default %d)\n"
            "  --show-import-machinery\n"
            "                        keep Python's import machinery (<frozen importlib...>)\n"
            "                        in stacks; by default what an import allocates is charged\n"
            "                        to the module's lines and the line that imported it\n"
            "  --full-names          C++ names in full (by default template arguments\n"
            "                        are shortened: std::vector<>::push_back)\n"
            "  --thread NAME|ID      compare only the blocks the threads of that name (thread\n"
            "                        ids differ between runs) allocated; repeatable; a thread\n"
            "                        of one run only is compared with nothing\n"
            "  --from T, --to T      compare the same window of each run: what was allocated\n"
            "                        in it and what of that was still held at its end. T is\n"
            "                        seconds since each run's start, start, end, peak (each\n"
            "                        run's own) or a mark (memtrace_mark: each run's own)\n"
            "  --no-color            no colours (also when NO_COLOR is set or stdout is no tty);\n"
            "                        --no-colour is the same\n"
            "  -h, --help            show this help\n"
            "\n"
            "exit status: 0 diff written (and growth within --fail-above); 1 growth above\n"
            "--fail-above, or a log could not be read or is truncated; 2 usage error.\n",
            MT_DIFF_DEFAULT_TOP, MT_DIFF_DEFAULT_FRAMES);
}

int mt_cmd_diff(int argc, char **argv)
{
    enum { OPT_FORMAT = 1, OPT_BY, OPT_FAIL_ABOVE, OPT_TOP, OPT_FRAMES, OPT_NO_COLOR };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"by", required_argument, NULL, OPT_BY},
        {"fail-above", required_argument, NULL, OPT_FAIL_ABOVE},
        {"top", required_argument, NULL, OPT_TOP},
        {"frames", required_argument, NULL, OPT_FRAMES},
        {"no-color", no_argument, NULL, OPT_NO_COLOR},
        {"no-colour", no_argument, NULL, OPT_NO_COLOR},
        MT_CLI_SHARED_OPTIONS,
        MT_CLI_WINDOW_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int json = 0, no_color = 0, show_import = 0, c, status;
    enum mt_diff_by by = MT_DIFF_BY_PEAK;
    size_t top = MT_DIFF_DEFAULT_TOP, frames = MT_DIFF_DEFAULT_FRAMES;
    mt_diff_threshold_t thr;
    const char *fail_above = NULL;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if ((json = mt_cli_format_json("diff", optarg)) < 0)
                return 2;
            break;
        case OPT_BY: {
            static const char *const bys[] = {"peak", "leaked"};
            int i = mt_cli_choice("diff", "--by", optarg, bys, 2);
            if (i < 0)
                return 2;
            by = i == 0 ? MT_DIFF_BY_PEAK : MT_DIFF_BY_LEAKED;
            break;
        }
        case OPT_FAIL_ABOVE:
            if (mt_diff_threshold_parse(optarg, &thr) < 0)
                return mt_cli_usage("diff",
                                    "--fail-above needs bytes (4096, 10MiB) or a "
                                    "percentage (5%%), got '%s'",
                                    optarg);
            fail_above = optarg;
            break;
        case OPT_TOP:
            if (mt_cli_top("diff", optarg, &top))
                return 2;
            break;
        case OPT_FRAMES:
            if (mt_cli_number("diff", "--frames", optarg, 100000, &frames) < 0)
                return 2;
            break;
        case OPT_NO_COLOR:
            no_color = 1;
            break;
        default:
            if ((status = mt_cli_other_option("diff", c, argv, longopts, mt_diff_usage,
                                              &show_import)) >= 0)
                return status;
        }
    }
    if (argc - optind != 2)
        return mt_cli_usage("diff", "needs two log files, OLD and NEW");
    const char *old_path = argv[optind], *new_path = argv[optind + 1];
    mt_analysis_t *a_old = NULL, *a_new = NULL;
    mt_symbolizer_t *s_old = NULL, *s_new = NULL;
    int rc = 1;
    /* --thread: a thread of one run only (a new one, or one that went away) is compared with
     * nothing; a value neither run has is an error. */
    mt_cli_threads_allow_missing();
    /* 2 for a usage error (a window past a log's end), as every command has it */
    if ((rc = mt_cli_load(old_path, &a_old, &s_old)) != 0)
        return rc;
    if ((rc = mt_cli_load(new_path, &a_new, &s_new)) != 0)
        goto out;
    rc = 1;
    a_old->show_import_machinery = a_new->show_import_machinery = show_import;
    mt_analysis_t *both[] = {a_old, a_new};
    if (mt_cli_check_threads("diff", both, 2))
        goto out;
    mt_diff_t d;
    if (mt_diff_build(&d, a_old, s_old, a_new, s_new, by) < 0) {
        fprintf(stderr, "memtrace: diff: %s\n", strerror(ENOMEM));
        goto out;
    }
    mt_diff_render_opts_t ro = {
        .colour = !json && mt_cli_colour(no_color),
        .top = top,
        .max_frames = frames,
        .fail_above = fail_above ? &thr : NULL,
        .fail_above_text = fail_above,
    };
    int r = json ? mt_render_diff_json(&d, stdout, &ro) : mt_render_diff_text(&d, stdout, &ro);
    rc = mt_cli_finish(old_path, a_old, r);
    if (a_new->truncated) {
        fprintf(stderr, "memtrace: %s: %s (%s)\n", new_path, a_new->truncation, a_new->cut_reason);
        rc = 1;
    }
    if (fail_above && mt_diff_exceeds(&d, &thr)) {
        int64_t delta = mt_diff_total_delta(&d, by);
        uint64_t base = by == MT_DIFF_BY_LEAKED ? d.old.leaked_bytes : d.old.peak_bytes;
        char b[64], pct[48] = "";
        if (base)
            snprintf(pct, sizeof pct, " (+%.1f%%)", (double)delta * 100.0 / (double)base);
        fprintf(stderr, "memtrace: diff: %s grew by %s%s, above --fail-above %s\n",
                by == MT_DIFF_BY_LEAKED ? "memory not freed at exit" : "peak heap",
                mt_fmt_bytes_exact(b, sizeof b, (uint64_t)delta), pct, fail_above);
        rc = 1;
    }
    mt_diff_destroy(&d);
out:
    mt_symbolizer_free(s_new);
    mt_analysis_free(a_new);
    mt_symbolizer_free(s_old);
    mt_analysis_free(a_old);
    return rc;
}

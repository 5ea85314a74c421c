// SPDX-License-Identifier: MIT
// The leak-check options shared by `memtrace leaks` and `memtrace run --leak-check`: parsing
// of kind lists, exit codes and suppression files, and the report itself from a log path.
// Messages are one line on stderr, "memtrace: CMD: ...".
#ifndef MT_CLI_LEAK_CHECK_H
#define MT_CLI_LEAK_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum mt_leak_format { MT_LEAK_TEXT, MT_LEAK_JSON, MT_LEAK_SARIF, MT_LEAK_JUNIT };

typedef struct mt_leak_cli {
    unsigned show, fail; /* 1u << enum mt_leaks_kind */
    const char **supp_files;
    size_t nsupp;
    int gen_supps;
    int format;         /* enum mt_leak_format */
    int error_exitcode; /* -1: not given */
    size_t frames;
    int colour;
    int show_import;             /* --show-import-machinery (analysis.h) */
    int after_finalization;      /* a Python log: the scan at exit, not the end of the script */
    uint64_t fail_above;         /* --fail-leaked-above: failing bytes must be more than this */
    const char *fail_above_text; /* as given; NULL when not given */
    int require_scan;            /* a log without a leak scan: no report, *classified = 0 (run) */
    /* With out NULL: the report's file, opened (truncated) only once the log has been read,
     * so that a missing or broken log never destroys the previous report. */
    const char *out_path;
    const char *source_root; /* --source-root: SARIF's %SRCROOT% (absolute); NULL: found */
} mt_leak_cli_t;

void mt_leak_cli_init(mt_leak_cli_t *o);
void mt_leak_cli_destroy(mt_leak_cli_t *o);
/* Each returns 0, or -1 after printing "memtrace: CMD: ..." (a usage error, exit 2). */
int mt_leak_cli_kinds(const char *cmd, const char *opt, const char *arg, unsigned *mask);
int mt_leak_cli_exitcode(const char *cmd, const char *arg, int *code);
int mt_leak_cli_add_supp(mt_leak_cli_t *o, const char *path);

/*
 * Loads the log, checks the suppression files, writes the report (format o->format) to out (or
 * to o->out_path when out is NULL) and
 * the generated suppressions (if asked) to supp_out. *failing is set when a failing kind has
 * unsuppressed bytes, with why in reason (mt_render_leaks_reason; may be NULL); *classified
 * when the report is a verdict (the log's leak scan, or the end of a Python script). Returns 0,
 * or 1 after printing the error (unreadable log or suppression file, write error).
 */
int mt_leak_cli_report(const char *cmd, const char *path, const mt_leak_cli_t *o, FILE *out,
                       FILE *supp_out, int *failing, int *classified, int *truncated, char *reason,
                       size_t reasonlen);

#endif

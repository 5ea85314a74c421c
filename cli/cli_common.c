// SPDX-License-Identifier: MIT
// Shared option and output handling of the report subcommands (see cli_common.h). This is the
// only place besides cmd_report.c that looks at the terminal and the environment.
#include "cli_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mt_cli_number(const char *cmd, const char *opt, const char *s, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max) {
        fprintf(stderr, "memtrace: %s: %s needs a number from 0 to %zu, got '%s'\n", cmd, opt, max,
                s);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

int mt_cli_colour(int no_color)
{
    /* NO_COLOR: "when present and not an empty string" (no-color.org). */
    const char *nc = getenv("NO_COLOR");
    return !no_color && !(nc && nc[0]) && isatty(STDOUT_FILENO);
}

int mt_cli_load(const char *path, mt_analysis_t **a, mt_symbolizer_t **sym)
{
    char err[512];
    if (mt_analysis_load(a, path, err, sizeof err) < 0) {
        fprintf(stderr, "memtrace: %s\n", err);
        return 1;
    }
    if (sym && mt_symbolizer_new(sym, (*a)->modules) < 0) {
        fprintf(stderr, "memtrace: %s: %s\n", path, strerror(ENOMEM));
        mt_analysis_free(*a);
        return 1;
    }
    return 0;
}

int mt_cli_finish(const char *path, const mt_analysis_t *a, int render_rc)
{
    int rc = 0;
    if (fflush(stdout) != 0 || render_rc < 0) {
        fprintf(stderr, "memtrace: write error: %s\n", strerror(errno ? errno : EIO));
        rc = 1;
    }
    if (a->truncated) {
        fprintf(stderr, "memtrace: %s: %s (%s)\n", path, a->truncation, a->cut_reason);
        rc = 1;
    }
    return rc;
}

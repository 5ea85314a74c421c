// SPDX-License-Identifier: MIT
// Helpers shared by the report subcommands (peak, timeline, fragmentation): number options,
// the colour decision (tty, NO_COLOR, --no-color) and loading a log with a symbolizer, each
// printing its own one-line "memtrace: ..." error so the commands stay short.
#ifndef MT_CLI_COMMON_H
#define MT_CLI_COMMON_H

#include <stddef.h>

#include "analysis.h"
#include "symbolizer.h"

/* Parses a decimal 0..max; prints "memtrace: CMD: OPT needs a number ..." and returns -1. */
int mt_cli_number(const char *cmd, const char *opt, const char *s, size_t max, size_t *out);
/* 1 when stdout is a terminal, NO_COLOR is unset or empty and no_color is 0. */
int mt_cli_colour(int no_color);
/* Loads path and makes a symbolizer (sym may be NULL when not needed). Returns 0, or 1 after
 * printing the error (the command's exit status). */
int mt_cli_load(const char *path, mt_analysis_t **a, mt_symbolizer_t **sym);
/* Flushes stdout, reports a write error or a truncated log; returns the exit status. */
int mt_cli_finish(const char *path, const mt_analysis_t *a, int render_rc);

#endif

// SPDX-License-Identifier: MIT
// Progress of a long log analysis on stderr: only when stderr is a terminal, only after the
// load has taken a second (MEMTRACE_PROGRESS_DELAY_MS overrides), percent of the log's bytes
// read, erased when done. Never on a pipe or in CI logs, never on stdout.
#ifndef MT_CLI_PROGRESS_H
#define MT_CLI_PROGRESS_H

#include <stdint.h>
#include <time.h>

typedef struct mt_cli_progress {
    const char *path;
    struct timespec start;
    long delay_ms;
    int enabled, shown, last;
} mt_cli_progress_t;

void mt_cli_progress_start(mt_cli_progress_t *p, const char *path);
/* An mt_progress_fn (analysis.h); arg is the mt_cli_progress_t. */
void mt_cli_progress_update(void *arg, uint64_t done, uint64_t total);
/* Erases the line if one was shown. */
void mt_cli_progress_stop(mt_cli_progress_t *p);

#endif

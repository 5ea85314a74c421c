// SPDX-License-Identifier: MIT
// `memtrace run --live`: a full-screen view of the program's heap, refreshed about once a
// second while it runs, from the root process's log as the recorder writes it (a thread reads
// it into an analysis; the view reads that analysis under a lock between two records). Plain
// ANSI escapes and termios; the terminal is restored however the view ends.
#ifndef MT_RUN_LIVE_H
#define MT_RUN_LIVE_H

#include <stdbool.h>
#include <sys/types.h>

#include "run_summary.h"

typedef struct mt_run_live mt_run_live_t;

/* Before the program starts (or the attach): 0 when there is a terminal to draw on (standard
 * output and /dev/tty), else 2 after one line on stderr naming command ("run", "attach"). */
int mt_run_live_check(const char *command);

/* Shows the view until the program ends or q is pressed; then waits for the program as
 * `memtrace run` does and gives its wait status. manifest: the run's (run_manifest.h), pid:
 * the program's, argv: its command line, out: where its output goes. Returns 0 with *reader
 * (NULL when the view could not start) for the summaries, or 1 when waitpid failed (after
 * saying why). */
int mt_run_live_wait(const char *manifest, pid_t pid, char *const *argv, const char *out,
                     int *status, mt_run_live_t **reader);
/* `memtrace attach --live`: the view of the log at path, which pid (not a child of ours)
 * writes, until q, a signal read from sigfd (a signalfd: Ctrl-C, kill), deadline_ns
 * (CLOCK_MONOTONIC; 0: none) or pid's exit. Returns 1 when pid exited, 2 at q, 0 at a signal
 * or the deadline, -1 when there is no terminal to draw on (after one line). */
int mt_run_live_attach(const char *path, pid_t pid, char *const *argv, int sigfd,
                       long long deadline_ns);
/* The summary of the log at path, when the view's reader read it to its end. */
bool mt_run_live_result(const mt_run_live_t *r, const char *path, mt_summary_t *out);
void mt_run_live_free(mt_run_live_t *r);

#endif

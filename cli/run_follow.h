// SPDX-License-Identifier: MIT
// The summary `memtrace run` prints, computed while the program runs: a thread follows the
// root process's log as the recorder writes it (and, across execve, the log of each new
// image), so that when the program ends only its last events are left to read. It uses the
// core the program leaves idle and runs at a lower priority than the program.
#ifndef MT_RUN_FOLLOW_H
#define MT_RUN_FOLLOW_H

#include <stdbool.h>
#include <sys/types.h>

#include "run_summary.h"

typedef struct mt_run_follower mt_run_follower_t;

/* Starts following the logs that process root lists in the manifest. NULL when the thread
 * cannot be started: the summary is then read after the run, as without a follower. */
mt_run_follower_t *mt_run_follow_start(const char *manifest, pid_t root);
/* The program has ended (its logs are complete): finishes reading them and joins the thread. */
void mt_run_follow_finish(mt_run_follower_t *f);
/* The summary of the log at path, when the follower read it to its end without error. */
bool mt_run_follow_result(const mt_run_follower_t *f, const char *path, mt_summary_t *out);
/* Finishes first when mt_run_follow_finish was not called. */
void mt_run_follow_free(mt_run_follower_t *f);

#endif

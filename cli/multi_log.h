// SPDX-License-Identifier: MIT
// Reports over several logs: `memtrace report`, `peak`, `leaks` and `html` given several logs
// or a directory show the process tree of the run (src/model/process_tree.h), totals over it, and
// then their usual report of the process with the highest peak. This file turns arguments into
// log files, prints the one-line messages ("memtrace: ...") and decides the exit status.
#ifndef MT_CLI_MULTI_LOG_H
#define MT_CLI_MULTI_LOG_H

#include <stddef.h>
#include <stdio.h>

#include "process_tree.h"

/* True when the arguments ask for the view over several logs: more than one, or a directory. */
int mt_cli_logs_multi(char *const *args, size_t nargs);

/* The usual report of one log on out (text, or one JSON document). Returns the exit status the
 * command gives for that log alone. */
typedef int (*mt_cli_one_fn)(const char *path, FILE *out, void *ctx);

typedef struct mt_cli_multi {
    const char *cmd; /* "report", "peak", ... */
    int json, colour, as_tree;
    mt_cli_one_fn biggest; /* NULL: the tree only */
    void *ctx;
    const char *what; /* what biggest shows, for the text heading: "its allocation sites" */
    /* The process biggest reports on: the highest peak (its image that reached it), or with
     * by_held the most not freed at exit (its last image). */
    int by_held;
    /* Run on the tree after the rest (NULL: none): a nonzero result is the exit status (the
     * leak check's --error-exitcode), whatever else happened. */
    int (*after)(const mt_ptree_t *t, void *ctx);
} mt_cli_multi_t;

/* The whole command over args: returns its exit status (0; 1 when a log could not be read or
 * ends early, or the output could not be written; after's status when it gives one). */
int mt_cli_multi_run(const mt_cli_multi_t *m, char *const *args, size_t nargs);

/* The steps of mt_cli_multi_run, for commands that show more than the biggest process (leaks,
 * html): the tree of the logs in args, or 1 after saying why there is none. *bad is set when
 * some argument or log had a problem (already printed). */
int mt_cli_multi_tree(const char *cmd, char *const *args, size_t nargs, mt_ptree_t *t, int *bad);

#endif

// SPDX-License-Identifier: MIT
// The manifest of a `memtrace run`: the recorder in every process appends "PID\tPATH\n" when
// it opens its log, so memtrace knows which logs a run wrote and which one is the root's.
#ifndef MT_RUN_MANIFEST_H
#define MT_RUN_MANIFEST_H

#include <stddef.h>

typedef struct mt_run_log {
    long pid;
    char *path;
} mt_run_log_t;

/* The complete lines of the manifest at path, in the order they were written (NULL and
 * *count 0 when it cannot be read). A malformed or unfinished line is skipped. */
mt_run_log_t *mt_run_manifest_read(const char *path, size_t *count);
void mt_run_manifest_free(mt_run_log_t *logs, size_t count);
/* The path of process pid's n-th log (0-based) in the manifest at path, or NULL when it is
 * not listed (yet). The caller frees it. */
char *mt_run_manifest_nth_log(const char *path, long pid, size_t n);

#endif

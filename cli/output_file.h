// SPDX-License-Identifier: MIT
// The file a report command writes with -o (flamegraph, timeline, html, export, leaks): '-' is
// standard output. Never opened over a memtrace log (a log given to -o by mistake, often the
// very log being read, was lost); a file that could not be written whole is removed again, and
// the error told is the first one the writes met (ENOSPC, EPIPE), not a generic one.
#ifndef MT_CLI_OUTPUT_FILE_H
#define MT_CLI_OUTPUT_FILE_H

#include <stdio.h>

typedef struct mt_out {
    FILE *f;          /* what the renderers write to */
    const char *cmd;  /* for messages: "flamegraph" */
    const char *path; /* as given; "-" for standard output */
    int fd;           /* the file's descriptor (not stdout's) */
    int err;          /* the first write's errno, 0 while all went well */
    int regular;      /* a regular file: removed when it could not be written whole */
} mt_out_t;

/* Opens path for writing (truncating it); NULL after one line "memtrace: CMD: ...": it could
 * not be opened, or it is a memtrace log (refused). */
FILE *mt_out_open(mt_out_t *o, const char *cmd, const char *path);

/* Closes what mt_out_open opened (stdout is flushed, not closed) once render_rc (0 or a
 * negative errno) came from writing it. Returns 0, or 1 after one line saying why the output
 * is not whole; a regular file is then removed. */
int mt_out_close(mt_out_t *o, int render_rc);

/* 1 when path names an existing regular file that begins as a memtrace log does. */
int mt_out_is_log(const char *path);

#endif

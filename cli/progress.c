// SPDX-License-Identifier: MIT
// Progress line on stderr (see progress.h). Called from the analysis loop every 64 Ki records,
// so it only reads the clock and returns until the delay has passed and the percentage changed.
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void mt_cli_progress_start(mt_cli_progress_t *p, const char *path)
{
    memset(p, 0, sizeof *p);
    p->path = path;
    p->delay_ms = 1000;
    p->last = -1;
    const char *d = getenv("MEMTRACE_PROGRESS_DELAY_MS");
    if (d && *d) {
        char *end;
        long v = strtol(d, &end, 10);
        if (!*end && v >= 0)
            p->delay_ms = v;
    }
    const char *term = getenv("TERM");
    p->enabled = isatty(STDERR_FILENO) && !(term && strcmp(term, "dumb") == 0);
    clock_gettime(CLOCK_MONOTONIC, &p->start);
}

void mt_cli_progress_update(void *arg, uint64_t done, uint64_t total)
{
    mt_cli_progress_t *p = arg;
    if (!p->enabled)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - p->start.tv_sec) * 1000 + (now.tv_nsec - p->start.tv_nsec) / 1000000;
    if (ms < p->delay_ms)
        return;
    int pct = total ? (int)(done * 100 / total) : (int)(done >> 20);
    if (pct > 100 && total)
        pct = 100;
    if (pct == p->last)
        return;
    p->last = pct;
    p->shown = 1;
    if (total)
        fprintf(stderr, "\rmemtrace: reading %s: %d%%", p->path, pct);
    else
        fprintf(stderr, "\rmemtrace: reading %s: %d MiB", p->path, pct);
    fflush(stderr);
}

void mt_cli_progress_stop(mt_cli_progress_t *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr); /* erase the line: what follows starts clean */
        fflush(stderr);
        p->shown = 0;
    }
}

// SPDX-License-Identifier: MIT
// Settings read once from the environment (MEMTRACE_*), and the log path derived from them.
// Read at init and after fork only; never from a hot path. No allocation.
#ifndef MT_CONFIG_H
#define MT_CONFIG_H

#include <limits.h>
#include <stdbool.h>

#include "mt_libc.h"

typedef struct mt_config {
    char output_template[PATH_MAX]; /* MEMTRACE_OUTPUT, or the default, made absolute */
    char manifest[PATH_MAX];        /* MEMTRACE_MANIFEST, "" when unset */
    char exe[PATH_MAX];             /* /proc/self/exe */
    unsigned sample_ms;             /* MEMTRACE_SAMPLE_MS, 0 disables sampling */
    bool follow_fork;               /* MEMTRACE_FOLLOW_FORK, default on */
    int root_pid;                   /* MEMTRACE_ROOT_PID, 0 when unset */
    bool leak_check;                /* MEMTRACE_LEAK_CHECK: classify live blocks at exit */
    bool fast_unwind;               /* MEMTRACE_FAST_UNWIND: cached-CFI walker, default on */
} mt_config_t;

extern mt_config_t mt_config;

/* Reads the environment and resolves the template against the current directory. */
void mt_config_load(void);

/* Expands %p and %e for pid into out; -ENAMETOOLONG if it does not fit. */
MT_WUR int mt_config_expand(const char *tmpl, int pid, char *out, unsigned cap);

/* True when this process must not record (MEMTRACE_FOLLOW_FORK=0 and not the root). */
bool mt_config_excluded(int pid);

#endif

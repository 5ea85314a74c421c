// SPDX-License-Identifier: MIT
// Settings read once from the environment (MEMTRACE_*), and the log path derived from them.
// Read at init and after fork only; never from a hot path. No allocation.
#ifndef MT_CONFIG_H
#define MT_CONFIG_H

#include <limits.h>
#include <stdbool.h>

#include "base/mt_libc.h"

typedef struct mt_config {
    char output_template[PATH_MAX]; /* MEMTRACE_OUTPUT, or the default, made absolute */
    char manifest[PATH_MAX];        /* MEMTRACE_MANIFEST, "" when unset */
    char exe[PATH_MAX];             /* /proc/self/exe */
    /* %e: the file name the program was started as, the last part of the path given to exec
     * (AT_EXECFN): what the user typed, before symlinks and `#!` are followed ("gcc", not
     * "x86_64-linux-gnu-gcc-12"; "build.sh", not "bash"). A fork child keeps its parent's. */
    char name[256];
    char run_id[64];          /* MEMTRACE_RUN_ID: the same in every process of one run */
    char exec_from[PATH_MAX]; /* the log of the image that exec'd this one (same pid), or "" */
    unsigned sample_ms;       /* MEMTRACE_SAMPLE_MS, 0 disables sampling */
    bool follow_fork;         /* MEMTRACE_FOLLOW_FORK, default on */
    int root_pid;             /* MEMTRACE_ROOT_PID, 0 when unset */
    bool leak_check;          /* MEMTRACE_LEAK_CHECK: classify live blocks at exit */
    bool fast_unwind;         /* MEMTRACE_FAST_UNWIND: cached-CFI walker, default on */
    bool rings;               /* MEMTRACE_RINGS: per-thread event rings, default on */
    /* MEMTRACE_AGGREGATE: keep per-site figures in the process and write them at the end
     * instead of every event (record/aggregate.h); implies no samples (sample_ms 0). */
    bool aggregate;
    bool log_repeat; /* MEMTRACE_LOG_REPEAT: REPEAT records, default on (0: tests) */
    bool log_zstd;   /* MEMTRACE_LOG_ZSTD: one zstd frame through the chunks, default on (0:
                        every chunk deflated alone, as version 7; tests and comparisons) */
} mt_config_t;

extern mt_config_t mt_config;

/* mt_config_load reads its MEMTRACE_* settings through get instead of getenv (NULL: getenv
 * again): `memtrace attach` hands them over in a file (hooks/attach.c). */
void mt_config_set_source(const char *(*get)(const char *name));

/* Reads the environment and resolves the template against the current directory. */
void mt_config_load(void);

/* Expands %p, %e (mt_config.name), %x (the executable's file name, symlinks followed) and %%
 * for pid into out; -ENAMETOOLONG if it does not fit. */
MT_WUR int mt_config_expand(const char *tmpl, int pid, char *out, unsigned cap);
/* The same with name for %e: the log the image an exec starts will name itself. */
MT_WUR int mt_config_expand_as(const char *tmpl, int pid, const char *name, char *out,
                               unsigned cap);

/*
 * The n-th name a log of process pid may take when base (the expanded template) is taken
 * already, n from 1: base itself, then base.2 to base.16 (a template without %p: the second
 * process's log is out.mtr.2), then base.PID.1, base.PID.2, ... (a run of thousands of
 * processes: each tries a few names, not every earlier one, and none runs out of them).
 * False when n is past the last (MT_LOG_NAME_TRIES) or the name does not fit cap.
 */
#define MT_LOG_NAME_TRIES 1016u
bool mt_config_log_name(const char *base, int pid, unsigned n, char *out, size_t cap);

/* The environment variable that tells an exec'd image which log its predecessor wrote:
 * "PID:PATH" (another pid's value is stale, e.g. passed on by posix_spawn, and ignored). */
#define MT_CONFIG_EXEC_FROM "MEMTRACE_EXEC_FROM"

/* True when this process must not record (MEMTRACE_FOLLOW_FORK=0 and not the root). */
bool mt_config_excluded(int pid);

#endif

// SPDX-License-Identifier: MIT
// The processes of one run, from their logs. Every log is one image of one process: a process
// begins with a program started (memtrace run, posix_spawn, vfork + exec) or with a fork, and
// each exec gives it a new image and a new log. ORIGIN, NEXT_LOG and the pids link the logs
// into processes and the processes into a tree (log_format.h). Each log is replayed once,
// without symbolizing, and only its figures are kept, so memory grows with the number of logs,
// not their size. No terminal I/O.
#ifndef MT_PROCESS_TREE_H
#define MT_PROCESS_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"

#define MT_PTREE_NONE ((size_t)-1)

/* One log: one image of a process. */
typedef struct mt_pimage {
    char *path;    /* as given */
    char *command; /* argv as a shell command line (cmdline.h) */
    char *exe;
    char *run_id; /* "" when the log names none (recorded before run ids) */
    char *from_log, *next_log;
    int how; /* enum mt_origin */
    uint64_t pid, ppid;
    uint64_t start_ns, end_ns; /* CLOCK_REALTIME: the file header, and its last record */
    int has_exit, exit_reason;
    uint64_t exit_status;
    int truncated;
    int inherit; /* enum mt_inherit_state */
    char *inherit_note;
    uint64_t allocations, frees, bytes_allocated, unknown_frees;
    uint64_t peak_bytes, peak_blocks, peak_time_us;
    uint64_t held_bytes, held_blocks; /* at the end of the log */
    uint64_t inherited_bytes, inherited_blocks;
    size_t prev, next; /* the images before and after it in its process, or MT_PTREE_NONE */
    size_t process;
} mt_pimage_t;

typedef struct mt_process {
    uint64_t pid, ppid;
    size_t *images; /* indices into the tree's images, first to last */
    size_t nimages;
    size_t parent; /* index of the parent process, or MT_PTREE_NONE (a root of the tree) */
    size_t depth;  /* 0 for a root */
    /* The process's figures: the highest peak of its images (one heap at a time: an exec
     * ends the old one; a forked image that exec'd counts without what it inherited) and
     * what the last image held at its end. */
    uint64_t peak_bytes;
    size_t peak_image;
    uint64_t held_bytes, held_blocks;
    uint64_t allocations, frees, bytes_allocated;
} mt_process_t;

/* The reason a log is left out when it is the same process's log as another one given (a copy,
 * or the same file twice): "the same log as PATH ...". Not an error: the figures are right. */
#define MT_PTREE_SAME_LOG "the same log as "

/* A log that was left out, and why. */
typedef struct mt_pskip {
    char *path;
    char *reason; /* one line, without the path: "not a memtrace log", "a log of another run" */
} mt_pskip_t;

typedef struct mt_ptree {
    mt_pimage_t *images;
    size_t nimages;
    mt_process_t *procs;
    size_t nprocs;
    size_t *by_peak;     /* process indices, highest peak first */
    size_t *tree_order;  /* process indices depth first, children by peak */
    mt_pskip_t *skipped; /* unreadable logs, and the logs of other runs */
    size_t nskipped;
    size_t other_runs;  /* runs whose logs were left out: only the newest run is shown */
    size_t unreadable;  /* logs that could not be read at all */
    const char *run_id; /* the run shown ("" when its logs name none) */
    /* Over every process: */
    uint64_t allocations, frees, bytes_allocated, unknown_frees;
    uint64_t peak_sum; /* the processes' peaks added up */
    uint64_t held_bytes, held_blocks;
    size_t held_procs;         /* processes that held something at their end */
    size_t truncated;          /* logs that end early */
    uint64_t start_ns, end_ns; /* the first log's start, the last one's end */
} mt_ptree_t;

/* Progress while the logs are read: done of total logs. */
typedef void (*mt_ptree_progress_fn)(void *arg, uint64_t done, uint64_t total);

/*
 * Reads the logs at paths[0..n) and builds the tree of the newest run among them (the logs of
 * other runs are listed in skipped). A log that cannot be read is listed in skipped too and
 * counted in unreadable. 0, -ENOENT when no log could be read (skipped says why), or -ENOMEM.
 */
int mt_ptree_build(mt_ptree_t *t, char *const *paths, size_t n, mt_ptree_progress_fn progress,
                   void *progress_arg) MT_WUR;
void mt_ptree_destroy(mt_ptree_t *t);

/* The process with the highest peak (MT_PTREE_NONE when there is none), and the log of its
 * image that reached it. */
size_t mt_ptree_biggest(const mt_ptree_t *t);
const char *mt_ptree_biggest_log(const mt_ptree_t *t);
/* The process that held the most at its end (MT_PTREE_NONE when none held anything): its
 * last image's log is the one with those blocks. */
size_t mt_ptree_most_held(const mt_ptree_t *t);
/* The log of a process's last image. */
const char *mt_ptree_last_log(const mt_ptree_t *t, size_t proc);

#endif

// SPDX-License-Identifier: MIT
// One pass over a log: reader -> module and node tables -> replay. Every report starts from
// an mt_analysis_t. A corrupt record or id ends the pass like a truncated file: what came
// before stays usable and the analysis says where it stops. No terminal I/O here.
#ifndef MT_ANALYSIS_H
#define MT_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "leak_class.h"
#include "log_reader.h"
#include "marks.h"
#include "modules.h"
#include "nodes.h"
#include "python_info.h"
#include "replay.h"
#include "thread_names.h"

typedef struct mt_process_info {
    int present; /* a PROCESS record was seen */
    uint64_t pid, ppid, page_size;
    char *exe;
    char **argv; /* argc strings, NUL-terminated copies */
    size_t argc;
} mt_process_info_t;

/* How the log began and where its process went on (ORIGIN, NEXT_LOG, FORK in log_format.h):
 * what links the logs of one run into a process tree. */
typedef struct mt_lineage {
    int has_origin; /* an ORIGIN record was seen (logs before it have none) */
    int how;        /* enum mt_origin; MT_ORIGIN_START without ORIGIN */
    uint64_t fork_seq;
    unsigned flags;
    char *run_id;   /* "" when unknown */
    char *from_log; /* the parent's log (fork) or the previous image's (exec), as recorded */
    char *next_log; /* NEXT_LOG: the log the image it exec'd writes; NULL when none */
    uint64_t forks; /* FORK records: children forked while this log was written */
} mt_lineage_t;

/* What a fork child's analysis knows of the heap it started with. */
enum mt_inherit_state {
    MT_INHERIT_NONE = 0, /* not a fork child */
    MT_INHERIT_LISTED,   /* the log lists the blocks itself (recorded with --leak-check) */
    MT_INHERIT_IMPORTED, /* replayed from the parent's log up to its FORK record */
    MT_INHERIT_UNKNOWN,  /* the parent's log could not be used: inherit_note says why */
};

/* --from/--to: the part of the log a report describes, in microseconds of the log's clock
 * (from the start of recording). A window counts the blocks allocated in [from_us, to_us]
 * (what was allocated in it) and what of them was still held at its end; its peak is the
 * process's highest heap inside it (replay.h, mt_replay_window_open). */
typedef struct mt_window {
    int on;
    uint64_t from_us;
    uint64_t to_us;   /* UINT64_MAX: the end of the log */
    uint32_t to_mark; /* k > 0: the window ends right after the log's k-th mark (marks.h), not
                         after the last record of its millisecond (to_us is that mark's time) */
} mt_window_t;

struct mt_analysis;
/* See mt_analysis_load_live. */
typedef struct mt_live_hooks {
    /* Between two records, where the analysis is whole: once before the first record, then
     * every MT_ANALYSIS_TICK records. Nonzero ends the pass there (as a cut log). */
    int (*tick)(void *arg, struct mt_analysis *a);
    /* Each allocation call, after the replay counted it (not a fork child's inherited block). */
    void (*alloc)(void *arg, uint32_t node, uint64_t tid, uint64_t size);
    void *arg;
} mt_live_hooks_t;
#define MT_ANALYSIS_TICK 4096u
/* See mt_analysis_snapshots. */
typedef void (*mt_snapshot_fn)(void *arg, const struct mt_analysis *a, size_t i);

typedef struct mt_analysis {
    char *path;
    uint64_t start_realtime_ns; /* file header */
    uint32_t header_pid;
    mt_process_info_t process;
    mt_lineage_t lineage;
    int inherit;            /* enum mt_inherit_state; the bytes are in replay.inherited_* */
    char *inherit_log;      /* MT_INHERIT_IMPORTED: the parent's log that was read */
    char inherit_note[600]; /* MT_INHERIT_UNKNOWN: "cannot read the parent's log X: ..." */
    uint32_t node_base;     /* this log's node ids are shifted by it: the parent's come first */
    mt_modules_t *modules;
    mt_nodes_t nodes;
    mt_replay_t replay;
    mt_leakclass_t leaks; /* the leak check's verdict, when the log has one */
    mt_pyinfo_t python;   /* Python interpreter, frames, script end, arenas */
    uint64_t events;      /* event records applied */
    uint64_t notices[8];  /* by mt_notice_code (7 = other); marks are not counted here */
    mt_marks_t marks;     /* memtrace_mark calls (NOTICE code MARK), in order */
    uint64_t threads_named;
    char allocator_notice[256]; /* NOTICE(ALLOCATOR): some allocations bypassed the hooks */
    char lost_notice[256];      /* NOTICE(EVENTS_LOST): the first one's text, "" when none */
    int followed;               /* read while being written: stops at the EXIT record */
    int truncated;              /* the log ends early: no EXIT record, or a cut/corrupt chunk */
    int cut;                    /* the stream itself was cut or corrupt (not just no EXIT) */
    char cut_reason[160];       /* why, e.g. "bad CRC in chunk at offset 4096" */
    char truncation[160];       /* "truncated after N events; report covers up to 00:12.4" */
    /* Loading options of mt_analysis_load_upto (inherit.c): stop at that FORK record; how many
     * parents' logs deep this one is read; no file is opened for a log read from memory. */
    uint64_t stop_at_fork;
    int stopped_at_fork;
    int window_stopped; /* the replay stopped at the end of the window (--to) */
    int depth;
    int no_files;
    /* How reports show stacks, set by the caller after loading: 0 (the default) hides the
     * frames of Python's import machinery (mt_sites_hide_import), 1 keeps them. */
    int show_import_machinery;

    mt_thread_names_t thread_names; /* each thread's last name (THREAD_NAME records) */
    /* --thread (mt_analysis_load_filtered): the figures cover the allocations of the threads
     * in replay.sel_tids only (replay.h says what the peak is then). */
    int thread_filter;
    size_t thread_specs_matched; /* filter values that matched a thread of this log */
    /* --from/--to (mt_analysis_load_window): window.to_us is the time the replay stopped at,
     * the end of the log when it got there first (window_at_end). */
    mt_window_t window;
    int window_at_end;
    /* mt_analysis_snapshots: the times still to report, and to whom */
    const uint64_t *snap_us;
    size_t snap_n, snap_i;
    mt_snapshot_fn snap_fn;
    void *snap_arg;
    const mt_live_hooks_t *live; /* mt_analysis_load_live; NULL otherwise */
    /* `memtrace run --aggregate` wrote the log (file header flag): figures, no events. Every
     * report that needs the events refuses it (mt_analysis_need_events); agg_done: its
     * figures were read (AGG_HEAP), which a process killed before its end never wrote. */
    int aggregated;
    int agg_done;
} mt_analysis_t;

/* Reads the whole log at path. Returns 0 (also for a truncated log: check ->truncated) or a
 * negative errno with one line in err, no "memtrace: " prefix ("app.mtr: not a memtrace log"). */
int mt_analysis_load(mt_analysis_t **out, const char *path, char *err, size_t errlen) MT_WUR;
/* Progress of a load: bytes of the file read so far and its size (0 when unknown). Called
 * every 65,536 records from the loading thread; it must not touch the analysis. */
typedef void (*mt_progress_fn)(void *arg, uint64_t done, uint64_t total);
/* mt_analysis_load with a progress callback (may be NULL). */
int mt_analysis_load_progress(mt_analysis_t **out, const char *path, mt_progress_fn progress,
                              void *progress_arg, char *err, size_t errlen) MT_WUR;
/* The same for a log still being written: follow (log_reader.h) decides at each short read
 * whether to wait for more. The pass ends at the EXIT record or when follow says the writer
 * is done. With follow NULL, exactly mt_analysis_load. */
int mt_analysis_load_follow(mt_analysis_t **out, const char *path, mt_follow_fn follow,
                            void *follow_arg, char *err, size_t errlen) MT_WUR;
/* mt_analysis_load_follow for a view of the log while it is written (`memtrace run --live`):
 * the records are decoded on the calling thread, so follow, like the hooks, runs between two
 * records, where another thread may read the analysis if the two agree on a lock. */
int mt_analysis_load_live(mt_analysis_t **out, const char *path, mt_follow_fn follow,
                          void *follow_arg, const mt_live_hooks_t *hooks, char *err,
                          size_t errlen) MT_WUR;
/* --thread: the threads whose allocations a report covers. A value of decimal digits is a
 * thread id; anything else is a thread's name (its last one: see thread_names.h), which
 * selects every thread of that name. */
typedef struct mt_thread_filter {
    const char *const *specs;
    size_t n;
    int allow_missing; /* a value that matches no thread is no error (diff: one of two logs) */
} mt_thread_filter_t;

/* mt_analysis_load_progress restricted to the threads of filter (NULL or n == 0: all). A
 * name needs a first, lighter pass over the log to learn which thread has it (a thread is
 * often named after its first allocations). A value that matches no thread is an error
 * ("app.mtr: no thread named 'x' (threads: main 4242, ...)") unless allow_missing. */
int mt_analysis_load_filtered(mt_analysis_t **out, const char *path,
                              const mt_thread_filter_t *filter, mt_progress_fn progress,
                              void *progress_arg, char *err, size_t errlen) MT_WUR;
/* mt_analysis_load_filtered restricted to a time window (NULL or !on: the whole log): the
 * replay starts counting at window->from_us and stops before the first record after
 * window->to_us, so what is live then is what the window left held. A window that ends
 * before the log does is no truncation. */
int mt_analysis_load_window(mt_analysis_t **out, const char *path, const mt_thread_filter_t *filter,
                            const mt_window_t *window, mt_progress_fn progress, void *progress_arg,
                            char *err, size_t errlen) MT_WUR;
/* The same from a byte buffer (tests, fuzzing). */
int mt_analysis_load_mem(mt_analysis_t **out, const void *buf, size_t len, const char *name,
                         char *err, size_t errlen) MT_WUR;
/* mt_analysis_load_mem over a window (tests). */
int mt_analysis_load_mem_window(mt_analysis_t **out, const void *buf, size_t len, const char *name,
                                const mt_window_t *window, char *err, size_t errlen) MT_WUR;
void mt_analysis_free(mt_analysis_t *a);

/* Reads the log at path up to its FORK record number fork_seq (a fork child's heap, see
 * inherit.h), depth parents' logs away from the one a report was asked for. 0, or a negative
 * errno with one line in err; check ->stopped_at_fork. */
int mt_analysis_load_upto(mt_analysis_t **out, const char *path, uint64_t fork_seq, int depth,
                          char *err, size_t errlen) MT_WUR;

/* Called while a log is read again, each time its clock passes one of the times asked for
 * (ascending, microseconds), before the first event after it: a's replay then holds the heap
 * as it was at that time (mt_replay_node: live_bytes). i is the time's index. Times at or past
 * the log's last event come at its end. */
/* Reads like's log again, with like's thread selection, calling fn at each of times[0..n).
 * 0, or a negative errno with one line in err. */
int mt_analysis_snapshots(const mt_analysis_t *like, const uint64_t *times, size_t n,
                          mt_snapshot_fn fn, void *arg, char *err, size_t errlen) MT_WUR;
/* mt_analysis_snapshots with watch observing its replay's heap (replay.h; NULL: none). */
int mt_analysis_snapshots_watch(const mt_analysis_t *like, const uint64_t *times, size_t n,
                                mt_snapshot_fn fn, void *arg, const mt_replay_watch_t *watch,
                                char *err, size_t errlen) MT_WUR;

/* The command line as one string, arguments separated by spaces ("" when unknown). The
 * caller frees it. */
char *mt_analysis_command(const mt_analysis_t *a);

/* What every report calls "not freed" (leaked_bytes, leaked_blocks): for a Python script whose
 * log has the end of the script (PY_SCRIPT_END), what was held when the script ended, before
 * the interpreter's finalization freed (or, for module globals, deliberately did not free)
 * the rest; otherwise what was live when the log ended. */
typedef struct mt_held {
    uint64_t bytes, blocks;
    int at_script_end; /* 1: the end of a Python script; 0: the end of the log */
} mt_held_t;

mt_held_t mt_analysis_held(const mt_analysis_t *a);
/* A thread's label as reports show it: its last name, "tid N" when it was never named (a log
 * of an older memtrace), "(inherited)" for the blocks a forked child's log starts with. */
void mt_analysis_thread_label(const mt_analysis_t *a, uint64_t tid, char *buf, size_t len);
/* True when spec (a --thread value) names a thread of this log, or is the tid of one. */
int mt_analysis_thread_known(const mt_analysis_t *a, const char *spec);
/* What a thread held at the end, as mt_analysis_held defines it. */
void mt_analysis_thread_held(const mt_analysis_t *a, const mt_thread_stats_t *ts, uint64_t *bytes,
                             uint64_t *blocks);
/* The same for the blocks of one trace node. */
void mt_analysis_node_held(const mt_analysis_t *a, uint32_t node, uint64_t *bytes,
                           uint64_t *blocks);

#endif

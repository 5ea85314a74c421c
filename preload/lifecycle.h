// SPDX-License-Identifier: MIT
// The recorder's life in a process (lifecycle.c): start, fork, exec, exit. Called by the hooks
// with the reentrancy guard as each function says; never from memtrace's own allocations.
#ifndef MT_LIFECYCLE_H
#define MT_LIFECYCLE_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/mt_libc.h"
#include "log_format.h"

/* The Python hooks' entry points (hooks/python_hooks.h), passed in by the hooks so that the
 * lifecycle, below them, never calls up into them. */
typedef struct mt_life_python {
    void (*detect)(void);      /* before the log is open */
    void (*install)(void);     /* after the log is open */
    void (*log_started)(void); /* every log opened (a forked child's too), lock not held */
} mt_life_python_t;

/* Starts recording in this process, once (later calls return at once): config, tables, the
 * log and its opening records, exit, fork and signal handlers. py stays in use. */
void mt_life_init(const mt_life_python_t *py);

/* fork's handlers, also run by the syscall() hook around a raw clone without CLONE_VM. */
void mt_life_fork_prepare(void);
void mt_life_fork_parent(void);
void mt_life_fork_child(void);

/* Around an exec (log_writer.h): writes NEXT_LOG (the log the image started from file will
 * write; file may be NULL) and EXIT(EXEC) and returns true with the recorder held; if the
 * exec returns, mt_life_exec_failed takes them back and recording goes on. */
MT_WUR bool mt_life_exec_begin(off_t *size, const char *file);
void mt_life_exec_failed(off_t size);

/* The status passed to quick_exit, for the at_quick_exit handler. */
extern int mt_life_quick_exit_status;

/* Set before mt_life_init by a late start (hooks/attach.c, `memtrace attach`): the log's
 * ORIGIN says ATTACH, and no fatal-signal handlers are installed (they would outlive the
 * detach in a process that runs on). */
extern bool mt_life_attach;

/* Writes EXIT and everything pending, synchronously; recording stops. */
void mt_life_finish(enum mt_exit_reason reason, int status);

#endif

// SPDX-License-Identifier: MIT
// Event assembly between the hooks and the writer: stack capture, timestamp and thread id are
// taken before the lock; the locked section only interns the stack and encodes. Callers (the
// hooks) have set the reentrancy guard. Never called for memtrace's own allocations.
#ifndef MT_RECORDER_H
#define MT_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/allocator_check.h"
#include "record/heap_total.h"
#include "log_format.h"
#include "io/log_writer.h"
#include "base/mt_libc.h"

/* True while events are recorded (cheap, lock-free read for the hooks' fast exit). */
static inline bool mt_rec_active(void)
{
    return !__atomic_load_n(&mt_writer.stopped, __ATOMIC_RELAXED);
}

/* Set by the dlopen hook: module list may have changed, rescan soon (see hooks.c). */
extern int mt_rec_dl_pending;

/* The glibc heap in use and its peak samples (heap_total.h); writer lock held to change it. */
extern mt_heap_total_t mt_rec_heap;
/* glibc's malloc_usable_size when mt_rec_heap is on, else a function that returns 0. */
extern mt_usable_fn mt_rec_usable_fn;

/* Usable size of a live malloc-family block, 0 when the total is off. Before the lock: glibc
 * reads the chunk's header (and the next chunk's), it takes no lock. */
static inline uint64_t mt_rec_usable(const void *p)
{
    return mt_rec_usable_fn((void *)p);
}

void mt_rec_init(void);
void mt_rec_alloc(enum mt_alloc_kind kind, const void *p, size_t size);
/* An allocation through a Python allocator domain: ret is the return address into the
 * domain function's caller (PyObject_Malloc tail-calls the domain), sp the calling wrapper's
 * frame address. Lets the recorder reuse the native part of the stack (python.h). */
void mt_rec_alloc_py(enum mt_alloc_kind kind, const void *p, size_t size, const void *ret,
                     const void *sp);
/* tag: MT_TAG_FREE, MT_TAG_REALLOC_RELEASE or MT_TAG_REALLOC_FAILED. usable: mt_rec_usable(p)
 * for a block of the malloc family, read while p is still allocated; 0 for pymalloc's, which
 * are not in the heap total. A FREE or RELEASE first takes the pending peak sample, if any
 * (heap_total.h). */
void mt_rec_free(enum mt_tag tag, const void *p, uint64_t usable);
/* glibc blocks that come and go inside a Python allocator domain call (pymalloc's fallback to
 * malloc for big objects): no event of their own (the domain's is), but part of the total. */
void mt_rec_heap_inner(uint64_t released, uint64_t added);
void mt_rec_mmap(const void *p, size_t len, enum mt_map_kind kind);
void mt_rec_munmap(const void *p, size_t len);
/* Python records with a time: MT_TAG_PY_ARENA_ALLOC/FREE (p, size), MT_TAG_PY_SCRIPT_END. */
void mt_rec_py_event(enum mt_tag tag, const void *p, size_t size);
/* A THREAD_NAME record: thread tid is called name (len bytes, no NUL needed) from now on.
 * For a rename made by the program (prctl, pthread_setname_np, Python's threading); a
 * thread's name at its first event is recorded by the recorder itself. */
void mt_rec_thread_name(uint32_t tid, const char *name, size_t len);
/* Before and after a real dlclose. */
void mt_rec_modules_changed(void);
/* A NOTICE record (enum mt_notice_code) with a short text. */
void mt_rec_notice(unsigned code, const char *text);
/* fork's handlers, also run by the syscall() hook around a raw clone without CLONE_VM. */
void mt_rec_fork_prepare(void);
void mt_rec_fork_parent(void);
void mt_rec_fork_child(void);
/* Around an exec (log_writer.h): writes NEXT_LOG (the log the image started from file will
 * write; file may be NULL) and EXIT(EXEC) and returns true with the recorder held; if the
 * exec returns, mt_rec_exec_failed takes them back and recording goes on. */
MT_WUR bool mt_rec_exec_begin(off_t *size, const char *file);
void mt_rec_exec_failed(off_t size);
/* The status passed to quick_exit, for the recorder's at_quick_exit handler. */
extern int mt_rec_quick_exit_status;
/* Writes EXIT and everything pending, synchronously; recording stops. */
void mt_rec_finish(enum mt_exit_reason reason, int status);

#endif

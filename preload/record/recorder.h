// SPDX-License-Identifier: MIT
// The record layer: event assembly between the hooks and the writer (recorder.c: stack
// capture, timestamp and thread id are taken before the lock; the locked section only interns
// the stack and encodes), the log's opening records (process.c), the writer's tick (timer.c)
// and the leak check's trigger (leak_check.c). Callers have set the reentrancy guard. Never
// called for memtrace's own allocations. Start, fork and exit: lifecycle.h.
#ifndef MT_RECORDER_H
#define MT_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/allocator_check.h"
#include "base/clock.h"
#include "base/mt_libc.h"
#include "io/log_writer.h"
#include "log_format.h"
#include "record/heap_total.h"
#include "stack/trace_tree.h"

/* The recording process, as lifecycle.c set it up when its log was opened. */
typedef struct mt_rec_state {
    uint64_t start_us; /* the log's time 0 (mt_clock_us) */
    int pid;           /* the process the log is of (a vfork child shares our memory) */
    bool inited;       /* mt_life_init ran */
    uint64_t forks;    /* FORK records in this log: the child's ORIGIN names its parent's seq */
} mt_rec_state_t;

extern mt_rec_state_t mt_rec;

/* Microseconds since the log's start. */
static inline uint64_t mt_rec_now(void)
{
    uint64_t now = mt_clock_us();
    return now > mt_rec.start_us ? now - mt_rec.start_us : 0;
}

/* Writer lock held, e begun for thread tid (or NULL): every node any thread was given is
 * defined before the event that names it. Returns e, or NULL when recording stopped (the
 * definitions go in batches that each may hand a buffer over and begin again). */
mt_enc_t *mt_rec_defs_slow(mt_enc_t *e, uint32_t tid);
static inline mt_enc_t *mt_rec_defs(mt_enc_t *e, uint32_t tid)
{
    if (MT_UNLIKELY(e && mt_tree_defs_pending()))
        return mt_rec_defs_slow(e, tid);
    return e;
}

/* True while events are recorded (cheap, lock-free read for the hooks' fast exit). */
static inline bool mt_rec_active(void)
{
    return !__atomic_load_n(&mt_writer.stopped, __ATOMIC_RELAXED);
}

/* Set by the dlopen hook: module list may have changed, rescan soon (see hooks.c). */
extern int mt_rec_dl_pending;
/* Writer ticks for which allocations look for new modules after a dlopen (timer.c). */
#define MT_REC_DL_WATCH 10

/* The glibc heap in use and its peak samples (heap_total.h); writer lock held to change it. */
extern mt_heap_total_t mt_rec_heap;
/* glibc's malloc_usable_size when mt_rec_heap is on, else a function that returns 0. */
extern mt_usable_fn mt_rec_usable_fn;
/* True when mt_rec_heap is on: the blocks are glibc chunks, whose header may give the usable
 * size once it agreed with malloc_usable_size often enough (mt_rec_usable_trust). */
extern bool mt_rec_usable_header;
extern mt_acheck_trust_t mt_rec_usable_trust;

/* Usable size of a live malloc-family block, 0 when the total is off. Before the lock: it
 * reads the chunk's header (glibc's function the next chunk's too), it takes no lock. Read on
 * every allocation, free and realloc, so from the header where glibc's layout allows it. */
static inline uint64_t mt_rec_usable(const void *p)
{
    if (MT_LIKELY(mt_rec_usable_header))
        return mt_acheck_usable(&mt_rec_usable_trust, p, mt_rec_usable_fn);
    return mt_rec_usable_fn((void *)p);
}

/*
 * The usable size of a block the program hands back (free, realloc), or 0 when its chunk
 * fails glibc's own first checks in free: a misaligned pointer, or a header size no chunk
 * has. glibc refuses such a pointer with its message ("free(): invalid pointer") and abort,
 * and must be the one to: malloc_usable_size reads a "next chunk" wherever a garbage size
 * points, and would fault first (tests/hostile/bad_free.c). So only the header word is read,
 * which glibc's free reads first too: from the header while its read is being proven on the
 * program's allocations as well (mt_acheck_usable), malloc_usable_size only once the header
 * read has been refused (another layout).
 */
static inline uint64_t mt_rec_usable_returned(const void *p)
{
    /* Another allocator (jemalloc, tcmalloc): its blocks have no glibc header, and one at the
     * start of a mapping has nothing mapped before it; its free makes its own checks. */
    if (MT_UNLIKELY(!mt_rec_usable_header))
        return mt_rec_usable_fn((void *)p);
    const uintptr_t align = 2 * sizeof(size_t), a = (uintptr_t)p;
    if (MT_UNLIKELY(a & (align - 1)))
        return 0;
    size_t head;
    __builtin_memcpy(&head, (const char *)p - sizeof head, sizeof head);
    size_t size = head & ~(size_t)7;
    if (MT_UNLIKELY(size < 2 * align || (size & (align - 1)) || a - align > (uintptr_t)-size))
        return 0;
    if (!(__atomic_load_n(&mt_rec_usable_trust.trusted, __ATOMIC_RELAXED) & MT_ACHECK_REFUSED))
        return mt_acheck_chunk_usable(p);
    return mt_rec_usable_fn((void *)p);
}

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
/* The calling thread (a forked child's only one) has not recorded yet: its tid and name are
 * taken again at its next event. */
void mt_rec_thread_child(void);
/* Does now what the calling thread's first event would do (its tid, its slot, its name in the
 * log), so that its events make no system call for it later. */
void mt_rec_thread_prime(void);
/* Turns the glibc heap total on when samples are on and usable (allocator_check.h) is glibc's
 * malloc_usable_size: malloc_usable_size and mallinfo2 must describe the blocks we forward. */
void mt_rec_heap_start(mt_usable_fn usable);

/* ---- the log's opening records (process.c); each takes the writer lock ---- */

/* PROCESS: pid, parent (ppid), page size, executable and argv (/proc/self/cmdline). */
void mt_rec_emit_process(uint64_t ppid);
/* ORIGIN (log_format.h): how this log began (from: the log before it, or ""). */
void mt_rec_emit_origin(enum mt_origin how, uint64_t fork_seq, unsigned flags, const char *from);
/* A forked child under --leak-check: the parent's trace nodes and live blocks, as
 * MT_ALLOC_INHERITED. */
void mt_rec_emit_inherited(void);

/* ---- the writer's tick (timer.c) ---- */

/* Every tick on the writer thread: a SAMPLE when something changed, module changes, and the
 * process's end when the writer is its last thread. */
void mt_rec_tick(void);

/* ---- the aggregated log (aggregate.h) ---- */

/* Writer lock held, under --aggregate (else nothing): the figures kept in the process, written
 * before the log's end (normal exit, exec, fatal signal) and before the leak check's records. */
void mt_rec_aggregate_end(void);

/* ---- the leak check (leak_check.c) ---- */

/* At a normal exit, writer lock held (the block table cannot change): classifies every live
 * block and writes LEAK_SCAN, the LEAK_BLOCKs and LEAK_SCAN_END, before EXIT. */
void mt_rec_leak_check(void);

#endif

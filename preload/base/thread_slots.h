// SPDX-License-Identifier: MIT
// Per-thread memory of memtrace's own: an alternate signal stack (for the crash handler), the
// unwinder's rule cache and a stack on which the recorder runs, so that a hook uses a few hundred
// bytes of the program's stack whatever it records. Slots come from a few large mappings, not one
// per thread, so that a program with tens of thousands of threads does not run out of mappings; a
// dead thread's slot is reused (found by its tid). No malloc, no pthread keys, no locks but a spin.
#ifndef MT_THREAD_SLOTS_H
#define MT_THREAD_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/mt_libc.h"

#define MT_SLOT_ALT_STACK (64u << 10)
#define MT_SLOT_REC_STACK (64u << 10)
/* The lowest bytes of rec_stack are the recorder's per-thread scratch, not stack. */
#define MT_SLOT_SCRATCH 2048u
/* Above the scratch: the signals held for the end of a hook (signal_defer.c). */
#define MT_SLOT_SIGNALS 4096u
#define MT_SLOT_FU_CACHE (108u << 10) /* fast_unwind.c's rule and whole-stack caches */
#define MT_SLOT_PY_CACHE (12u << 10)  /* python_frames.c's last capture of the frame chain */
/* record/event_ring.c's ring of the thread's heap events, not yet in the log: 4,096 events of
 * 32 bytes and the ring's three cache lines of indices */
#define MT_SLOT_RING ((128u << 10) + 4096u)

typedef struct mt_slot {
    uint8_t *alt_stack;   /* MT_SLOT_ALT_STACK bytes: a root for the leak scan (handler frames) */
    uint8_t *rec_stack;   /* MT_SLOT_REC_STACK bytes: excluded from the leak scan */
    void *scratch;        /* MT_SLOT_SCRATCH bytes at the bottom of rec_stack */
    void *signals;        /* MT_SLOT_SIGNALS bytes above the scratch */
    void *fu_cache;       /* MT_SLOT_FU_CACHE bytes; rules are per address, so those of a reused
                           * slot stay valid (the cache checks its generation); excluded from
                           * the leak scan (whole stacks hold stack and register words) */
    void *py_cache;       /* MT_SLOT_PY_CACHE bytes after fu_cache, excluded likewise (frames
                           * and code objects are the program's heap blocks) */
    void *ring;           /* MT_SLOT_RING bytes after py_cache, excluded likewise (the
                           * addresses of blocks, live or freed) */
    uintptr_t program_sp; /* while on rec_stack: where the program's stack was left */
    uintptr_t home_sp;    /* the program's stack pointer when the thread took the slot: a
                           * point of its own stack (signal_defer.c) */
    unsigned index;       /* in mt_slot_at's numbering */
    int ring_listed;      /* the ring was made known to the merge (record/event_ring.c) */
    /* Set (under the writer lock) once the thread's event is in the log and until the leak
     * check's block table has it too (record/recorder.c): whoever needs the two to agree
     * waits for it to clear (mt_slot_wait_idle). On a line of its own: others read it. */
    uint32_t live_busy __attribute__((aligned(64)));
} mt_slot_t;

/* This thread's slot, NULL until it took one. */
extern __thread mt_slot_t *mt_slot_tls __attribute__((tls_model("initial-exec")));

/* Slow path of mt_slot_self: takes a slot for this thread. */
mt_slot_t *mt_slot_take_self(void);

/* This thread's slot, taken on first use; NULL when none can be had (then hooks run on the
 * program's stack, as before). Sets the alternate signal stack unless the thread has one. */
static inline mt_slot_t *mt_slot_self(void)
{
    mt_slot_t *s = mt_slot_tls;
    return MT_LIKELY(s != NULL) ? s : mt_slot_take_self();
}

/* This thread's slot if it has one already; never takes one (for signal handlers). */
static inline mt_slot_t *mt_slot_peek(void)
{
    return mt_slot_tls;
}

/* How many slots exist (taken or not): mt_slot_at(i) for i below it. Slots are only ever
 * added and never move, so any thread may look at them without a lock. */
unsigned mt_slot_count(void);
mt_slot_t *mt_slot_at(unsigned i);

/* For the leak scan's stop handler, run in the stopped thread: sp, or the program's stack
 * pointer when sp lies on this thread's recorder stack. */
uintptr_t mt_slot_program_sp(uintptr_t sp);

/* Waits, polling, until no thread's live_busy is set, or about a second has passed: the
 * caller holds the writer lock, so no thread can set it again meanwhile. */
void mt_slot_wait_idle(void);

/* In a child after fork or a raw clone: the other threads' slots are free, the lock too. */
void mt_slot_child(void);

#endif

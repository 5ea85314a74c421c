// SPDX-License-Identifier: MIT
// Per-thread rings of heap events (allocations and frees), so that threads record without the
// writer lock: each thread appends its events, stamped with the TSC, to a ring in its slot, and
// whoever holds the writer lock merges the rings by stamp into the one encoder. Never allocates;
// the producer side takes no lock and waits only when its ring is full.
#ifndef MT_EVENT_RING_H
#define MT_EVENT_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "base/thread_slots.h"
#include "log_format.h"

/*
 * Why the log keeps the order replay needs (docs/log-format.md, "Recording with many threads"):
 * a free is stamped before the real free and an allocation after the real malloc returned, with
 * one clock for all cores (an invariant TSC, read with rdtscp after a locked exchange), so an
 * address's events have increasing stamps whatever threads they come from. The merge takes
 * events in stamp order, and only those older than every thread's possible next stamp: a thread
 * announces, before it reads the clock, a lower bound of its next stamp (its mark); a merger
 * reads the clock, then the marks, and merges below the least of them.
 */

#define MT_RING_EVENTS 4096u /* a power of two: 128 KiB of events per thread */

/* One heap event, as the encoder will take it. info: tag (bits 0-7), alloc kind (8-15), size
 * (16-63: no block is larger than the address space). */
typedef struct mt_ring_ev {
    uint64_t stamp; /* TSC */
    uint64_t addr;
    uint64_t info;
    uint32_t node;
    uint32_t tid;
} mt_ring_ev_t;

typedef struct mt_ring {
    /* the producer's line */
    uint64_t tail; /* events pushed (release) */
    uint64_t last; /* the stamp of the last one */
    /* the mark: 0 when the thread is not between its clock read and its push, else a lower
     * bound of the stamp it is about to push */
    uint64_t mark __attribute__((aligned(64)));
    /* the mergers' line: events taken, written under the writer lock */
    uint64_t head __attribute__((aligned(64)));
    mt_ring_ev_t ev[MT_RING_EVENTS] __attribute__((aligned(64)));
} mt_ring_t;

_Static_assert(sizeof(mt_ring_t) <= MT_SLOT_RING, "the ring must fit its part of the slot");

/* Rings on: set by mt_ring_init when the TSC is usable and MEMTRACE_RINGS is not 0. Closed
 * (mt_ring_gate 0) while an exit, an exec, a fork or the leak check needs the log complete. */
extern bool mt_ring_on;
extern int mt_ring_gate;

/* At start, once the clock is set up. */
void mt_ring_init(void);

/*
 * Pushes one event into this thread's ring, or returns false (nothing pushed) when the caller
 * must record it under the writer lock instead: rings off or closed, or no slot. Before the
 * push the ring is made room in, merging under the lock if it must; after it, a ring three
 * quarters full merges if the lock is free. busy, when not NULL, is set to 1 in the same step
 * as the push (the leak check's live_busy, recorder.c).
 */
bool mt_ring_push(enum mt_tag tag, enum mt_alloc_kind kind, uintptr_t addr, uint64_t size,
                  uint32_t node, uint32_t tid, uint32_t *busy);

/* Writer lock held: merges into the log every event that happened before this call (waiting,
 * briefly, for threads inside a push with an older mark), and every event older than anything
 * a thread may still push. For a record about to be written under the lock. */
void mt_ring_sync(void);
/* The same without the wait: what can be merged now (a full ring, the tick). */
void mt_ring_sync_some(void);

/* Writer lock held: no more pushes (they go to the lock instead) until mt_ring_open, and every
 * event pushed so far is in the log. Waits (bounded) for threads inside a push. */
void mt_ring_close(void);
void mt_ring_open(void);

/* In a forked child: the other threads' events are the parent's to log. */
void mt_ring_child(void);

#endif

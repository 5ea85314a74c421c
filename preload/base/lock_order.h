// SPDX-License-Identifier: MIT
// The recorder's locks and the one order they are taken in, checked in debug builds (without
// NDEBUG: meson's debug and debugoptimized): each thread keeps the ranks it holds in a
// thread-local bit set, and taking a lock while holding one of the same or a higher rank
// aborts with one line on stderr. Order is checked before blocking, the bit set once held and
// cleared before the release, so a signal handler that takes a lock meanwhile sees the truth.
// No allocation, no call out but on failure; initial-exec TLS.
#ifndef MT_LOCK_ORDER_H
#define MT_LOCK_ORDER_H

#include <pthread.h>

#include "base/mt_libc.h"

/*
 * Every lock of the recorder, outermost first. A thread holding one may take only those below
 * it in this list:
 *
 *   1  MT_LOCK_MODULES  mt_mods.lock (record/modules.c): a module rescan; fork's prepare
 *                       handler takes it first, so the writer thread, which may need it to
 *                       finish a tick, can still free the buffer the handler waits for.
 *                       The loader's own list lock (dl_iterate_phdr) is taken under it.
 *   2  MT_LOCK_WRITER   mt_writer.lock (io/log_writer.h): the recorder lock. Every event is
 *                       encoded under it; the Python caches are only touched under it (the
 *                       trace tree, the block table and the heap total have their own). Never held
 * across an unwind (libunwind may take the loader's lock) nor mallinfo2 (arena locks): those run
 * before it is taken, or with it dropped. 3  MT_LOCK_TREE     mt_tree.lock (stack/trace_tree.c): a
 * trace-tree miss (new ids, the definition queue). Lookups that hit take no lock. Taken under the
 *                       writer lock by the Python paths (once per event, kept to the end of
 *                       their direct section: trace_tree.h) and by the queue's drain, alone by
 *                       the native paths, which intern before they take the writer lock.
 *   4  MT_LOCK_LIVE     the shards of the leak check's block table (record/live_table.c):
 *                       spin locks, one held for an insert or remove, all of them (in index
 *                       order) by the leak check's export and by fork, under the writer and
 *                       tree locks. Not in the bit set (several are held at once); only
 *                       MT_LOCK_OWN (mt_map, when a shard grows) is taken under one.
 *   5  MT_LOCK_OWN      mt_own_lock (base/own_ranges.c): a spin lock, a leaf; mt_map takes it
 *                       under any of the above.
 *
 * Not locks of ours, and never taken under MT_LOCK_WRITER: the loader's lock, glibc's arena
 * locks, the GIL. Condition waits (pthread_cond_wait on the writer lock) keep the rank held.
 */
enum mt_lock_rank {
    MT_LOCK_MODULES = 1,
    MT_LOCK_WRITER = 2,
    MT_LOCK_TREE = 3,
    MT_LOCK_LIVE = 4,
    MT_LOCK_OWN = 5,
};

#ifndef NDEBUG
/* The ranks this thread holds, one bit each. */
extern __thread unsigned mt_lock_held __attribute__((tls_model("initial-exec")));

/* Out of line and cold: says which lock came out of order, then aborts. */
__attribute__((noreturn, cold)) void mt_lock_order_fail(unsigned rank, unsigned held);

/* Before blocking on the lock of that rank, so that an inversion aborts rather than
 * deadlocks. (A trylock needs no check: it never waits.) */
static inline void mt_lock_order_check(unsigned rank)
{
    if (MT_UNLIKELY(mt_lock_held >> rank))
        mt_lock_order_fail(rank, mt_lock_held);
}

/* Once it is held. */
static inline void mt_lock_order_got(unsigned rank)
{
    mt_lock_held |= 1u << rank;
}

/* Before releasing it, or when it was re-initialised (a forked child). */
static inline void mt_lock_order_drop(unsigned rank)
{
    mt_lock_held &= ~(1u << rank);
}
#else
#define mt_lock_order_check(rank) ((void)(rank))
#define mt_lock_order_got(rank) ((void)(rank))
#define mt_lock_order_drop(rank) ((void)(rank))
#endif

/* Takes a pthread mutex of that rank, in order. */
#define MT_LOCK(mutex, rank)                                                                       \
    do {                                                                                           \
        mt_lock_order_check(rank);                                                                 \
        pthread_mutex_lock(mutex);                                                                 \
        mt_lock_order_got(rank);                                                                   \
    } while (0)

#define MT_UNLOCK(mutex, rank)                                                                     \
    do {                                                                                           \
        mt_lock_order_drop(rank);                                                                  \
        pthread_mutex_unlock(mutex);                                                               \
    } while (0)

#endif

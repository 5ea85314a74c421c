// SPDX-License-Identifier: MIT
// The pool of per-thread slots (thread_slots.h). Three mappings per chunk of slots:
// alternate stacks (left to the leak scan as roots, like any stack), recorder stacks (excluded:
// memtrace's frames hold pointers the program may have lost) and the walker's caches (excluded
// too: its whole stacks keep stack words, heap addresses when a stack is in the heap; one
// range per chunk in the scan's small table of excluded ranges). Raw syscalls only.
#include "base/thread_slots.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * Chunks grow: 4 slots, then 8, 16, 32, 64 and from then on 128 each. A slot is 380 KiB of
 * address space (touched only as used), and a program run with `ulimit -v` or one that calls
 * mlockall pays for all of a chunk's: one chunk of 128 took 47.5 MiB from a single-threaded
 * program's RLIMIT_AS. Few chunks still serve many threads (the leak scan's table of
 * excluded ranges has room for a few hundred).
 */
#define MT_SLOTS_FIRST_CHUNK 4u
#define MT_SLOTS_GROWING 5u /* chunks before the first full one */
#define MT_SLOTS_PER_CHUNK (MT_SLOTS_FIRST_CHUNK << MT_SLOTS_GROWING)   /* 128 */
#define MT_SLOTS_IN_GROWING (MT_SLOTS_PER_CHUNK - MT_SLOTS_FIRST_CHUNK) /* 124 */
#define MT_SLOT_CHUNKS (MT_SLOTS_GROWING + 1024u) /* 131,196 threads at once */
#define MT_SLOT_FU_REGION (MT_SLOT_FU_CACHE + MT_SLOT_PY_CACHE + MT_SLOT_RING) /* in c->fu */

typedef struct mt_slot_chunk {
    uint8_t *alt, *rec, *fu;
    int tid[MT_SLOTS_PER_CHUNK]; /* 0: free */
    mt_slot_t slot[MT_SLOTS_PER_CHUNK];
} mt_slot_chunk_t;

static struct {
    int lock; /* spin: a pthread mutex could be held by a thread that a fork left behind */
    unsigned nchunks;
    unsigned taken_since_sweep;
    unsigned hint; /* every slot below this index is taken (only a sweep frees slots) */
    mt_slot_chunk_t *chunk[MT_SLOT_CHUNKS];
} mt_slots;

__thread mt_slot_t *mt_slot_tls __attribute__((tls_model("initial-exec")));
static __thread int mt_slot_failed __attribute__((tls_model("initial-exec")));

/* Thousands of threads may start at once: after a short spin, give the holder the CPU. */
static void mt_slots_acquire_lock(void)
{
    unsigned spins = 0;
    while (__atomic_exchange_n(&mt_slots.lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&mt_slots.lock, __ATOMIC_RELAXED)) {
            if (++spins < 64)
                __builtin_ia32_pause();
            else
                mt_sys_yield();
        }
}

static void mt_slots_release_lock(void)
{
    __atomic_store_n(&mt_slots.lock, 0, __ATOMIC_RELEASE);
}

static unsigned mt_chunk_slots(unsigned k)
{
    return k < MT_SLOTS_GROWING ? MT_SLOTS_FIRST_CHUNK << k : MT_SLOTS_PER_CHUNK;
}

/* The index of chunk k's first slot in mt_slot_at's numbering. */
static unsigned mt_chunk_first(unsigned k)
{
    if (k <= MT_SLOTS_GROWING)
        return MT_SLOTS_FIRST_CHUNK * ((1u << k) - 1);
    return MT_SLOTS_IN_GROWING + (k - MT_SLOTS_GROWING) * MT_SLOTS_PER_CHUNK;
}

/* The chunk that holds slot i. */
static unsigned mt_chunk_of(unsigned i)
{
    if (i >= MT_SLOTS_IN_GROWING)
        return MT_SLOTS_GROWING + (i - MT_SLOTS_IN_GROWING) / MT_SLOTS_PER_CHUNK;
    return 31u - (unsigned)__builtin_clz(i / MT_SLOTS_FIRST_CHUNK + 1);
}

static mt_slot_chunk_t *mt_slots_new_chunk(void)
{
    unsigned k = mt_slots.nchunks, n = mt_chunk_slots(k);
    if (k == MT_SLOT_CHUNKS)
        return NULL;
    mt_slot_chunk_t *c = mt_map_unlisted(sizeof *c);
    if (!c)
        return NULL;
    c->alt = mt_map_unlisted((size_t)n * MT_SLOT_ALT_STACK);
    c->rec = mt_map((size_t)n * MT_SLOT_REC_STACK);
    /* listed: the walker's whole-stack cache holds stack addresses and saved registers, heap
     * addresses when a stack is in the heap (swapcontext), which must be no leak-scan roots */
    c->fu = mt_map((size_t)n * MT_SLOT_FU_REGION);
    if (!c->alt || !c->rec || !c->fu) {
        if (c->alt)
            mt_unmap_unlisted(c->alt, (size_t)n * MT_SLOT_ALT_STACK);
        if (c->rec)
            mt_unmap(c->rec, (size_t)n * MT_SLOT_REC_STACK);
        if (c->fu)
            mt_unmap(c->fu, (size_t)n * MT_SLOT_FU_REGION);
        mt_unmap_unlisted(c, sizeof *c);
        return NULL;
    }
    for (unsigned i = 0; i < n; i++) {
        c->slot[i].alt_stack = c->alt + (size_t)i * MT_SLOT_ALT_STACK;
        c->slot[i].rec_stack = c->rec + (size_t)i * MT_SLOT_REC_STACK;
        c->slot[i].scratch = c->slot[i].rec_stack;
        c->slot[i].signals = c->slot[i].rec_stack + MT_SLOT_SCRATCH;
        c->slot[i].fu_cache = c->fu + (size_t)i * MT_SLOT_FU_REGION;
        c->slot[i].py_cache = (uint8_t *)c->slot[i].fu_cache + MT_SLOT_FU_CACHE;
        c->slot[i].ring = (uint8_t *)c->slot[i].py_cache + MT_SLOT_PY_CACHE;
        c->slot[i].index = mt_chunk_first(k) + i;
    }
    mt_slots.chunk[mt_slots.nchunks] = c;
    __atomic_store_n(&mt_slots.nchunks, mt_slots.nchunks + 1, __ATOMIC_RELEASE);
    return c;
}

/* Frees the slots of threads that are gone (tgkill with signal 0 says ESRCH). Only once as
 * many slots were taken since the last sweep as half the pool holds: amortised O(1). */
static void mt_slots_sweep(int pid)
{
    unsigned total = mt_chunk_first(mt_slots.nchunks);
    if (mt_slots.taken_since_sweep < total / 2)
        return;
    mt_slots.taken_since_sweep = 0;
    mt_slots.hint = 0;
    for (unsigned k = 0; k < mt_slots.nchunks; k++) {
        mt_slot_chunk_t *c = mt_slots.chunk[k];
        for (unsigned i = 0; i < mt_chunk_slots(k); i++) {
            int saved = errno;
            if (c->tid[i] && mt_syscall(SYS_tgkill, pid, c->tid[i], 0) != 0 && errno == ESRCH)
                c->tid[i] = 0;
            errno = saved;
        }
    }
}

static mt_slot_t *mt_slots_find_free(int tid)
{
    unsigned total = mt_chunk_first(mt_slots.nchunks);
    for (unsigned n = mt_slots.hint; n < total; n++) {
        unsigned k = mt_chunk_of(n);
        mt_slot_chunk_t *c = mt_slots.chunk[k];
        unsigned i = n - mt_chunk_first(k);
        if (!c->tid[i]) {
            c->tid[i] = tid;
            mt_slots.taken_since_sweep++;
            mt_slots.hint = n + 1;
            return &c->slot[i];
        }
    }
    mt_slots.hint = total;
    return NULL;
}

static mt_slot_t *mt_slots_take(int tid)
{
    mt_slots_acquire_lock();
    mt_slots_sweep(mt_sys_getpid());
    mt_slot_t *s = mt_slots_find_free(tid);
    if (!s && mt_slots_new_chunk())
        s = mt_slots_find_free(tid);
    mt_slots_release_lock();
    return s;
}

#ifndef SS_AUTODISARM
#define MT_SS_AUTODISARM ((int)(1u << 31)) /* <linux/signal.h>'s; <signal.h> lacks it */
#else
#define MT_SS_AUTODISARM ((int)SS_AUTODISARM)
#endif

/* The crash handler's stack, unless the program has an alternate stack of its own. */
static void mt_slot_set_alt_stack(mt_slot_t *s)
{
    /* A thread started inside a seccomp sandbox may not be allowed sigaltstack: it goes
     * without (a crash on an exhausted stack is then not reported by memtrace). */
    if (mt_sys_confined_here(false))
        return;
    int saved = errno;
    stack_t cur;
    if (mt_syscall(SYS_sigaltstack, NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
        /* SS_AUTODISARM (Linux 4.7): off while a handler runs on it (signal_defer.c) */
        stack_t st = {
            .ss_sp = s->alt_stack, .ss_size = MT_SLOT_ALT_STACK, .ss_flags = MT_SS_AUTODISARM};
        if (mt_syscall(SYS_sigaltstack, &st, NULL) != 0) {
            st.ss_flags = 0;
            (void)mt_syscall(SYS_sigaltstack, &st, NULL);
        }
    }
    errno = saved;
}

mt_slot_t *mt_slot_take_self(void)
{
    if (mt_slot_failed)
        return NULL;
    mt_slot_t *s = mt_slots_take(mt_sys_gettid());
    if (!s) {
        mt_slot_failed = 1;
        return NULL;
    }
    s->program_sp = 0;
    s->home_sp = (uintptr_t)__builtin_frame_address(0);
    s->live_busy = 0;                       /* a dead thread's, if it died in a hook */
    memset(s->signals, 0, MT_SLOT_SIGNALS); /* a dead thread's held signals are not ours */
    mt_slot_set_alt_stack(s);
    mt_slot_tls = s;
    return s;
}

uintptr_t mt_slot_program_sp(uintptr_t sp)
{
    const mt_slot_t *s = mt_slot_tls;
    if (s && s->program_sp && sp >= (uintptr_t)s->rec_stack &&
        sp < (uintptr_t)s->rec_stack + MT_SLOT_REC_STACK)
        return s->program_sp;
    return sp;
}

unsigned mt_slot_count(void)
{
    return mt_chunk_first(__atomic_load_n(&mt_slots.nchunks, __ATOMIC_ACQUIRE));
}

mt_slot_t *mt_slot_at(unsigned i)
{
    unsigned k = mt_chunk_of(i);
    mt_slot_chunk_t *c = __atomic_load_n(&mt_slots.chunk[k], __ATOMIC_ACQUIRE);
    return &c->slot[i - mt_chunk_first(k)];
}

void mt_slot_wait_idle(void)
{
    /* Chunks are only ever added, and their slots never move: no lock needed to look. */
    unsigned n = __atomic_load_n(&mt_slots.nchunks, __ATOMIC_ACQUIRE);
    for (unsigned k = 0; k < n; k++) {
        mt_slot_chunk_t *c = __atomic_load_n(&mt_slots.chunk[k], __ATOMIC_ACQUIRE);
        for (unsigned i = 0; c && i < mt_chunk_slots(k); i++)
            for (unsigned spins = 0;
                 __atomic_load_n(&c->slot[i].live_busy, __ATOMIC_ACQUIRE) && spins < 100000;
                 spins++)
                mt_sys_yield();
    }
}

void mt_slot_child(void)
{
    int self = mt_sys_gettid();
    mt_slots.lock = 0;
    mt_slots.hint = 0;
    for (unsigned k = 0; k < mt_slots.nchunks; k++) {
        mt_slot_chunk_t *c = mt_slots.chunk[k];
        for (unsigned i = 0; i < mt_chunk_slots(k); i++)
            if (!mt_slot_tls || &c->slot[i] != mt_slot_tls) {
                c->tid[i] = 0;
                c->slot[i].live_busy = 0; /* a thread that is gone */
            } else
                c->tid[i] = self; /* the forking thread keeps its slot, under its new tid */
    }
}

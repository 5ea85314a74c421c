// SPDX-License-Identifier: MIT
// Per-thread memory reclaimed without pthread keys (see thread_res.h). A table of (tid, memory)
// entries: a thread needing memory first takes an entry bearing its own tid (its owner died and
// the kernel reused the number), then looks at a few entries whose owner tgkill(tid, 0) says is
// gone. Only raw system calls; errno is kept.
#include "thread_res.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MT_TRES_MAX 32768 /* threads alive at once with memory of memtrace's */
#define MT_TRES_PROBES 4  /* gone-owner checks per take: bounded cost per new thread */

typedef struct mt_tres_entry {
    int tid; /* 0: free slot never used */
    void *mem;
} mt_tres_entry_t;

static mt_tres_entry_t mt_tres[MT_TRES_MAX];
static size_t mt_tres_used; /* entries [0, used) hold memory */
static size_t mt_tres_cursor;

static int mt_tres_gone(int tid)
{
    int saved = errno;
    long r = syscall(SYS_tgkill, getpid(), tid, 0);
    int gone = r != 0 && errno == ESRCH;
    errno = saved;
    return gone;
}

void *mt_tres_take(int tid)
{
    size_t used = __atomic_load_n(&mt_tres_used, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < used; i++) {
        int t = __atomic_load_n(&mt_tres[i].tid, __ATOMIC_ACQUIRE);
        if (t == tid) /* tids are unique among live threads: this owner is gone */
            return mt_tres[i].mem;
    }
    for (int n = 0; n < MT_TRES_PROBES && used; n++) {
        size_t i = __atomic_fetch_add(&mt_tres_cursor, 1, __ATOMIC_RELAXED) % used;
        int t = __atomic_load_n(&mt_tres[i].tid, __ATOMIC_ACQUIRE);
        if (t > 0 && mt_tres_gone(t) &&
            __atomic_compare_exchange_n(&mt_tres[i].tid, &t, tid, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            return mt_tres[i].mem;
    }
    return NULL;
}

int mt_tres_put(int tid, void *mem)
{
    size_t i = __atomic_load_n(&mt_tres_used, __ATOMIC_RELAXED);
    do {
        if (i >= MT_TRES_MAX)
            return -ENOSPC;
    } while (!__atomic_compare_exchange_n(&mt_tres_used, &i, i + 1, 0, __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED));
    /* The slot is published with tid 0 until filled: take() skips it meanwhile. */
    mt_tres[i].mem = mem;
    __atomic_store_n(&mt_tres[i].tid, tid, __ATOMIC_RELEASE);
    return 0;
}

void mt_tres_adopt(int tid, void *mem)
{
    size_t used = __atomic_load_n(&mt_tres_used, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < used; i++)
        if (mt_tres[i].mem == mem && __atomic_load_n(&mt_tres[i].tid, __ATOMIC_ACQUIRE) > 0)
            __atomic_store_n(&mt_tres[i].tid, tid, __ATOMIC_RELEASE);
}

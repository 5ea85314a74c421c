// SPDX-License-Identifier: MIT
// The writer thread's tick: RSS and the allocator's view (samples), module changes, and the
// end of a process whose every thread is gone. Runs on the writer thread, never in a hook:
// mallinfo2 and dl_iterate_phdr are read before the recorder lock is taken.
#include "record/recorder.h"

#include <link.h>
#include <pthread.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/config.h"
#include "base/last_thread.h"
#include "base/stack_call.h"
#include "record/event_ring.h"
#include "record/sampler.h"

/* ---- writer tick: samples and module changes ---- */

/*
 * Every thread of the program is gone (main left with pthread_exit, then the others): glibc
 * would have ended the process with exit(0) in the last of them, but that is now the writer.
 * It does what glibc would, as a thread of the program: its exit handlers and destructors
 * run here and their events are recorded, and the log is written inline from now on.
 */
static void mt_rec_exit_program(void *arg)
{
    (void)arg;
    exit(0);
}

static __attribute__((noreturn, cold)) void mt_rec_end_as_last_thread(void)
{
    mt_writer_leave_thread();
    /* The writer's own stack is small (log_writer.h): the program's handlers get one of the
     * size its threads get, or the writer's when that cannot be mapped. */
    size_t size = 8u << 20;
    pthread_attr_t attr;
    if (pthread_getattr_default_np(&attr) == 0) {
        pthread_attr_getstacksize(&attr, &size);
        pthread_attr_destroy(&attr);
    }
    uint8_t *stack = mt_map_unlisted(size);
    mt_guard = 0;
    if (stack)
        mt_stack_call(stack + size, mt_rec_exit_program, NULL);
    exit(0);
}

/*
 * A dlopen'ed module is found by the allocations that follow the dlopen (mt_rec_dl_pending):
 * the first of them may run inside dlopen itself, and the dlopen hook, a tail call, cannot
 * say when the module is listed. So the watch lasts MT_REC_DL_WATCH ticks counted while the
 * loader is not in the middle of adding an object (r_debug's state), at least 10 ms after the
 * hook. It used to end at the next tick, which could come between the hook and the listing:
 * the library's first stack then went into the log before its module, as a bare address
 * (tests/hostile/dlopen_cycle.c: 20 of 3,000 at a 1 ms tick).
 */
static void mt_rec_dl_watch_tick(void)
{
    int left = __atomic_load_n(&mt_rec_dl_pending, __ATOMIC_RELAXED);
    if (left > 0 && _r_debug.r_state == RT_CONSISTENT)
        __atomic_compare_exchange_n(&mt_rec_dl_pending, &left, left - 1, false, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED);
}

void mt_rec_tick(void)
{
    mt_clock_recalibrate();
    mt_sample_t s;
    bool sampled = mt_config.sample_ms != 0;
    if (sampled)
        mt_sampler_read_tick(&s); /* before the lock: mallinfo2 takes the arena locks */
    uint64_t now = mt_rec_now();
    mt_writer_lock();
    /* The rings of threads that went quiet: their events reach the log within a tick, and
     * before the sample. */
    mt_ring_sync_some();
    /* Never wait for a buffer here: this is the thread that frees them. A tick that changed
     * nothing writes nothing, so that an idle program's log does not grow. */
    if (sampled && mt_writer.cur && !mt_writer.stopped && !mt_enc_sample_same(&mt_writer.enc, &s)) {
        mt_enc_sample_tick(&mt_writer.enc, now, &s);
        mt_writer_end();
    }
    mt_writer_unlock();
    mt_rec_dl_watch_tick();
    mt_rec_modules_changed();
    if (MT_UNLIKELY(mt_last_thread_only_writer_left()))
        mt_rec_end_as_last_thread();
}

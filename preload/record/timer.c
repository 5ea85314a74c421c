// SPDX-License-Identifier: MIT
// The writer thread's tick: RSS and the allocator's view (samples), module changes, and the
// end of a process whose every thread is gone. Runs on the writer thread, never in a hook:
// mallinfo2 and dl_iterate_phdr are read before the recorder lock is taken.
#include "record/recorder.h"

#include <stdlib.h>

#include "base/clock.h"
#include "base/config.h"
#include "base/last_thread.h"
#include "record/event_ring.h"
#include "record/sampler.h"

/* ---- writer tick: samples and module changes ---- */

/*
 * Every thread of the program is gone (main left with pthread_exit, then the others): glibc
 * would have ended the process with exit(0) in the last of them, but that is now the writer.
 * It does what glibc would, as a thread of the program: its exit handlers and destructors
 * run here and their events are recorded, and the log is written inline from now on.
 */
static __attribute__((noreturn, cold)) void mt_rec_end_as_last_thread(void)
{
    mt_writer_leave_thread();
    mt_guard = 0;
    exit(0);
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
    /* A dlopen'ed module is found by the allocations that follow it (pending stays set until
     * here, because the first of them may run inside dlopen, before the module is listed). */
    __atomic_store_n(&mt_rec_dl_pending, 0, __ATOMIC_RELAXED);
    mt_rec_modules_changed();
    if (MT_UNLIKELY(mt_last_thread_only_writer_left()))
        mt_rec_end_as_last_thread();
}

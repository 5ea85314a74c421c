// SPDX-License-Identifier: MIT
// The recorder's life in a process: start (config, tables, the log and its opening records),
// fork (the child's own log), exec (the old image's log ends, the new one names it), exit
// (leak check, last sample, EXIT) and fatal signals. Above the record layer, below the hooks,
// which call it; it reaches the Python hooks only through the table they pass in. Never
// allocates with malloc; stdio never.
#include "lifecycle.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/allocator_check.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/exec_link.h"
#include "base/last_thread.h"
#include "base/signal_defer.h"
#include "base/signals.h"
#include "base/thread_slots.h"
#include "leak/leak_scan.h"
#include "python/python.h"
#include "record/aggregate.h"
#include "record/event_ring.h"
#include "record/heap_total.h"
#include "record/live_table.h"
#include "record/modules.h"
#include "record/recorder.h"
#include "record/sampler.h"
#include "stack/trace_tree.h"
#include "stack/unwinder.h"

/* A fork child's parent log, kept from the parent's writer before the child opens its own. */
static char mt_life_parent_log[PATH_MAX];

bool mt_life_attach;

/* The Python hooks' entry points (hooks/python_hooks.h), as mt_life_init was given them. */
static const mt_life_python_t *mt_life_py;

static uint64_t mt_life_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int mt_life_start_log(bool child, uint64_t fork_seq)
{
    /* A fork child's parent is the process that forked it, whose pid mt_rec still holds:
     * getppid() says 1 (or a subreaper) once that parent has exited, as daemon(3)'s does
     * straight after the fork, and the reader would not find the child's parent log. */
    uint64_t ppid = child ? (uint64_t)mt_rec.pid : (uint64_t)getppid();
    mt_rec.pid = mt_sys_getpid();
    mt_rec.start_us = mt_clock_us();
    mt_rec.forks = 0;
    if (child) {
        mt_sbuf_t s;
        mt_sbuf_init(&s, mt_life_parent_log, sizeof mt_life_parent_log);
        mt_sbuf_add(&s, mt_writer.path); /* still the parent's: this open replaces it */
    }
    int rc = mt_writer_open(mt_rec.pid, mt_life_realtime_ns());
    if (rc < 0)
        return rc;
    mt_rec_emit_process(ppid);
    if (child)
        mt_rec_modules_child_reemit();
    else
        (void)mt_rec_modules_rescan();
    if (child)
        mt_rec_emit_origin(MT_ORIGIN_FORK, fork_seq,
                           mt_config.leak_check ? MT_ORIGIN_HEAP_LISTED : 0, mt_life_parent_log);
    else if (mt_life_attach)
        mt_rec_emit_origin(MT_ORIGIN_ATTACH, 0, 0, "");
    else
        mt_rec_emit_origin(mt_config.exec_from[0] ? MT_ORIGIN_EXEC : MT_ORIGIN_START, 0, 0,
                           mt_config.exec_from);
    if (child && mt_config.leak_check)
        mt_rec_emit_inherited();
    mt_life_py->log_started();
    unsigned tick = mt_config.sample_ms ? mt_config.sample_ms : 10;
    if (mt_writer_start(mt_rec_tick, tick) < 0)
        mt_msg("cannot start the writer thread; writing synchronously");
    return 0;
}

/* True when this process's forks get logs of their own (a vfork child shares our memory). */
static bool mt_life_follows_forks(void)
{
    return mt_rec_active() && mt_config.follow_fork && mt_sys_getpid() == mt_rec.pid;
}

void mt_life_fork_prepare(void)
{
    mt_guard++;
    mt_rec_modules_lock();
    mt_writer_lock();
    /* Every event so far in the parent's log, and none in a ring for the child to inherit. */
    mt_ring_close();
    /* No thread may be inside the tree or a shard of the block table at the fork: the child
     * would find them locked or half changed. Events logged have their table change in. */
    mt_tree_fork_prepare();
    mt_slot_wait_idle();
    mt_live_lock_all();
    /* Numbered before the fork, so that the child's copy knows its number too. */
    if (mt_life_follows_forks())
        mt_rec.forks++;
}

/*
 * The FORK record goes where the child's copy of the heap was taken: the writer lock has been
 * held since prepare, so no event came in between. The modules lock goes first: the writer
 * thread may need it while we wait for a free buffer. In that rare wait other threads can
 * record an event or two before the FORK; the child's heap then differs from the replayed one
 * by those blocks.
 */
void mt_life_fork_parent(void)
{
    mt_live_unlock_all();
    mt_tree_fork_parent();
    mt_rec_modules_unlock();
    if (mt_life_follows_forks()) {
        mt_enc_t *e = mt_writer_begin(0);
        if (e) {
            mt_enc_fork(e, mt_rec_now(), mt_rec.forks);
            mt_writer_end();
        }
    }
    mt_ring_open();
    mt_writer_unlock();
    mt_guard--;
}

/* The child's side of fork, after the parent's locks were taken (prepared) or lost. */
static void mt_life_child_start(bool prepared)
{
    mt_sys_confined_child();
    mt_rec_thread_child();
    mt_slot_child();
    mt_ring_child();
    mt_last_thread_child();
    bool was_active = mt_rec_active();
    mt_writer_child_reset(); /* fresh locks; stopped until the new log is open */
    mt_tree_fork_child();
    mt_live_child();
    if (mt_config.aggregate)
        mt_agg_child();
    if (!mt_config.leak_check) /* else its nodes describe the inherited blocks */
        mt_tree_reset();
    mt_heap_total_child(&mt_rec_heap);
    if (was_active && mt_config.follow_fork && !mt_config_excluded(mt_sys_getpid()))
        (void)mt_life_start_log(true, prepared ? mt_rec.forks : 0);
}

void mt_life_fork_child(void)
{
    mt_rec_modules_unlock(); /* taken by this same thread in prepare */
    mt_life_child_start(true);
    mt_guard--;
}

/* A child that no fork handler prepared, noticed by the writer (log_writer.h): parent threads
 * may have held any memtrace lock at the clone, and are gone. What the child recorded into the
 * inherited buffers before this is lost with them (at most a buffer's worth; the mt_syscall()
 * hook prepares raw clone calls like a fork, so only inline clone instructions get here). */
static void mt_life_orphaned(void)
{
    mt_guard++;
    mt_rec_modules_lock_reset();
    mt_life_child_start(false);
    if (mt_rec_active())
        mt_rec_notice(MT_NOTICE_EVENTS_LOST,
                      "a child made by a raw clone without fork's handlers: events between the "
                      "clone and this point were lost");
    mt_guard--;
}

/* Registered from our constructor, which the dynamic loader runs before __libc_start_main
 * registers _dl_fini: exit handlers run in reverse order, so this runs after every library
 * destructor (whose frees are recorded) and is the last thing before the process ends. Unlike
 * atexit, on_exit also receives main's return value. */
static void mt_life_on_exit(int status, void *arg)
{
    (void)arg;
    mt_life_finish(MT_EXIT_NORMAL, status);
}

int mt_life_quick_exit_status;

/* quick_exit skips the on_exit handlers and ends in glibc's internal _exit; registered at
 * start, before any of the program's, this at_quick_exit handler runs after all of them. */
static void mt_life_on_quick_exit(void)
{
    mt_life_finish(MT_EXIT_NORMAL, mt_life_quick_exit_status);
}

/* Writes one LEAK_BLOCK per block that is not reachable (writer lock held). */

static void mt_life_report_unrecorded(void)
{
    unsigned long n = mt_sigdefer_unrecorded_total();
    if (!n)
        return;
    char text[160];
    mt_sbuf_t s;
    mt_sbuf_init(&s, text, sizeof text);
    mt_sbuf_u64(&s, n);
    mt_sbuf_add(&s, " calls to hooked functions from signal handlers that interrupted memtrace "
                    "were not recorded");
    mt_rec_notice(MT_NOTICE_EVENTS_LOST, text);
}

void mt_life_finish(enum mt_exit_reason reason, int status)
{
    /* A vfork child shares our memory: it must not touch the parent's log. */
    if (!mt_rec_active() || mt_sys_getpid() != mt_rec.pid)
        return;
    mt_guard++;
    /* A last sample, so that a run shorter than one tick still has RSS and the allocator's
     * view at exit. Read before taking the writer lock: mallinfo2 takes the arena locks,
     * which another thread may hold while it waits for ours. */
    mt_sample_t last;
    if (mt_config.sample_ms)
        mt_sampler_read(&last);
    uint64_t last_time = mt_rec_now();
    mt_life_report_unrecorded();
    mt_writer_lock();
    mt_ring_close(); /* for good: the events still to come take the lock, and find it stopped */
    mt_rec_aggregate_end();
    if (reason == MT_EXIT_NORMAL)
        mt_rec_leak_check();
    mt_enc_t *e = mt_writer_begin(0);
    if (e) {
        if (mt_config.sample_ms)
            mt_enc_sample(e, last_time, &last);
        mt_enc_exit(e, mt_rec_now(), reason, (uint64_t)(unsigned)status);
        mt_writer_end();
    }
    mt_writer_unlock();
    mt_writer_flush(true);
    mt_guard--;
}

bool mt_life_exec_begin(off_t *size, const char *file)
{
    if (!mt_rec_active() || mt_sys_getpid() != mt_rec.pid)
        return false;
    mt_sample_t last; /* before the lock, as in mt_life_finish */
    if (mt_config.sample_ms)
        mt_sampler_read(&last);
    uint64_t last_time = mt_rec_now();
    /* The rings emptied into the log and closed: the other threads' events take the lock, and
     * wait there from the hold on (opened again if the exec fails). */
    mt_writer_lock();
    mt_ring_close();
    mt_writer_unlock();
    if (!mt_writer_exec_hold(size)) {
        mt_ring_open();
        return false;
    }
    /* Under the hold: if the exec fails, the writer cuts them off with the EXIT, and they are
     * written again at the end (mt_agg_exec_failed). */
    mt_rec_aggregate_end();
    static char next[PATH_MAX]; /* the recorder is held: one exec at a time */
    if (file && mt_exec_link_next(file, mt_rec.pid, next, sizeof next) == 0) {
        size_t len = strlen(next);
        mt_enc_t *e = mt_writer_begin_big(1 + mt_enc_string_size(len));
        if (e)
            mt_enc_next_log(e, next, len);
    }
    mt_enc_t *e = mt_writer_begin(0);
    if (e) {
        if (mt_config.sample_ms)
            mt_enc_sample(e, last_time, &last);
        mt_enc_exit(e, mt_rec_now(), MT_EXIT_EXEC, 0);
        mt_writer_exec_write();
    }
    return true;
}

void mt_life_exec_failed(off_t size)
{
    if (mt_config.aggregate)
        mt_agg_exec_failed(); /* with the writer lock the hold kept */
    mt_writer_exec_failed(size);
    mt_ring_open();
}

/* Normally runs before mt_life_on_exit (see there); flushing keeps the log complete if a later
 * destructor crashes. When the library was loaded late (dlopen), it may be the last chance. */
__attribute__((destructor(101))) static void mt_life_fini(void)
{
    if (mt_rec_active()) {
        mt_guard++;
        mt_writer_lock();
        mt_ring_sync();
        mt_writer_unlock();
        mt_writer_flush(false);
        mt_guard--;
    }
}

/* ---- fatal signals ---- */

/* Every signal whose default action ends the process, but SIGKILL: the faults and abort, and
 * the others (`find | head`'s SIGPIPE, a closed terminal's SIGHUP, the program's own SIGALRM, a
 * CPU limit's SIGXCPU...). The real-time signals are added at start (SIGRTMIN is a call). */
static const int mt_life_fatal[] = {
    SIGSEGV, SIGBUS,    SIGABRT, SIGFPE,  SIGILL,  SIGTRAP,   SIGSYS,  SIGTERM,
    SIGINT,  SIGHUP,    SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1,   SIGUSR2, SIGXCPU,
    SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO,   SIGPWR,  SIGSTKFLT,
};

/* A fault (and abort) is raised by the instruction or call that failed and must be handled
 * now; every other signal can wait for the end of a hook. */
static bool mt_life_signal_is_fault(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP ||
           sig == SIGSYS || sig == SIGABRT;
}

static void mt_life_on_signal(int sig)
{
    int saved = errno;
    /* A signal from outside inside a hook, perhaps with the recorder lock held by this thread:
     * the log's end is written when the hook ends. */
    if (!mt_life_signal_is_fault(sig) && mt_sigdefer_hold_own(sig, mt_life_on_signal)) {
        errno = saved;
        return;
    }
    mt_guard++;
    /* Not from the writer thread (it would wait for itself), and only if the lock is free
     * (it is held by this very thread when the fault is inside our locked section). */
    if (mt_rec_active() && mt_sys_getpid() == mt_rec.pid &&
        !(mt_writer.thread_running && pthread_equal(pthread_self(), mt_writer.thread)) &&
        mt_writer_trylock()) {
        mt_ring_close();
        mt_rec_aggregate_end();
        mt_enc_t *e = mt_writer_begin(0);
        if (e)
            mt_enc_exit(e, mt_rec_now(), MT_EXIT_SIGNAL, (uint64_t)sig);
        mt_writer_flush_from_signal();
    }
    /* Default action with the signal re-raised: the exit status stays what it would have
     * been. It is blocked until we return, so the process dies right after. */
    mt_sig_default(sig);
    mt_syscall(SYS_tgkill, mt_sys_getpid(), mt_sys_gettid(), sig);
    errno = saved;
}

static void mt_life_catch_fatal(void)
{
    enum { FIXED = sizeof mt_life_fatal / sizeof mt_life_fatal[0] };
    int sigs[FIXED + 64];
    int n = 0;
    for (; n < (int)FIXED; n++)
        sigs[n] = mt_life_fatal[n];
    for (int sig = SIGRTMIN; sig <= SIGRTMAX && n < (int)(sizeof sigs / sizeof sigs[0]); sig++)
        sigs[n++] = sig;
    mt_sig_init(sigs, n, mt_life_on_signal);
}

void mt_life_init(const mt_life_python_t *py)
{
    if (mt_rec.inited)
        return;
    mt_rec.inited = true;
    mt_life_py = py;
    mt_guard++;
    mt_msg_init();
    mt_config_load();
    int pid = mt_sys_getpid();
    if (!mt_config.run_id[0]) {
        /* Started without `memtrace run`: the first process names the run for the others. */
        mt_sbuf_t s;
        mt_sbuf_init(&s, mt_config.run_id, sizeof mt_config.run_id);
        mt_sbuf_u64(&s, (uint64_t)pid);
        mt_sbuf_add(&s, ".");
        mt_sbuf_u64(&s, mt_life_realtime_ns());
        /* glibc's copy of the environment comes from the early buffer: a block the program
         * never allocated must not be in its heap, nor be freed there at exit. */
        mt_private_heap = 1;
        setenv("MEMTRACE_RUN_ID", mt_config.run_id, 0);
        mt_private_heap = 0;
    }
    if (!mt_config.follow_fork && !mt_config.root_pid) {
        /* Lets exec'd children of forks recognise they are not the root (see config.h). */
        char buf[24];
        mt_sbuf_t s;
        mt_sbuf_init(&s, buf, sizeof buf);
        mt_sbuf_u64(&s, (uint64_t)pid);
        mt_private_heap = 1; /* as for MEMTRACE_RUN_ID above */
        setenv("MEMTRACE_ROOT_PID", buf, 0);
        mt_private_heap = 0;
        mt_config.root_pid = pid;
    }
    if (mt_config_excluded(pid)) {
        mt_guard--;
        return;
    }
    mt_unwind_init();
    mt_clock_init();
    /* Without these nothing is recorded: a program that memtrace cannot record for want of
     * address space (`ulimit -v`) gets back what they took and runs as it would plain. */
    mt_map_journal_begin();
    if (mt_tree_init(mt_config.leak_check) < 0 || mt_writer_init(!mt_life_attach) < 0 ||
        mt_rec_modules_init() < 0) {
        mt_map_journal_undo();
        mt_msg("out of memory at start; not recording");
        mt_guard--;
        return;
    }
    mt_map_journal_end();
    if (mt_config.aggregate && (mt_live_init() < 0 || mt_agg_init() < 0))
        mt_msg("out of memory for the aggregated figures; the log will have none");
    if (mt_config.leak_check) {
        mt_leakscan_init();
        /* a thread stopped inside a hook is on its recorder stack (thread_slots.h) */
        mt_leakscan_set_sp_map(mt_slot_program_sp);
        if (!mt_live_ok() && mt_live_init() < 0)
            mt_msg("out of memory for the leak check's block table; no leak check at exit");
    }
    if (mt_config.aggregate)
        mt_writer.header_flags = MT_LOG_FLAG_AGGREGATED;
    mt_ring_init();
    if (mt_ring_on)
        mt_writer.sync = mt_ring_sync;
    mt_private_heap = 1;
    mt_life_py->detect();
    mt_private_heap = 0;
    if (mt_life_start_log(false, 0) == 0) {
        mt_life_py->install();
        mt_private_heap = 1;
        /* A late start's malloc is libc's, reached through the patched GOT (attach.c checked
         * that it is glibc's): these checks would call it a foreign allocator. */
        if (!mt_life_attach) {
            mt_acheck_run(mt_rec_notice);
            mt_acheck_foreign_allocator();
        }
        mt_usable_fn usable = mt_acheck_glibc_usable();
        mt_private_heap = 0;
        mt_rec_heap_start(usable);
        on_exit(mt_life_on_exit, NULL);
        at_quick_exit(mt_life_on_quick_exit);
        pthread_atfork(mt_life_fork_prepare, mt_life_fork_parent, mt_life_fork_child);
        mt_writer.orphaned = mt_life_orphaned;
        (void)mt_slot_self();
        if (!mt_life_attach)
            mt_life_catch_fatal();
    }
    mt_guard--;
}

// SPDX-License-Identifier: MIT
// The program's signal handlers, run where memtrace can record what they do. A handler that
// interrupts memtrace (a hook with the reentrancy guard set) would have its allocations go
// unrecorded; instead an asynchronous signal is held until the interrupted hook ends and its
// handler then runs there, on the program's behalf, and its events are recorded like any.
// Faults (SIGSEGV and the like raised by the kernel) run at once, as they must.
#ifndef MT_SIGNAL_DEFER_H
#define MT_SIGNAL_DEFER_H

#include <signal.h>
#include <stdbool.h>

#include "base/mt_libc.h"

/* Non-zero while this thread holds a signal for delivery at the end of its hook. */
extern __thread int mt_sigdefer_pending __attribute__((tls_model("initial-exec")));
/* Non-zero while a handler runs that interrupted memtrace and could not be held. */
extern __thread int mt_sigdefer_unrecorded __attribute__((tls_model("initial-exec")));

/* Called by the hooks, with the guard clear, when mt_sigdefer_pending is set. */
void mt_sigdefer_deliver(void);

/* The end of a hook: clears the reentrancy guard, then runs the handlers held meanwhile. */
static inline void mt_guard_leave(void)
{
    mt_guard = 0;
    if (MT_UNLIKELY(mt_sigdefer_pending))
        mt_sigdefer_deliver();
}

/* For the interposed sigaction (signals.c): sa is the program's action for sig, a handler (not
 * SIG_DFL or SIG_IGN). Stores it and fills out with the action to install in its place: the
 * same flags and mask, memtrace's trampoline as the handler. With reset set (signals.c's, for
 * a signal whose default action memtrace stands in for) an SA_RESETHAND in sa is not given to
 * the kernel: the trampoline calls reset(sig) instead when the handler is entered, so that
 * what the kernel would have made SIG_DFL is memtrace's stand-in for it. */
void mt_sigdefer_wrap(int sig, const struct sigaction *sa, struct sigaction *out,
                      void (*reset)(int sig));
/* sig's action is no longer a wrapped handler of the program's. */
void mt_sigdefer_unwrap(int sig);
/* The program's own action for sig when it is wrapped (into *old); false when it is not. */
bool mt_sigdefer_program_action(int sig, struct sigaction *old);

/* For memtrace's own handler of an asynchronous fatal signal (SIGTERM, SIGINT): when the
 * thread is inside a hook, which may hold the recorder lock the handler needs to write the
 * log's end, the signal is held and the handler runs when the hook ends. True when held. */
bool mt_sigdefer_hold_own(int sig, void (*handler)(int));

/* Allocator calls made by handlers that memtrace could not hold (mt_sigdefer_unrecorded):
 * counted by the hooks, reported in the log at the end. */
void mt_sigdefer_count_unrecorded(void);
unsigned long mt_sigdefer_unrecorded_total(void);

#endif

// SPDX-License-Identifier: MIT
// Fatal-signal plumbing of the recorder: the handlers that flush the log (SA_ONSTACK: each
// thread's alternate stack comes with its slot, thread_slots.h) and the interposed
// sigaction/signal that keep memtrace's handlers invisible to the program.
#ifndef MT_SIGNALS_H
#define MT_SIGNALS_H

/* Once, from the recorder's init: installs handler for each signal in sigs that the program
 * neither handles nor ignores, SA_ONSTACK. */
void mt_sig_init(const int *sigs, int n, void (*handler)(int));
/* Forgets our handler for sig (the handler is about to restore SIG_DFL itself). */
void mt_sig_forget(int sig);

#endif

// SPDX-License-Identifier: MIT
// Fatal-signal plumbing of the recorder: the handlers that flush the log (SA_ONSTACK: each
// thread's alternate stack comes with its slot, thread_slots.h) and the interposed
// sigaction/signal that keep memtrace's handlers invisible to the program.
#ifndef MT_SIGNALS_H
#define MT_SIGNALS_H

/* Once, from the recorder's init: installs handler for each signal in sigs that the program
 * neither handles nor ignores, SA_ONSTACK. */
void mt_sig_init(const int *sigs, int n, void (*handler)(int));
/* Restores the real SIG_DFL for sig, for good: the handler is about to raise it again. A
 * SIG_DFL that the program sets for a signal given to mt_sig_init installs the handler. */
void mt_sig_default(int sig);

#endif

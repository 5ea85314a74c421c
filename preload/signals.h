// SPDX-License-Identifier: MIT
// Fatal-signal plumbing of the recorder: alternate signal stacks (so the handler that flushes
// the log still runs when a thread overflowed its stack) and the interposed sigaction/signal
// that keep memtrace's handlers invisible to the program.
#ifndef MT_SIGNALS_H
#define MT_SIGNALS_H

/* Once, from the recorder's init: installs handler for each signal in sigs that the program
 * neither handles nor ignores, SA_ONSTACK, and gives the calling thread its alternate stack. */
void mt_sig_init(const int *sigs, int n, void (*handler)(int));
/* Gives the calling thread an alternate signal stack if it has none (its first event). */
void mt_sig_thread(void);
/* Forgets our handler for sig (the handler is about to restore SIG_DFL itself). */
void mt_sig_forget(int sig);

#endif

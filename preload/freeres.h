// SPDX-License-Identifier: MIT
// The C and C++ runtimes' own memory released before the leak check (valgrind's freeres).
// Runs the runtimes' functions, whose frees are recorded as any other; never with another
// program thread alive.
#ifndef MT_FREERES_H
#define MT_FREERES_H

/* Calls __gnu_cxx::__freeres and __libc_freeres when the calling thread is the program's
 * last; returns 1 when they ran, 0 when other threads were still there. Exit path only. */
int mt_freeres_run(void);

/* Under --leak-check, registers an on_exit handler running mt_freeres_run. Call right after
 * the recorder's start (mt_life_init), whose own handler (the leak check) must run after it:
 * exit handlers run in reverse order of registration. Guard held. */
void mt_freeres_install(void);

#endif

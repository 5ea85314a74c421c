// SPDX-License-Identifier: MIT
// For the hostile programs that starve memtrace's writer thread (cancel_storm, starved_writer).
#ifndef MT_HOSTILE_STARVE_H
#define MT_HOSTILE_STARVE_H

/* Puts this thread and every other of the process on CPU 0, the others at SCHED_IDLE: the
 * writer thread (plain, there is none) runs only when this one sleeps. */
void starve_other_threads(void);

#endif

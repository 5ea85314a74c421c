// SPDX-License-Identifier: MIT
// The end of a program whose main thread left with pthread_exit: glibc ends the process when
// its last thread exits, and memtrace's writer thread must not be that last thread. Read by
// the writer's tick only; nothing here runs on the event path.
#ifndef MT_LAST_THREAD_H
#define MT_LAST_THREAD_H

#include <stdbool.h>

/* Called by the pthread_exit hook: the main thread is leaving without ending the process. */
void mt_last_thread_main_left(void);
/* After fork: the child's main thread is the one that forked. */
void mt_last_thread_child(void);
/* From the writer's tick: true when no thread of the program is left, only the writer. Reads
 * /proc/self/status when main has called pthread_exit, or every 50th call otherwise (a main
 * thread that left by a raw exit syscall). */
bool mt_last_thread_only_writer_left(void);

#endif

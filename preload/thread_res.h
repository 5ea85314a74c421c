// SPDX-License-Identifier: MIT
// Per-thread memory of memtrace's (alternate signal stacks) reclaimed without pthread keys:
// a key is the program's resource, and glibc callocs key storage inside whichever call first
// sets a key of 32 or more (issue 13.2). Memory of a thread that is gone goes to the next
// thread that needs some. Lock-free; no allocation.
#ifndef MT_THREAD_RES_H
#define MT_THREAD_RES_H

/* Memory left by a thread that is gone, now owned by tid (or NULL: map new and put it). A
 * thread with tid's number that died keeps it for tid. */
void *mt_tres_take(int tid);

/* Records mem as tid's; 0, or -ENOSPC when the table is full (the caller then keeps none). */
int mt_tres_put(int tid, void *mem);

/* mem, already known, now belongs to tid (a fork's child inherits its thread's stack). */
void mt_tres_adopt(int tid, void *mem);

#endif

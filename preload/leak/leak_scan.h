// SPDX-License-Identifier: MIT
// Leak check at exit, inside the target: holds the other threads still (without a signal
// the program could notice), gathers the roots (writable mappings, stacks from their stack
// pointers, registers) and classifies every live block with leak_graph, reading only pages the
// kernel reports readable: it never faults. Never allocates from the heap and never takes a
// lock a stopped thread could hold: the caller keeps the recorder lock for the whole scan.
#ifndef MT_LEAK_SCAN_H
#define MT_LEAK_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "leak/leak_graph.h"

typedef struct mt_leakscan_stats {
    uint32_t threads_stopped; /* other threads held still: stopped by a signal, or left
                                 blocked in the kernel (stack from its reported pointer) */
    uint32_t threads_missed;  /* threads that ran during the scan (every usable signal blocked,
                                 or woken meanwhile): scanned as found, without registers */
    uint64_t root_bytes;      /* bytes of memory scanned as roots */
} mt_leakscan_stats_t;

/* At library start: lists memtrace's own writable segments (base/own_ranges.h), which are
 * never roots, like everything else on that list. */
void mt_leakscan_init(void);

/* How to find the program's stack pointer from a stopped thread's (memtrace's hooks may run
 * on a stack of their own): called in the stopped thread, from the stop signal's handler;
 * NULL (the default) takes the stack pointer as it is. */
void mt_leakscan_set_sp_map(uintptr_t (*map)(uintptr_t sp));

/* A memtrace thread that blocks all signals and holds no heap pointers: never stopped. */
void mt_leakscan_skip_thread(int tid);

/* How many threads of the program other than the caller are alive (memtrace's skipped
 * thread not counted). Threads just joined may linger for a moment in /proc: waits up to a
 * few milliseconds for the count to reach 0. */
int mt_leakscan_other_threads(void);

/* The calling thread is leaving through exit(): its stack is a root from sp up (the first
 * call wins, so a nested exit from an atexit handler keeps the outer frame). */
void mt_leakscan_set_stack_start(uintptr_t sp);

/* Classifies blocks[0..count) (any order on entry; sorted by address on return). stack needs
 * 2 * count entries. Call from the exiting thread with the recorder lock held. */
__attribute__((warn_unused_result)) int
mt_leakscan_run(mt_leak_block_t *blocks, size_t count, uint32_t *stack, mt_leakscan_stats_t *stats);

#endif

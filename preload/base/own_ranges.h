// SPDX-License-Identifier: MIT
// The address ranges that are memtrace's own (its writable segments, the tables and buffers
// mt_map gives it): never roots for the leak check, which reads the list (leak/leak_scan.c).
// Kept here, below everything, so that mapping memory needs nothing from the layers above.
// No allocation, no pthread lock (a spin lock: a fork may leave a mutex held).
#ifndef MT_OWN_RANGES_H
#define MT_OWN_RANGES_H

#include <stddef.h>
#include <stdint.h>

typedef struct mt_own_range {
    uintptr_t begin, end;
} mt_own_range_t;

/* [begin, end) is memtrace's. Safe to call at any time, from any thread; keeps up to a fixed
 * number of ranges and merges neighbours. */
void mt_own_add(uintptr_t begin, uintptr_t end);

/* [begin, end) was given back: no longer memtrace's. */
void mt_own_remove(uintptr_t begin, uintptr_t end);

/* The list as it is (*count entries, in no order). Unlocked: for the leak check, which runs
 * with every other thread of the process held still. */
const mt_own_range_t *mt_own_ranges(size_t *count);

#endif

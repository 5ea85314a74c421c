// SPDX-License-Identifier: MIT
// The address ranges that are never roots for the leak check, which reads the lists
// (leak/leak_scan.c): memtrace's own (its writable segments, the tables and buffers mt_map
// gives it), and those a foreign allocator mapped for itself (below).
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

/*
 * The program's allocator, when it is not glibc's (jemalloc, tcmalloc, mimalloc, preloaded or
 * linked in): the mappings its own code made. Its metadata keeps copies of the addresses of
 * live blocks (a slab's first block, cached blocks), which would make lost blocks look
 * reachable: like glibc's arenas, these mappings are no roots, and the blocks in them are
 * scanned when reached. mt_own_allocator_text names the allocator's code (set once at start:
 * the hooks compare the caller of mmap with it); mapped/unmapped keep the list (a fixed number
 * of ranges: beyond, the rest stay roots, as before).
 */
extern uintptr_t mt_own_allocator_lo, mt_own_allocator_hi;
/* Once set (lo == hi == 0: glibc's malloc, nothing to sort), mappings made earlier are sorted
 * by their caller, and mt_own_allocator_known is 1; before that the hooks pass every anonymous
 * mapping to mt_own_early_mapped. */
void mt_own_allocator_text(uintptr_t lo, uintptr_t hi);
extern int mt_own_allocator_known;
void mt_own_early_mapped(uintptr_t begin, uintptr_t end, uintptr_t caller);

static inline int mt_own_is_allocator_code(uintptr_t pc)
{
    return pc - mt_own_allocator_lo < mt_own_allocator_hi - mt_own_allocator_lo;
}

void mt_own_allocator_mapped(uintptr_t begin, uintptr_t end);
void mt_own_allocator_unmapped(uintptr_t begin, uintptr_t end);
const mt_own_range_t *mt_own_allocator_ranges(size_t *count);

#endif

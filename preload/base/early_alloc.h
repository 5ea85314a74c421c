// SPDX-License-Identifier: MIT
// A static bump allocator for the few allocations dlsym() makes before the real allocator is
// known (heaptrack's approach). Its pointers must never reach the real free().
#ifndef MT_EARLY_ALLOC_H
#define MT_EARLY_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

void *mt_early_alloc(size_t size, size_t align);
bool mt_early_owns(const void *p);
/* Usable size of an early block (for realloc of an early pointer). */
size_t mt_early_size(const void *p);

#endif

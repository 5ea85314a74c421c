// SPDX-License-Identifier: MIT
// The vtable test behind memcheck's multipleinheritance leak heuristic, for the leak scan at
// exit: reads the target's mappings and memory with raw system calls only, never faults,
// never allocates, never takes a lock.
#ifndef MT_LEAK_VTABLE_H
#define MT_LEAK_VTABLE_H

#include <stdint.h>

#include "leak/leak_graph.h"

/* Installs the vtable test in g for one scan, forgetting what an earlier scan (a parent's,
 * before fork) learnt about the mappings. Mappings are read lazily, at the first test. */
void mt_leakvtable_attach(mt_leak_graph_t *g);

/* memcheck's rule: addr lies in a readable file mapping and the words from it (up to 21, not
 * past that mapping) hold at least two pointers into executable file mappings before anything
 * that is neither NULL nor such a pointer. 1 yes, 0 no or unknown. */
int mt_leakvtable_check(void *ctx, uintptr_t addr);

#endif

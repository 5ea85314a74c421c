// SPDX-License-Identifier: MIT
// Leaks at known lines, for the symbolizer test (tests/integration/cases_symbols.py): built with
// gcc and clang, DWARF 4 and 5, split or not, each must give the same function, file and line.
// A "line:NAME" comment marks the line the test expects for NAME; do not reflow the calls.
#include <stdlib.h>

void *other_unit_alloc(size_t n); /* symbols_other.c: a second compile unit */

void *keep[3]; /* extern: the stores stay, the blocks stay reachable */

__attribute__((noinline)) void *plain_alloc(size_t n)
{
    void *p = malloc(n); /* line:plain_alloc */
    return p;
}

static inline __attribute__((always_inline)) void *inlined_alloc(size_t n)
{
    return malloc(n); /* line:inlined_alloc */
}

__attribute__((noinline)) void *outer_of_inlined(size_t n)
{
    void *p = inlined_alloc(n); /* line:outer_of_inlined */
    return p;
}

int main(void)
{
    keep[0] = plain_alloc(101);      /* line:main_plain */
    keep[1] = outer_of_inlined(202); /* line:main_inlined */
    keep[2] = other_unit_alloc(303); /* line:main_other */
    return 0;
}

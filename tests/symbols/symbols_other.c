// SPDX-License-Identifier: MIT
// The second compile unit of tests/symbols/symbols.c: its range must be found too.
#include <stdlib.h>

void *other_unit_alloc(size_t n);

__attribute__((noinline)) void *other_unit_alloc(size_t n)
{
    void *p = calloc(1, n); /* line:other_unit_alloc */
    return p;
}

// SPDX-License-Identifier: MIT
// The library tests/hostile/dlopen_cycle.c opens and closes: one allocating function.
#include <stdlib.h>

__attribute__((noinline)) void *dlopen_cycle_alloc(size_t n)
{
    return malloc(n);
}

// SPDX-License-Identifier: MIT
// Pointers in uninitialized globals (.bss) and in a function's static: an array of pointers in
// .bss keeps its blocks reachable, the ones dropped from it are definitely lost.
#include <stdlib.h>

void *table[8];
static void *remember(size_t n)
{
    static void *last; /* static local: also .bss */
    last = malloc(n);
    return last;
}

int main(void)
{
    for (int i = 0; i < 8; i++)
        table[i] = malloc(16 + (size_t)i);
    table[3] = NULL; /* 19 bytes lost */
    table[5] = NULL; /* 21 bytes lost */
    remember(100);
    remember(200); /* the 100-byte block is lost */
    return 0;
}

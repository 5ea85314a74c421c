// SPDX-License-Identifier: MIT
// Dies of a stack overflow (unbounded recursion) after allocating a known amount: the crash
// handler must still run (on its alternate stack), end the log with EXIT(signal SIGSEGV) and
// re-raise, so the exit status stays 128 + SIGSEGV and the report shows what was live.
// Ground truth before the crash: allocations=10 frees=5 leaked_bytes=5*100 leaked_blocks=5.
#include <stdio.h>
#include <stdlib.h>

static void *blocks[10];
static volatile int limit = -1; /* never reached: hides the endless recursion from gcc */

__attribute__((noinline)) static int recurse(int depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    if (depth == limit)
        return 0;
    return recurse(depth + 1) + pad[0]; /* not a tail call */
}

int main(int argc, char **argv)
{
    (void)argv;
    for (int i = 0; i < 10; i++)
        blocks[i] = malloc(100);
    for (int i = 0; i < 5; i++)
        free(blocks[i]);
    printf("memtrace-sample: allocations=10 frees=5 leaked_bytes=500 leaked_blocks=5\n");
    fflush(stdout);
    return recurse(argc);
}

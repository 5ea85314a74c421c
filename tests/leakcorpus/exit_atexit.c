// SPDX-License-Identifier: MIT
// exit() called again from an atexit handler: the remaining handlers still run, and the blocks
// the handlers allocate are checked after all of them.
#include <stdlib.h>

static void *kept;

static void second(void)
{
    void *volatile lost = malloc(12);
    lost = NULL;
    kept = malloc(13);
}

static void first(void)
{
    exit(0);
}

int main(void)
{
    atexit(second);
    atexit(first); /* runs first, calls exit again */
    void *volatile lost = malloc(14);
    lost = NULL;
    return 3;
}

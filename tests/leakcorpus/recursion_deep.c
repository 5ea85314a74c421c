// SPDX-License-Identifier: MIT
// Allocations 30 frames deep, deeper than memcheck's default 12 recorded frames: the innermost
// frame decides; every level leaks one block.
#include <stdlib.h>

static void descend(int n)
{
    void *volatile lost = malloc(16);
    lost = NULL;
    if (n > 0)
        descend(n - 1);
}

int main(void)
{
    descend(29);
    return 0;
}

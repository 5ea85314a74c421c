// SPDX-License-Identifier: MIT
// A program that limits the size of the files it writes (RLIMIT_FSIZE) to 4 KiB, far below
// what memtrace's log needs, then allocates. Past the limit a write fails with EFBIG and,
// unless ignored, raises SIGXFSZ, whose default action kills the process: memtrace must
// neither die of it nor let the program see it; the program's own small writes still work.
#include <stdio.h>

#include "fsize_churn.h"

int main(void)
{
    unsigned long mallocs, frees;
    if (fsize_churn(&mallocs, &frees) != 0)
        return 2;
    printf("fsize: mallocs=%lu frees=%lu\n", mallocs, frees);
    return 0;
}

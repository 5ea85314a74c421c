// SPDX-License-Identifier: MIT
// A program that limits the size of the files it writes (RLIMIT_FSIZE) to 4 KiB, far below
// what memtrace's log needs, then allocates. Past the limit a write fails with EFBIG and,
// unless ignored, raises SIGXFSZ, whose default action kills the process: memtrace must
// neither die of it nor let the program see it; the program's own small writes still work.
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

int main(void)
{
    struct rlimit r = {4096, 4096};
    if (setrlimit(RLIMIT_FSIZE, &r) != 0)
        return 2;
    unsigned long mallocs = 0, frees = 0;
    for (int i = 0; i < 500000; i++) {
        void *volatile p = malloc(16 + (size_t)(i % 512));
        mallocs++;
        if (i % 3) {
            free(p);
            frees++;
        }
    }
    printf("fsize: mallocs=%lu frees=%lu\n", mallocs, frees);
    return 0;
}

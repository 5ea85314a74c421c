// SPDX-License-Identifier: MIT
// A program that fragments the heap on purpose, for `memtrace fragmentation` and its test:
// it allocates 4000 blocks of 1000 bytes, frees every other one (2000 holes of ~1 KiB that
// a larger request cannot use), then pins the top of the heap with one long-lived block from
// pin_top(). It prints glibc's own mallinfo2() fordblks, then sleeps 100 ms without touching
// the heap so the recorder's 10 ms sampler reads the same state:
//   memtrace-frag: free_held=B
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N 4000

static void *blocks[N];
void *volatile sample_sink;

__attribute__((noinline)) static void fill(void)
{
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(1000);
        memset(blocks[i], 'f', 1000);
    }
}

__attribute__((noinline)) static void punch_holes(void)
{
    for (int i = 0; i < N; i += 2)
        free(blocks[i]);
}

__attribute__((noinline)) static void *pin_top(void)
{
    void *p = malloc(4000); /* too big for the holes: comes from the top */
    memset(p, 'p', 4000);
    return p;
}

int main(void)
{
    fill();
    punch_holes();
    sample_sink = pin_top();
    struct mallinfo2 mi = mallinfo2();
    char line[256];
    /* N blocks + the pin allocated, N / 2 freed; the rest and the pin stay live at exit */
    int n = snprintf(line, sizeof line,
                     "memtrace-frag: free_held=%zu\n"
                     "memtrace-sample: allocations=%d frees=%d leaked_bytes=%d leaked_blocks=%d\n",
                     mi.fordblks, N + 1, N / 2, N / 2 * 1000 + 4000, N / 2 + 1);
    if (write(STDOUT_FILENO, line, (size_t)n) != n)
        return 1;
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    return 0;
}

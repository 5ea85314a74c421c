// SPDX-License-Identifier: MIT
// A heap peak that comes and goes between two timer samples, for the recorder's sample at each
// new heap high (`memtrace fragmentation`, at peak). It punches 2000 holes of ~1 KiB into the
// heap (like fragment.c), then a burst allocates 2000 blocks of 3000 bytes (6 MiB, too big for
// the holes: they stay free), reads glibc's own mallinfo2() at that peak and frees the burst.
// The burst lasts a few milliseconds; its test records with --sample-interval 1000, so only a
// sample taken at the peak itself can see it. Everything is freed before exit (the exit sample
// describes another moment). It prints what mallinfo2 said at the peak, and its counts:
//   memtrace-burst: peak_free_held=B peak_footprint=B peak_bytes=B
// No stdio before the end (write(2) from a stack buffer), so nothing else lands in the heap.
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOLES 4000
#define HOLE_SIZE 1000
#define BURST 2000
#define BURST_SIZE 3000

static void *base[HOLES], *burst[BURST];

__attribute__((noinline)) static void punch_holes(void)
{
    for (int i = 0; i < HOLES; i++) {
        base[i] = malloc(HOLE_SIZE);
        memset(base[i], 'h', HOLE_SIZE);
    }
    for (int i = 0; i < HOLES; i += 2)
        free(base[i]);
}

__attribute__((noinline)) static struct mallinfo2 allocate_burst(void)
{
    for (int i = 0; i < BURST; i++) {
        burst[i] = malloc(BURST_SIZE);
        memset(burst[i], 'b', BURST_SIZE);
    }
    return mallinfo2(); /* the heap at its peak, as glibc sees it */
}

__attribute__((noinline)) static void free_burst(void)
{
    for (int i = 0; i < BURST; i++)
        free(burst[i]);
}

int main(void)
{
    punch_holes();
    struct mallinfo2 mi = allocate_burst();
    free_burst();
    for (int i = 1; i < HOLES; i += 2)
        free(base[i]);
    char line[256];
    int n = snprintf(line, sizeof line,
                     "memtrace-burst: peak_free_held=%zu peak_footprint=%zu peak_bytes=%d\n"
                     "memtrace-sample: allocations=%d frees=%d leaked_bytes=0 leaked_blocks=0\n",
                     mi.fordblks, mi.arena + mi.hblkhd, HOLES / 2 * HOLE_SIZE + BURST * BURST_SIZE,
                     HOLES + BURST, HOLES + BURST);
    return write(STDOUT_FILENO, line, (size_t)n) == n ? 0 : 1;
}

// SPDX-License-Identifier: MIT
// A program whose heap cannot shrink, for the pinning part of `memtrace fragmentation`: like a
// parser that builds a big temporary table, keeps one small result allocated after it, then
// drops the table. The 64-byte block from remember() sits above ~2 MiB of freed space, so glibc
// cannot return that space to the system. The program prints what glibc's mallinfo2() says it
// holds free at the end (the space the pin holds back, give or take the few chunks glibc keeps
// in its per-thread cache) and its own counts:
//   memtrace-pin: free_held=B site=remember
// It writes with write(2), not stdio, so that no stdout buffer lands in the heap.
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROWS 3000
#define ROW_BYTES 700
#define KEPT_BYTES 64

static char *rows[ROWS];
void *volatile pinning_sink;

__attribute__((noinline)) static void build_table(void)
{
    for (int i = 0; i < ROWS; i++) {
        rows[i] = malloc(ROW_BYTES);
        memset(rows[i], 'r', ROW_BYTES);
    }
}

__attribute__((noinline)) static char *remember(void)
{
    char *p = malloc(KEPT_BYTES); /* lands above the table: the top of the heap */
    memset(p, 'k', KEPT_BYTES);
    return p;
}

__attribute__((noinline)) static void drop_table(void)
{
    for (int i = 0; i < ROWS; i++)
        free(rows[i]);
}

int main(void)
{
    build_table();
    pinning_sink = remember();
    drop_table();
    struct mallinfo2 mi = mallinfo2();
    char line[256];
    int n = snprintf(line, sizeof line,
                     "memtrace-pin: free_held=%zu site=remember\n"
                     "memtrace-sample: allocations=%d frees=%d leaked_bytes=%d leaked_blocks=1\n",
                     mi.fordblks, ROWS + 1, ROWS, KEPT_BYTES);
    return write(STDOUT_FILENO, line, (size_t)n) == n ? 0 : 1;
}

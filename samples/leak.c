// SPDX-License-Identifier: MIT
// A leaking C program with a known answer, for memtrace's integration tests and for people
// trying memtrace: distinct leaking functions through each allocator entry point.
//
// Ground truth (the program's own calls; printed as the last line):
//   allocations=18 frees=11 leaked_bytes=1640 leaked_blocks=7
//   leak_with_malloc   3 x malloc(100)             300 bytes, 3 blocks
//   leak_with_calloc   calloc(10, 20)              200 bytes, 1 block
//   leak_with_realloc  malloc(50) then realloc 500 500 bytes, 1 block (2 allocation calls)
//   leak_aligned       posix_memalign(64, 256)     256 bytes, 1 block
//                      aligned_alloc(128, 384)     384 bytes, 1 block
//   no_leak            10 x malloc(1000) + free    nothing leaked
// "allocations" counts calls that produce a block (a realloc counts once); "frees" counts
// blocks released, and the block a realloc replaces is one (10 frees + 1 realloc). The result line
// is written with write(2) from a stack buffer, so stdio never allocates its buffer; the C runtime
// itself allocates nothing here.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Keeps the compiler from removing allocations whose memory is never read. */
void *volatile sample_sink;

__attribute__((noinline)) static void leak_with_malloc(void)
{
    for (int i = 0; i < 3; i++) {
        char *p = malloc(100);
        memset(p, 'm', 100);
        sample_sink = p;
    }
}

__attribute__((noinline)) static void leak_with_calloc(void)
{
    sample_sink = calloc(10, 20);
}

__attribute__((noinline)) static void leak_with_realloc(void)
{
    char *p = malloc(50);
    memset(p, 'r', 50);
    p = realloc(p, 500);
    sample_sink = p;
}

__attribute__((noinline)) static void leak_aligned(void)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, 256) == 0)
        sample_sink = p;
    sample_sink = aligned_alloc(128, 384);
}

__attribute__((noinline)) static void no_leak(void)
{
    for (int i = 0; i < 10; i++) {
        char *p = malloc(1000);
        memset(p, 'n', 1000);
        sample_sink = p;
        free(p);
    }
}

int main(void)
{
    leak_with_malloc();
    leak_with_calloc();
    leak_with_realloc();
    leak_aligned();
    no_leak();
    sample_sink = NULL;
    char line[160];
    int n = snprintf(line, sizeof line,
                     "memtrace-sample: allocations=%d frees=%d leaked_bytes=%d leaked_blocks=%d\n",
                     18, 11, 1640, 7);
    return write(1, line, (size_t)n) == n ? 0 : 1;
}

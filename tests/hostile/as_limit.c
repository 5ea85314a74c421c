// SPDX-License-Identifier: MIT
// A program that uses up its address space (RLIMIT_AS, as `ulimit -v` sets it) and goes on:
// 64 KiB blocks until malloc fails, then small blocks at a second site in what two freed
// blocks leave, then everything freed. The run a memory profiler is for: the log must be whole
// and exact though memtrace can map nothing more once the limit is reached.
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#define BIG (64 << 10)
#define MAX_BIG 4096
#define SMALL 2000

static void *keep_big[MAX_BIG];
static void *keep_small[SMALL];

__attribute__((noinline)) static void *take_big(void)
{
    return malloc(BIG);
}

__attribute__((noinline)) static void *take_small(size_t n)
{
    return malloc(n);
}

static unsigned long mapped_bytes(void)
{
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%lu", &pages) != 1)
        pages = 0;
    if (f)
        fclose(f);
    return pages * 4096ul;
}

int main(void)
{
    unsigned long now = mapped_bytes();
    if (now == 0)
        return 2;
    struct rlimit rl = {now + (48ul << 20), RLIM_INFINITY};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        return 3;
    int big = 0, small = 0, mallocs = 0, frees = 0;
    while (big < MAX_BIG && (keep_big[big] = take_big()) != NULL)
        big++;
    mallocs += big;
    for (int k = 0; k < 2 && big > 0; k++, frees++)
        free(keep_big[--big]);
    for (int i = 0; i < SMALL; i++)
        if ((keep_small[i] = take_small(24 + (size_t)(i % 8))) != NULL)
            small++;
    mallocs += small;
    for (int i = 0; i < SMALL; i++)
        if (keep_small[i]) {
            free(keep_small[i]);
            frees++;
        }
    for (int i = 0; i < big; i++, frees++)
        free(keep_big[i]);
    /* stdout is the same plain and traced; the counts depend on where the limit fell */
    printf("address space used up: %s\n", big > 100 && big < MAX_BIG ? "yes" : "no");
    fprintf(stderr, "hostile: mallocs=%d frees=%d leaked=0\n", mallocs, frees);
    return 0;
}

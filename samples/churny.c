// SPDX-License-Identifier: MIT
// A program that churns the allocator, with an exact number of temporary allocations (blocks
// freed before the same thread allocates again), for `memtrace report` and its tests.
// make_temporary(): 1000 x malloc(48) + free at once         1000 temporary
// keep_pairs():     500 x (malloc a, malloc b, free a, free b)  0 temporary (1000 allocations)
// The result line goes through write(2) from a stack buffer: no stdio allocation, and the
// C runtime allocates nothing else here, so the counts are exact:
//   memtrace-churny: temporary=1000 allocations=2000 site=make_temporary
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEMP_N 1000
#define PAIR_N 500

void *volatile sample_sink;

__attribute__((noinline)) static int make_temporary(void)
{
    for (int i = 0; i < TEMP_N; i++) {
        char *p = malloc(48);
        memset(p, 't', 48);
        sample_sink = p;
        free(p);
    }
    return TEMP_N;
}

__attribute__((noinline)) static int keep_pairs(void)
{
    for (int i = 0; i < PAIR_N; i++) {
        char *a = malloc(16), *b = malloc(200);
        memset(a, 'a', 16);
        memset(b, 'b', 200);
        sample_sink = a;
        free(a); /* the thread's last allocation was b: a is not temporary */
        free(b); /* the free of a came in between: b is not temporary either */
    }
    return 2 * PAIR_N;
}

int main(void)
{
    int temporary = make_temporary();
    int allocations = temporary + keep_pairs();
    char line[256];
    int n = snprintf(line, sizeof line,
                     "memtrace-churny: temporary=%d allocations=%d site=make_temporary\n"
                     "memtrace-sample: allocations=%d frees=%d leaked_bytes=0 leaked_blocks=0\n",
                     temporary, allocations, allocations, allocations);
    return write(STDOUT_FILENO, line, (size_t)n) == n ? 0 : 1;
}

// SPDX-License-Identifier: MIT
// A program started under an address space limit (`ulimit -v`, `prlimit --as`), as test
// harnesses and judges run programs: how much of that room is left to it under memtrace.
//   as_room size     prints its own address space at start (bytes, /proc/self/statm)
//   as_room fill     takes 1 MiB blocks until malloc fails, says how many on stderr (the
//                    figure depends on the run), frees them
//   as_room need K   takes K blocks of 1 MiB; exit 3 when one is refused
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1 << 20)
#define MAX_BLOCKS 100000

static void *block[MAX_BLOCKS];

__attribute__((noinline)) static void *take_mib(void)
{
    return malloc(MIB);
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

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "size") == 0) {
        printf("%lu\n", mapped_bytes());
        return 0;
    }
    int want = argc == 3 && strcmp(argv[1], "need") == 0 ? atoi(argv[2]) : MAX_BLOCKS;
    if (want < 0 || want > MAX_BLOCKS || (argc != 3 && (argc != 2 || strcmp(argv[1], "fill"))))
        return 2;
    int n = 0;
    while (n < want && (block[n] = take_mib()) != NULL)
        n++;
    for (int i = 0; i < n; i++)
        free(block[i]);
    if (argc == 3) {
        printf("%s %d MiB\n", n == want ? "got" : "short of", want);
        return n == want ? 0 : 3;
    }
    fprintf(stderr, "room: %d MiB\n", n);
    printf("filled\n");
    return 0;
}

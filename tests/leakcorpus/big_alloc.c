// SPDX-License-Identifier: MIT
// A 32 MiB allocation (mmap'ed by malloc) lost, and one kept: big blocks are blocks too.
// memtrace-vs-valgrind: known-difference: valgrind calls the lost block possibly lost:
// who_points_at finds 28 words in ld.so's symbol-version tables (anonymous rw mapping at 0x4835000)
// holding ELF version hashes such as 0x6969186, which fall 31 MB into the block only because
// valgrind puts the heap at 0x4a42040; natively the heap is at 0x55..., and memtrace's "definitely
// lost" is right
#include <stdlib.h>
#include <string.h>

static void *kept;

int main(void)
{
    void *volatile lost = malloc(32u << 20);
    memset(lost, 1, 4096);
    lost = NULL;
    kept = malloc((32u << 20) + 1);
    return 0;
}

// SPDX-License-Identifier: MIT
// A 32 MiB allocation (mmap'ed by malloc) lost, and one kept: big blocks are blocks too.
// memtrace-vs-valgrind: known-difference: under valgrind the lost block is possibly lost, not
// definitely: who_points_at finds 28 words in an anonymous rw segment below vgpreload_core
// (0x48360e8..0x48365c8) whose values fall 31 MB into the block only because valgrind puts the
// client heap at 0x4a42040; natively the heap is at 0x55..., such small numbers are no pointers,
// and memtrace's definite is right
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

// SPDX-License-Identifier: MIT
// Issue 13.1: a PROT_NONE guard page inside a live heap block, an unreadable mapping holding a
// pointer, and a page given back with MADV_DONTNEED. The scan must never fault; it reads
// what is readable (the block after its guard page too). Valgrind: 64 B definite, 1 MiB + 48 B
// reachable (the big block, and the one its readable tail points to), the pointer hidden in
// the PROT_NONE mapping is not seen: 40 B definite.
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

static char *big;

int main(void)
{
    big = malloc(1 << 20);
    char *guard = (char *)(((uintptr_t)big + 4095) & ~(uintptr_t)4095);
    *(void **)(guard + 2 * 4096) = malloc(48); /* after the guard page: still scanned */
    if (mprotect(guard, 4096, PROT_NONE) != 0)
        return 10;
    void **hidden = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (hidden == MAP_FAILED)
        return 11;
    hidden[0] = malloc(40);
    if (mprotect(hidden, 4096, PROT_NONE) != 0)
        return 12;
    void **gone = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (gone == MAP_FAILED)
        return 13;
    gone[0] = malloc(24); /* the page is dropped: the pointer with it, 24 B definite */
    if (madvise(gone, 8192, MADV_DONTNEED) != 0)
        return 14;
    void *p = malloc(64);
    p = NULL;
    return p != NULL;
}

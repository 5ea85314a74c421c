// SPDX-License-Identifier: MIT
// MADV_DONTNEED on pages of a live 1 MiB block: they read back as zeros, so the pointer that was
// stored in them is gone (its block lost); the pointer on a page left alone still holds.
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(void)
{
    char *big = malloc(1 << 20);
    char *page = (char *)(((uintptr_t)big + 4095) & ~(uintptr_t)4095);
    *(void **)(page + 64) = malloc(37);        /* zeroed below: lost */
    *(void **)(page + 8192 + 64) = malloc(39); /* untouched: reachable */
    return madvise(page, 4096, MADV_DONTNEED) != 0;
}

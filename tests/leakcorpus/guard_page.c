// SPDX-License-Identifier: MIT
// A PROT_NONE guard page made with mprotect inside a live heap block: the scan must skip the
// page, not fault on it, and still find the pointers around it.
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(void)
{
    char *big = malloc(1 << 20);
    char *page = (char *)(((uintptr_t)big + 4095) & ~(uintptr_t)4095);
    *(void **)(page + 8192) = malloc(31); /* after the guard page: reachable */
    *(void **)(big + 0) = malloc(29);     /* before it: reachable */
    if (mprotect(page + 4096, 4096, PROT_NONE) != 0)
        return 1;
    return 0;
}

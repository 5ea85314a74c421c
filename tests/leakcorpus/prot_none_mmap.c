// SPDX-License-Identifier: MIT
// Pointers in an anonymous mapping with a PROT_NONE page in its middle, and a block hidden
// behind PROT_NONE: readable mappings are roots, the inaccessible page is not.
#include <stdlib.h>
#include <sys/mman.h>

int main(void)
{
    char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 1;
    *(void **)(m + 16) = malloc(41);
    *(void **)(m + 4096 + 16) = malloc(43); /* made unreadable below */
    *(void **)(m + 8192 + 16) = malloc(47);
    if (mprotect(m + 4096, 4096, PROT_NONE) != 0)
        return 1;
    return 0;
}

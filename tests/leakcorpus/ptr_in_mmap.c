// SPDX-License-Identifier: MIT
// Pointers stored in anonymous mappings (a private one and a shared one) are roots: the blocks
// are reachable.
#include <stdlib.h>
#include <sys/mman.h>

int main(void)
{
    void **a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void **s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED || s == MAP_FAILED)
        return 1;
    a[10] = malloc(61);
    s[20] = malloc(62);
    a = s = NULL;
    return 0;
}

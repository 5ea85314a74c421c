// SPDX-License-Identifier: MIT
// Linked to ctor_linked: its constructor runs before main (and may run before the preload
// library's): one block lost, one kept.
#include <stdlib.h>

void *ctor_keep;

__attribute__((constructor)) static void lib_init(void)
{
    void *volatile lost = malloc(111);
    lost = NULL;
    ctor_keep = malloc(222);
}

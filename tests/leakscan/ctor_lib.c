// SPDX-License-Identifier: MIT
// Issue 13.3: a library whose constructor allocates before the preload library's constructor
// has run. Valgrind: 111 B definitely lost, 222 B reachable.
#include <stdlib.h>

void *ctor_lib_keep;

__attribute__((constructor)) static void ctor_lib_init(void)
{
    void *lost = malloc(111);
    (void)lost;
    ctor_lib_keep = malloc(222);
}

// SPDX-License-Identifier: MIT
// dlopen'ed by ctor_dlopen: its constructor allocates when it is loaded.
#include <stdlib.h>

void *dl_ctor_keep;

__attribute__((constructor)) static void dl_init(void)
{
    void *volatile lost = malloc(333);
    lost = NULL;
    dl_ctor_keep = malloc(444);
}

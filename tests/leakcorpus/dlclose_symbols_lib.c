// SPDX-License-Identifier: MIT
// dlopen'ed by dlclose_symbols, then closed: the blocks it kept in its own globals lose their only
// pointer when its data segment is unmapped.
#include <stdlib.h>

static void *lib_cache;

void lib_fill(void);
void lib_fill(void)
{
    lib_cache = malloc(640);
}

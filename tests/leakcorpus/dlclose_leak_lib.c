// SPDX-License-Identifier: MIT
// dlopen'ed by dlclose_leak, then closed: keeps blocks made by the program's allocator in its
// own globals, which lose their only pointer when its data segment is unmapped.
#include <stddef.h>

static void *lib_cache;

void lib_fill(void *(*allocate)(size_t), void **keep);
void lib_fill(void *(*allocate)(size_t), void **keep)
{
    lib_cache = allocate(640);
    *keep = allocate(650);
}

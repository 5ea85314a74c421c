// SPDX-License-Identifier: MIT
// dlopen, allocate through the library at once, dlclose, many times over: every block the
// library's function allocated must be charged to that function. The recorder learns of a new
// module from the allocations that follow a dlopen; its tick used to end that watch even when
// it came before the loader had listed the module, and then the library's stack was recorded
// before its module was, and printed as a bare address.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int cycles = atoi(argv[2]);
    for (int i = 0; i < cycles; i++) {
        void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            printf("dlopen: %s\n", dlerror());
            return 1;
        }
        void *sym = dlsym(h, "dlopen_cycle_alloc");
        void *(*lib_alloc)(size_t);
        memcpy(&lib_alloc, &sym, sizeof sym); /* ISO C has no object-to-function cast */
        (void)lib_alloc(10);                  /* kept: the library's own block, after it is gone */
        dlclose(h);
    }
    printf("cycles %d\n", cycles);
    return 0;
}

// SPDX-License-Identifier: MIT
// dlclose of a library that leaked: the block it held in its own .bss is lost once the library
// is unmapped; the block it handed to the program stays reachable. The blocks come from the
// program's own function, so memcheck can name the frame after the library is gone.
// corpus-lib: dlclose_leak_lib.c dlopen
#include <dlfcn.h>
#include <stdlib.h>

static void *kept;

static void *program_alloc(size_t n)
{
    return malloc(n);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h)
        return 3;
    void (*fill)(void *(*)(size_t), void **) =
        (void (*)(void *(*)(size_t), void **))dlsym(h, "lib_fill");
    if (!fill)
        return 4;
    fill(program_alloc, &kept);
    return dlclose(h) != 0;
}

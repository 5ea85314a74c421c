// SPDX-License-Identifier: MIT
// dlclose of a library that allocated and leaked in its own code: the block it held in its own
// .bss is lost once the library is unmapped.
// corpus-lib: dlclose_symbols_lib.c dlopen
// memtrace-vs-valgrind: known-difference: memcheck forgets a library's name and symbols at
// dlclose, so its stack of the block starts with a bare address and its innermost own frame is
// main's call; memtrace still names lib_fill in the library
#include <dlfcn.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h)
        return 3;
    void (*fill)(void) = (void (*)(void))dlsym(h, "lib_fill");
    if (!fill)
        return 4;
    fill();
    return dlclose(h) != 0;
}

// SPDX-License-Identifier: MIT
// Constructors of a dlopen'ed library (kept open): 333 bytes lost, 444 reachable.
// corpus-lib: ctor_dlopen_lib.c dlopen
#include <dlfcn.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    return dlopen(argv[1], RTLD_NOW) == 0;
}

// SPDX-License-Identifier: MIT
// Issue 13.5: dlopen and dlclose of a library, printf to stdout, nothing leaked. glibc's
// _dl_find_object segments and stdout's buffer are glibc's own. Valgrind: nothing left.
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    void *h = dlopen(argc > 1 ? argv[1] : "libz.so.1", RTLD_NOW);
    if (!h)
        return 10;
    if (dlclose(h) != 0)
        return 11;
    printf("clean\n");
    return 0;
}

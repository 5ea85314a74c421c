// SPDX-License-Identifier: MIT
// Dynamic TLS: a pointer in the __thread variable of a dlopen'ed library keeps its block
// reachable (through glibc's dynamic TLS block, itself reachable from the thread's DTV).
// corpus-lib: tls_dynamic_lib.c dlopen
#include <dlfcn.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h)
        return 3;
    void (*set)(size_t) = (void (*)(size_t))dlsym(h, "dyn_tls_set");
    if (!set)
        return 4;
    set(123);
    set(321); /* the 123-byte block is lost */
    return 0;
}

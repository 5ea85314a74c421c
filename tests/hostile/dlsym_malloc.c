// SPDX-License-Identifier: MIT
// The malloc family taken through dlsym on libc's own handle (as ctypes.CDLL("libc.so.6")
// and plugin loaders do) and through RTLD_NEXT: every call must be recorded (issue 17,
// item 3), and RTLD_NEXT must still mean "after the caller".
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* dlsym returns an object pointer: copied into a function pointer without a pedantic cast. */
#define LOOKUP(fn, handle, name)                                                                   \
    do {                                                                                           \
        void *sym_ = dlsym(handle, name);                                                          \
        memcpy(&fn, &sym_, sizeof sym_);                                                           \
    } while (0)

typedef void *(*alloc_fn)(size_t);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void (*free_fn)(void *);

void *kept[3];

int main(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (!libc)
        return 2;
    alloc_fn m, next;
    calloc_fn c;
    realloc_fn r;
    free_fn f;
    LOOKUP(m, libc, "malloc");
    LOOKUP(c, libc, "calloc");
    LOOKUP(r, libc, "realloc");
    LOOKUP(f, libc, "free");
    LOOKUP(next, RTLD_NEXT, "malloc");
    if (!m || !c || !r || !f || !next || dlsym(libc, "no_such_symbol") != NULL)
        return 3;
    kept[0] = m(1001);
    kept[1] = r(c(3, 100), 1002);
    kept[2] = next(1003);
    f(m(50));
    /* malloc, calloc, realloc, next's malloc, malloc: five allocations; the 50 bytes and the
     * calloc'ed block that realloc moved are freed */
    printf("hostile: mallocs=5 frees=2 leaked=%d\n", 1001 + 1002 + 1003);
    return 0;
}

// SPDX-License-Identifier: MIT
// A malloc wrapper of the simplest kind, preloaded before memtrace's library: it counts and
// forwards malloc and free to glibc by their own names, __libc_malloc and __libc_free.
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);

static unsigned long shim_calls;

void *malloc(size_t size)
{
    shim_calls++;
    return __libc_malloc(size);
}

void free(void *p)
{
    shim_calls++;
    __libc_free(p);
}

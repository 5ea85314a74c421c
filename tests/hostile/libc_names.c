// SPDX-License-Identifier: MIT
// Allocates through glibc's own names for its allocator (__libc_malloc, __libc_calloc,
// __libc_realloc, __libc_memalign, __libc_valloc, __libc_pvalloc, __libc_free), which memcheck
// counts like malloc and free, mixed with the standard names, and prints its counts. With
// argument "standard" it uses the standard names only: hostile.py runs it so behind a wrapper
// library (libc_names_shim) that forwards malloc and free to __libc_malloc and __libc_free.
// Its counts go out by write(2) from a stack buffer, so that stdio allocates nothing and the
// log's totals are the program's.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
extern void __libc_free(void *);

enum { ROUNDS = 1000 };

static unsigned long mallocs, frees, leaked;

static void *counted(void *p, size_t size, int keep)
{
    if (!p)
        exit(2);
    mallocs++;
    if (keep)
        leaked += size;
    return p;
}

static void libc_names(void)
{
    for (int i = 0; i < ROUNDS; i++) {
        size_t size = 16 + (size_t)i % 300;
        void *a = counted(__libc_malloc(size), size, 0);
        void *b = counted(__libc_calloc(4, size), 4 * size, 0);
        void *c = counted(__libc_memalign(64, size), size, i % 100 == 0);
        a = __libc_realloc(a, 2 * size); /* a realloc: one free and one allocation */
        counted(a, 2 * size, 0);
        frees++;
        __libc_free(a);
        frees++;
        free(b); /* the standard name frees what the other allocated, and the other way round */
        frees++;
        if (i % 100 != 0) {
            __libc_free(c);
            frees++;
        }
        void *d = counted(malloc(size), size, 0);
        __libc_free(d);
        frees++;
    }
    counted(__libc_valloc(100), 100, 1);
    counted(__libc_pvalloc(100), 100, 1); /* the size asked for */
}

static void standard_names(void)
{
    for (int i = 0; i < ROUNDS; i++) {
        size_t size = 16 + (size_t)i % 300;
        void *a = counted(malloc(size), size, i % 100 == 0);
        if (i % 100 != 0) {
            free(a);
            frees++;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "standard") == 0)
        standard_names();
    else
        libc_names();
    char line[128];
    int n = snprintf(line, sizeof line, "hostile: mallocs=%lu frees=%lu leaked=%lu\n", mallocs,
                     frees, leaked);
    return write(1, line, (size_t)n) == n ? 0 : 1;
}

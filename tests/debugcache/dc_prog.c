// SPDX-License-Identifier: MIT
// The program tests/debugcache/debugcache.py symbolizes through a compressed separate debug
// file: three blocks of 123 bytes leaked from leaky_site, and strdup's block from libc.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void *leaky_site(size_t n)
{
    return malloc(n); /* DEBUGCACHE_SITE */
}

int main(void)
{
    void *keep[3];
    for (int i = 0; i < 3; i++)
        keep[i] = leaky_site(123);
    char *s = strdup("debug cache");
    printf("%p %p %p %s\n", keep[0], keep[1], keep[2], s);
    return 0;
}

// SPDX-License-Identifier: MIT
// A block grown by realloc belongs to the last realloc call: one buffer kept, one lost.
#include <stdlib.h>

static char *kept;

static char *grow(char *p, size_t n)
{
    return realloc(p, n);
}

int main(void)
{
    char *p = NULL;
    for (size_t n = 16; n <= 4096; n *= 2)
        p = grow(p, n);
    kept = p;
    char *volatile q = malloc(10);
    q = grow(q, 5000);
    q = NULL;
    return 0;
}

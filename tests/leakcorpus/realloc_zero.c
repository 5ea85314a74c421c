// SPDX-License-Identifier: MIT
// realloc(p, 0): glibc frees p and returns NULL, so nothing is left of it (valgrind 3.19 as
// Debian builds it does the same).
#include <stdlib.h>

static void *kept;

int main(void)
{
    void *p = malloc(90);
    kept = realloc(p, 0);
    void *q = malloc(91);
    void *volatile r = realloc(q, 0);
    r = NULL;
    return 0;
}

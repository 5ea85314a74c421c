// SPDX-License-Identifier: MIT
// Blocks the C library allocates for the program (strdup, asprintf, getline): the innermost
// frame in the program is the call, and their fate is the program's.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *kept;

int main(void)
{
    char *volatile lost = strdup("a duplicated string");
    lost = NULL;
    kept = strndup("a longer duplicated string", 12);
    char *s = NULL;
    if (asprintf(&s, "%d-%s", 42, "formatted") < 0)
        return 1;
    s = NULL;
    return 0;
}

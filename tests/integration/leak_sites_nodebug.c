// SPDX-License-Identifier: MIT
// Four leaks from four calls in one function, built without debug information (no line
// numbers): memcheck gives four loss records, one for each return address, and so must
// memtrace (it merged them into one, shown at the first call's address). The sizes are
// distinct so that each record can be told by its bytes.
#include <stdio.h>
#include <stdlib.h>

static void *volatile sink;

int main(void)
{
    sink = malloc(100);
    sink = malloc(200);
    sink = calloc(1, 300);
    sink = malloc(400);
    sink = NULL;
    puts("leaked 100 200 300 400");
    return 0;
}

// SPDX-License-Identifier: MIT
// memcheck's length64 heuristic, not matched: a pointer 8 bytes into a block whose first word
// is zero (no newarray either), and one 16 bytes in: possibly lost both.
#include <stdint.h>
#include <stdlib.h>

static char *p8, *p16;

int main(void)
{
    uint64_t *a = malloc(8 + 120);
    a[0] = 0;
    p8 = (char *)(a + 1);
    uint64_t *b = malloc(16 + 100);
    b[0] = 100;
    b[1] = 100;
    p16 = (char *)(b + 2);
    return 0;
}

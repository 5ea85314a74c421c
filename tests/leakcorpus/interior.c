// SPDX-License-Identifier: MIT
// Interior pointers: a block reached only through a pointer into its middle is possibly lost,
// one with a pointer to its start as well is reachable; one byte past the end is no pointer.
#include <stdlib.h>

static char *mid, *both_start, *both_mid, *past_end;

int main(void)
{
    mid = (char *)malloc(100) + 37;
    both_start = malloc(90);
    both_mid = both_start + 45;
    past_end = (char *)malloc(80) + 80; /* points at the byte after the block: lost */
    return 0;
}

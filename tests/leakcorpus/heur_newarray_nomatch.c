// SPDX-License-Identifier: MIT
// memcheck's newarray heuristic, not matched: a pointer one word into a block whose first word
// is an element count that does not divide the rest (and is not the rest's length): possibly
// lost.
#include <stdlib.h>

static char *elems;

int main(void)
{
    size_t *b = malloc(8 + 100);
    b[0] = 7; /* 100 % 7 != 0, 100 != 7 */
    elems = (char *)(b + 1);
    return 0;
}

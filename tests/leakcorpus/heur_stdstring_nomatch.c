// SPDX-License-Identifier: MIT
// memcheck's stdstring heuristic, not matched: a pointer 3 words into a 64-byte block whose
// first words are {1, 2, 0}, so 3 words + capacity + 1 != 64: possibly lost.
#include <stdlib.h>

static char *str;
static char *str_long;

int main(void)
{
    size_t *rep = malloc(64);
    rep[0] = 1;
    rep[1] = 2;
    rep[2] = 0;
    str = (char *)(rep + 3);
    /* length > capacity: not a string rep either */
    size_t *r2 = malloc(3 * sizeof(size_t) + 9);
    r2[0] = 10;
    r2[1] = 8;
    r2[2] = 0;
    str_long = (char *)(r2 + 3);
    return 0;
}

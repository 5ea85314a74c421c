// SPDX-License-Identifier: MIT
// A lost block holding an interior pointer to another block: that block is indirectly lost
// (memcheck's clique walk accepts interior pointers), not possibly lost.
#include <stdlib.h>

struct owner {
    char *inner;
    long pad;
};

int main(void)
{
    struct owner *volatile o = malloc(sizeof *o);
    o->inner = (char *)malloc(200) + 50;
    o = NULL;
    return 0;
}

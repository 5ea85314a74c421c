// SPDX-License-Identifier: MIT
// A pointer left only in a freed block is no root: the block it pointed to is lost.
#include <stdlib.h>

int main(void)
{
    void **holder = malloc(64);
    holder[2] = malloc(17);
    free(holder);
    holder = NULL;
    return 0;
}

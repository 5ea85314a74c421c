// SPDX-License-Identifier: MIT
// A pointer stored at an address that is not 8-byte aligned is not seen: memcheck scans aligned
// words only, so the block is definitely lost.
#include <stdlib.h>
#include <string.h>

static char buffer[32];

int main(void)
{
    void *p = malloc(70);
    memcpy(buffer + 3, &p, sizeof p);
    p = NULL;
    return 0;
}

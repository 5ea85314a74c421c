// SPDX-License-Identifier: MIT
// malloc(0) returns a unique block of size 0: one lost (0 bytes in 1 blocks) and one kept.
#include <stdlib.h>

static void *kept;

int main(void)
{
    void *volatile lost = malloc(0);
    lost = NULL;
    kept = malloc(0);
    return 0;
}

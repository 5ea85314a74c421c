// SPDX-License-Identifier: MIT
// Pointers in initialized globals (.data): a block held by one is still reachable, a block whose
// only pointer was overwritten is definitely lost.
#include <stdlib.h>

static char dummy;
void *kept_data = &dummy; /* initialized: lives in .data */
struct holder {
    int tag;
    void *ptr;
} holder_data = {1, &dummy};

int main(void)
{
    kept_data = malloc(40);
    holder_data.ptr = malloc(56);
    void *lost = malloc(24);
    holder_data.ptr = lost;   /* the 56-byte block has no pointer left */
    holder_data.ptr = &dummy; /* nor has the 24-byte block */
    return 0;
}

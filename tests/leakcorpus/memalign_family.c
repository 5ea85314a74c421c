// SPDX-License-Identifier: MIT
// Every aligned allocator: posix_memalign, aligned_alloc, memalign, valloc, one lost and one
// kept each.
#include <malloc.h>
#include <stdlib.h>

static void *kept[4];

int main(void)
{
    void *p;
    if (posix_memalign(&p, 64, 100) != 0)
        return 1;
    p = NULL;
    if (posix_memalign(&kept[0], 256, 200) != 0)
        return 1;
    void *volatile q = aligned_alloc(128, 256);
    q = NULL;
    kept[1] = aligned_alloc(32, 96);
    q = memalign(512, 10);
    q = NULL;
    kept[2] = memalign(16, 24);
    q = valloc(5000);
    q = NULL;
    kept[3] = valloc(10);
    return 0;
}

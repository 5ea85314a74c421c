// SPDX-License-Identifier: MIT
// Many blocks from one call site: 1000 lost and 500 kept, in one loss record each.
#include <stdlib.h>

static void *kept[500];

int main(void)
{
    for (int i = 0; i < 1500; i++) {
        void *p = malloc(8 + (size_t)(i % 5));
        if (i % 3 == 0)
            kept[i / 3] = p;
    }
    return 0;
}

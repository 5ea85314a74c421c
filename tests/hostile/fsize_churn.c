// SPDX-License-Identifier: MIT
// See fsize_churn.h.
#include "fsize_churn.h"

#include <stdlib.h>
#include <sys/resource.h>

int fsize_churn(unsigned long *mallocs, unsigned long *frees)
{
    struct rlimit r = {4096, 4096};
    if (setrlimit(RLIMIT_FSIZE, &r) != 0)
        return -1;
    *mallocs = *frees = 0;
    for (int i = 0; i < 500000; i++) {
        void *volatile p = malloc(16 + (size_t)(i % 512));
        (*mallocs)++;
        if (i % 3) {
            free(p);
            (*frees)++;
        }
    }
    return 0;
}

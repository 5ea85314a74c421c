// SPDX-License-Identifier: MIT
// See counted_churn.h.
#include "counted_churn.h"

#include <stdlib.h>

void counted_churn(counts_t *c, int n, size_t base, int keep_every)
{
    for (int i = 0; i < n; i++) {
        void *p = malloc(base + (size_t)i);
        c->mallocs++;
        if (i % keep_every == 0) {
            c->leaked += base + (size_t)i;
            continue; /* kept on purpose */
        }
        free(p);
        c->frees++;
    }
}

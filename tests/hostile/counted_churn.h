// SPDX-License-Identifier: MIT
// For the hostile programs that print their own counts for the test to compare with the log
// (exec_fail, raw_exec, underscore_fork).
#ifndef MT_HOSTILE_COUNTED_CHURN_H
#define MT_HOSTILE_COUNTED_CHURN_H

#include <stddef.h>

typedef struct counts {
    unsigned long mallocs, frees, leaked; /* leaked: bytes kept on purpose */
} counts_t;

/* n allocations of base + i bytes; every keep_every-th (from the first) is kept on purpose,
 * the others freed at once; all counted in *c. */
void counted_churn(counts_t *c, int n, size_t base, int keep_every);

#endif

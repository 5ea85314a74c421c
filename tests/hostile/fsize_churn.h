// SPDX-License-Identifier: MIT
// For the hostile programs whose log outgrows a file size limit (fsize_limit, stderr_takeover).
#ifndef MT_HOSTILE_FSIZE_CHURN_H
#define MT_HOSTILE_FSIZE_CHURN_H

/* Limits the size of files written to 4 KiB (RLIMIT_FSIZE), far below what memtrace's log
 * needs, then makes 500,000 allocations and frees two in three, counted in *mallocs and
 * *frees. 0, or -1 when the limit could not be set. */
int fsize_churn(unsigned long *mallocs, unsigned long *frees);

#endif

// SPDX-License-Identifier: MIT
// Start-up check that the program's allocations reach memtrace's hooks (see allocator_check.c).
#ifndef MT_ALLOCATOR_CHECK_H
#define MT_ALLOCATOR_CHECK_H

#include <stddef.h>

/* How a finding is told: a NOTICE record (enum mt_notice_code, text). The recorder passes its
 * own (mt_rec_notice), so that this check, below it, never calls up into it. */
typedef void (*mt_acheck_notice_fn)(unsigned code, const char *text);

/* Tells notice what it found (and, when allocations are lost, writes one stderr line). Guard
 * set, log open. */
void mt_acheck_run(mt_acheck_notice_fn notice);

/* When the malloc the hooks forward to is not glibc's, tells own_ranges.h where its code is,
 * so that the mappings it makes for itself are no roots for the leak check. Guard set. */
void mt_acheck_foreign_allocator(void);

typedef size_t (*mt_usable_fn)(void *);
/* glibc's malloc_usable_size when the malloc the hooks forward to is glibc's (then it and
 * mallinfo2 describe the blocks we record); NULL for any other allocator. Guard set. */
mt_usable_fn mt_acheck_glibc_usable(void);

#endif

// SPDX-License-Identifier: MIT
// Start-up check that the program's allocations reach memtrace's hooks (see allocator_check.c).
#ifndef MT_ALLOCATOR_CHECK_H
#define MT_ALLOCATOR_CHECK_H

/* Writes a NOTICE (and, when allocations are lost, one stderr line). Guard set, log open. */
void mt_acheck_run(void);

#endif

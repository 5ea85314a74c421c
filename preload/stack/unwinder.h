// SPDX-License-Identifier: MIT
// Stack capture for every recorded event: libunwind local-only unw_backtrace into a caller
// stack buffer, with memtrace's own leading frames removed. Must run before any lock is taken.
#ifndef MT_UNWINDER_H
#define MT_UNWINDER_H

#include <stdint.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "base/mt_libc.h"

#define MT_UNWIND_MAX 256
/* The most frames of a recorded stack: a native capture (MT_UNWIND_MAX) with the Python
 * frames merged between them (python.h: MT_PY_MAX_FRAMES). An import nested through C is
 * that deep (pandas: 80 native and 40 Python frames on average, some 300 in all): cut at
 * MT_UNWIND_MAX, such a stack lost its outer frames, the script's line among them, and as
 * the cut fell at another frame for every depth its nodes were made anew at each. */
#define MT_STACK_MAX (MT_UNWIND_MAX + 128)

typedef struct mt_stack {
    uint32_t n;           /* frames in ip[], innermost first */
    uint64_t hash, hash2; /* of ip[0..n), for the trace tree's whole-stack cache (stack_hash.h) */
    uintptr_t *ip;
} mt_stack_t;

/* Finds the text ranges of the preload library and libunwind; call once at init. */
void mt_unwind_init(void);

/* Captures a stack into buf (MT_UNWIND_MAX entries) and fills st: from the frame whose
 * registers unw_getcontext saved in from, or from the caller's when from is NULL. A context
 * lets the walk run on another stack than the one it walks (thread_slots.h). */
void mt_unwind_capture(mt_stack_t *st, uintptr_t *buf, unw_context_t *from);

/* Frames looked at before giving up on finding the interpreter loop (see below). */
#define MT_UNWIND_SHORT 8

/* For Python: captures the stack up to and including the innermost frame inside [lo, hi)
 * (the interpreter loop), when one is among the first MT_UNWIND_SHORT frames, and returns 1;
 * the frames beyond it are the interpreter's and are replaced by the Python stack. Otherwise
 * captures the whole stack like mt_unwind_capture and returns 0. */
int mt_unwind_capture_until(mt_stack_t *st, uintptr_t *buf, uintptr_t lo, uintptr_t hi,
                            unw_context_t *from);

/* How many of buf's first n entries are memtrace's own frames, before the program's. */
uint32_t mt_unwind_own_prefix(const uintptr_t *buf, uint32_t n);

/* After dlclose: drop libunwind's cached unwind info so reused addresses unwind correctly. */
void mt_unwind_flush(void);

#endif

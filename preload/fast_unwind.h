// SPDX-License-Identifier: MIT
// A fast x86-64 stack walker for the common case: every frame's CFA is rsp+N or rbp+N and its
// return address is saved at a fixed offset from the CFA, per the DWARF CFI in .eh_frame. Rules
// are computed once per return address and cached for all threads. Anything else (expressions,
// signal frames, missing CFI) makes the whole capture fall back to libunwind, so stacks are
// exactly libunwind's. No malloc, no locks of its own (dl_iterate_phdr on a cache miss only).
#ifndef MT_FAST_UNWIND_H
#define MT_FAST_UNWIND_H

#include <stdint.h>

#include "mt_libc.h"

/* Walks the caller's stack: buf[0] is the return address into the caller of
 * mt_fastunw_capture, then one return address per outer frame, as unw_backtrace reports them.
 * Returns the number of entries (at most max), or -1 when some frame needs libunwind. */
int mt_fastunw_capture(uintptr_t *buf, int max);

/* The same, starting from a frame described by a return address into it (ra) and its rsp and
 * rbp at that point, as unw_getcontext saves them; buf[0] is that frame's own return address. */
int mt_fastunw_capture_from(uintptr_t ra, uintptr_t sp, uintptr_t bp, uintptr_t *buf, int max);

/* Forgets every cached rule (all threads, lazily): call when a module was unloaded. */
void mt_fastunw_flush(void);

#endif

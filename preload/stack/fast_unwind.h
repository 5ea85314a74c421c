// SPDX-License-Identifier: MIT
// A fast x86-64 stack walker for the common case: every frame's CFA is rsp+N or rbp+N and its
// return address is saved at a fixed offset from the CFA, per the DWARF CFI in .eh_frame. Rules
// are computed once per return address and cached for all threads. Anything else (expressions,
// signal frames, missing CFI) makes the whole capture fall back to libunwind, so stacks are
// exactly libunwind's. No malloc, no locks of its own (dl_iterate_phdr on a cache miss only).
#ifndef MT_FAST_UNWIND_H
#define MT_FAST_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

#include "base/mt_libc.h"

/* Walks the caller's stack: buf[0] is the return address into the caller of
 * mt_fastunw_capture, then one return address per outer frame, as unw_backtrace reports them.
 * Returns the number of entries (at most max), or -1 when some frame needs libunwind. */
int mt_fastunw_capture(uintptr_t *buf, int max);

/* The same, starting from a frame described by a return address into it (ra) and its rsp and
 * rbp at that point, as unw_getcontext saves them; buf[0] is that frame's own return address.
 * A stack walked before from the same point is taken from a per-thread cache when every stack
 * word its walk depended on still holds the same value (the same frames, without the walk). */
int mt_fastunw_capture_from(uintptr_t ra, uintptr_t sp, uintptr_t bp, uintptr_t *buf, int max);

/* A point of a walk: the rule key of the frame to do next (its return address - 1), with the
 * rsp and rbp it is entered with. */
typedef struct mt_fu_pos {
    uint64_t key, sp, bp;
} mt_fu_pos_t;

/* A stack word a walk read: where, and what it held. */
typedef struct mt_fu_word {
    uintptr_t addr, value;
} mt_fu_word_t;

/* Like mt_fastunw_capture_from, but stops one frame beyond the first return address whose
 * address - 1 is in [lo, hi) (an interpreter loop): buf ends with that frame's own return
 * address, and *next is where the walk would go on. Returns the entries written, 0 when no
 * such frame came before the end of the stack or max, -1 when some frame needs libunwind.
 * The walk continued from *next (mt_fastunw_record, with stack_lo = sp) gives the rest of
 * mt_fastunw_capture_from's stack. */
int mt_fastunw_until(uintptr_t ra, uintptr_t sp, uintptr_t bp, uintptr_t lo, uintptr_t hi,
                     uintptr_t *buf, int max, mt_fu_pos_t *next);

/* The walk from *from outward (stack_lo: the rsp the whole walk started from), recording in
 * order every stack word it reads (at most max_words, *nwords of them), the outermost CFA, and
 * whether from->bp was used (a CFA computed from it before a frame restored rbp). A later walk
 * from the same point (the same bp only if it was used) reads the same addresses in the same
 * order, and gives the same frames when every word still holds the value recorded and the
 * outermost CFA is within its own bound (stack_tail.h). Returns the entries written, or -1
 * when some frame needs libunwind or the words ran out. */
int mt_fastunw_record(const mt_fu_pos_t *from, uintptr_t stack_lo, uintptr_t *buf, int max,
                      mt_fu_word_t *words, int max_words, int *nwords, uintptr_t *cfa_max,
                      bool *bp_used);

/* The bound mt_fastunw_capture_from puts on a CFA: at most this far above the walk's start. */
#define MT_FU_STACK_MAX (1ull << 30)

/* Forgets every cached rule (all threads, lazily): call when a module was unloaded. */
void mt_fastunw_flush(void);

#endif

// SPDX-License-Identifier: MIT
// The outer part of a native stack (its tail, beyond an interpreter loop's frame), reused from
// one event to the next without walking it: a tail is kept with every stack word its walk read,
// and is the same tail while those words hold the same values. Writer lock held for the table;
// no allocation (mmap), no syscall under the lock, never reads a word the walk would not.
#ifndef MT_STACK_TAIL_H
#define MT_STACK_TAIL_H

#include <stdbool.h>
#include <stdint.h>

#include "stack/fast_unwind.h"

#include "stack/unwinder.h"

/* A tail as long as a whole capture: one cut there has all the frames a capture keeps. */
#define MT_TAIL_FRAMES MT_UNWIND_MAX
#define MT_TAIL_WORDS (2 * MT_TAIL_FRAMES) /* a return address and a saved rbp per frame */

typedef struct mt_tail {
    mt_fu_pos_t from;  /* where its walk started (from.bp matters only when bp_used) */
    uintptr_t cfa_max; /* the outermost CFA: within MT_FU_STACK_MAX of the whole walk's start */
    /* The frames' two hashes (stack_hash.h): names them in other caches' keys, so that a tail
     * walked again after its slot was taken names the same frames the same way. */
    uint64_t stamp, stamp2;
    uint32_t n, nwords;
    bool bp_used, kept; /* kept: a slot of the table, not the walk's own copy */
    uintptr_t ip[MT_TAIL_FRAMES];
    mt_fu_word_t words[MT_TAIL_WORDS];
} mt_tail_t;

/* No lock (the walk may take the loader's): walks the whole stack from *from, as the fast
 * unwinder would from there on, into t, at most MT_TAIL_FRAMES frames. stack_lo: the rsp the
 * event's walk started from. Returns 0, or -1 when the walk needs libunwind. */
int mt_tail_walk(mt_tail_t *t, const mt_fu_pos_t *from, uintptr_t stack_lo);

/*
 * Writer lock held. The tail walked from *from whose words all still hold what they held: the
 * fast unwinder's walk from there would read the same words in the same order and make the same
 * frames. The words are read in the walk's order and the check stops at the first that
 * differs, so no address is read that the walk itself would not read. NULL when none.
 */
const mt_tail_t *mt_tail_find(const mt_fu_pos_t *from, uintptr_t stack_lo);

/* Writer lock held: keeps t and returns the kept copy; t itself when the table cannot be
 * mapped. */
const mt_tail_t *mt_tail_put(mt_tail_t *t);

/* Drops every tail (modules changed: the walker's rules may have). Writer lock held. */
void mt_tail_forget(void);

#endif

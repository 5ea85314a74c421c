// SPDX-License-Identifier: MIT
// The tails of native stacks (see stack_tail.h). Direct-mapped: a collision costs one walk.
#include "stack/stack_tail.h"

#include <string.h>

#include "base/mt_libc.h"
#include "stack/stack_hash.h"

#define MT_TAIL_SLOTS 128u /* 10 KiB each: 1.3 MiB mapped on first use, touched as used */

static mt_tail_t *mt_tails;
static int mt_tails_failed;

int mt_tail_walk(mt_tail_t *t, const mt_fu_pos_t *from, uintptr_t stack_lo)
{
    int nwords = 0;
    uintptr_t cfa_max = 0;
    bool bp_used = false;
    int n = mt_fastunw_record(from, stack_lo, t->ip, MT_TAIL_FRAMES, t->words, MT_TAIL_WORDS,
                              &nwords, &cfa_max, &bp_used);
    /* A walk that filled every frame may have been cut short: not a whole tail. */
    /* A walk cut at MT_TAIL_FRAMES (MT_UNWIND_MAX) frames is as much as any capture keeps. */
    if (n < 0)
        return -1;
    t->from = *from;
    t->cfa_max = cfa_max;
    t->n = (uint32_t)n;
    t->nwords = (uint32_t)nwords;
    t->bp_used = bp_used;
    t->kept = false;
    mt_stack_t st = {.n = t->n, .ip = t->ip};
    mt_stack_hash(&st);
    t->stamp = st.hash;
    t->stamp2 = st.hash2;
    return 0;
}

/* rbp is left out: most tails do not use it, and it changes between activations. */
static inline mt_tail_t *mt_tail_slot(const mt_fu_pos_t *from)
{
    uint64_t h = (from->sp ^ (from->key << 17)) * 0x9e3779b97f4a7c15ull;
    return &mt_tails[h >> 57]; /* 7 bits: MT_TAIL_SLOTS */
}
_Static_assert(MT_TAIL_SLOTS == 128u, "mt_tail_slot takes 7 bits");

const mt_tail_t *mt_tail_find(const mt_fu_pos_t *from, uintptr_t stack_lo)
{
    if (MT_UNLIKELY(!mt_tails))
        return NULL;
    const mt_tail_t *t = mt_tail_slot(from);
    if (!t->kept || t->from.key != from->key || t->from.sp != from->sp ||
        (t->bp_used && t->from.bp != from->bp) || t->cfa_max - stack_lo > MT_FU_STACK_MAX)
        return NULL;
    for (uint32_t i = 0; i < t->nwords; i++)
        if (*(const uintptr_t *)t->words[i].addr != t->words[i].value)
            return NULL;
    return t;
}

const mt_tail_t *mt_tail_put(mt_tail_t *t)
{
    if (MT_UNLIKELY(!mt_tails)) {
        if (mt_tails_failed)
            return t;
        mt_tails = mt_map(MT_TAIL_SLOTS * sizeof(mt_tail_t));
        if (!mt_tails) {
            mt_tails_failed = 1;
            return t;
        }
    }
    mt_tail_t *slot = mt_tail_slot(&t->from);
    slot->from = t->from;
    slot->cfa_max = t->cfa_max;
    slot->stamp = t->stamp;
    slot->stamp2 = t->stamp2;
    slot->n = t->n;
    slot->nwords = t->nwords;
    slot->bp_used = t->bp_used;
    memcpy(slot->ip, t->ip, t->n * sizeof *t->ip);
    memcpy(slot->words, t->words, t->nwords * sizeof *t->words);
    slot->kept = true;
    return slot;
}

void mt_tail_forget(void)
{
    if (mt_tails)
        for (uint32_t i = 0; i < MT_TAIL_SLOTS; i++)
            mt_tails[i].kept = false;
}

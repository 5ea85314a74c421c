// SPDX-License-Identifier: MIT
// The whole-stack hash the trace tree's cache trusts: two 64-bit words that together identify
// a stack, so that a cache hit needs no walk over the tree to confirm it. Pure arithmetic, no
// state: unit tests drive it directly.
#ifndef MT_STACK_HASH_H
#define MT_STACK_HASH_H

#include "stack/unwinder.h"

static inline uint64_t mt_rotl64(uint64_t v, unsigned r)
{
    return v << r | v >> (64 - r);
}

/* Sets st->hash and st->hash2 from st->ip[0..st->n). Runs before the recorder lock. */
void mt_stack_hash(mt_stack_t *st);

#endif

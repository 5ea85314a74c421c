// SPDX-License-Identifier: MIT
// The functions (and inlined calls) containing a pc in one compile unit, computed once per
// range of pcs rather than once per pc. libdw answers by walking the unit's DIE tree from the
// top (dwarf_getscopes, twice when the pc is in an inlined call, plus once per inlining level);
// its answer depends only on which DIEs contain the pc, and that is the same for every pc
// between two consecutive range boundaries of the unit's DIEs. So each unit touched is walked
// once for its boundaries, and each such interval asks libdw at most once.
#ifndef MT_SCOPE_INDEX_H
#define MT_SCOPE_INDEX_H

#include <elfutils/libdw.h>

#include "log_reader.h"

/* Inlining deeper than this is cut (it also bounds the walk in a corrupt, cyclic DIE tree). */
enum { MT_MAX_INLINE_DEPTH = 128 };

typedef struct mt_scope_index mt_scope_index_t;

int mt_scope_index_new(mt_scope_index_t **out) MT_WUR;
void mt_scope_index_free(mt_scope_index_t *x);

/*
 * The functions containing pc (the DWARF's own address) in the unit cudie, innermost first:
 * inlined instances, then the function they are inlined into. *chain stays valid until the
 * next call. Returns how many (0 to MT_MAX_INLINE_DEPTH), or -ENOMEM.
 */
int mt_scope_index_chain(mt_scope_index_t *x, Dwarf_Die *cudie, Dwarf_Addr pc,
                         const Dwarf_Die **chain) MT_WUR;

/* The same answer asked of libdw every time, without the index (what the index keeps; tests
 * compare the two). chain holds MT_MAX_INLINE_DEPTH entries. */
int mt_scope_index_chain_direct(Dwarf_Die *cudie, Dwarf_Addr pc, Dwarf_Die *chain);

#endif

// SPDX-License-Identifier: MIT
// The stacks of trace nodes as sequences of frame identities, one uint32 per frame, two frames
// having the same identity exactly when mt_sites_stack_equal calls them equal. Merging the
// 360,000 stacks, 90 frames deep, of a clang compile into sites then hashes and compares
// 4-byte ids instead of copying 40-byte frames. Frames are symbolized once per location.
#ifndef MT_STACK_IDS_H
#define MT_STACK_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "symbolizer.h"

typedef struct mt_stack_ids mt_stack_ids_t;

/* A growable array of ids, reused from stack to stack. */
typedef struct mt_id_buf {
    uint32_t *v;
    size_t cap;
} mt_id_buf_t;

/* a and sym must outlive it. 0 or -ENOMEM. */
int mt_stack_ids_new(mt_stack_ids_t **out, const mt_analysis_t *a, mt_symbolizer_t *sym) MT_WUR;
void mt_stack_ids_free(mt_stack_ids_t *x);

/*
 * The ids of node's site stack: the frames mt_sites_node_stack gives, less the allocator's on
 * top (mt_filter_top), at b->v + *first. Returns how many, or -ENOMEM.
 */
int mt_stack_ids_site(mt_stack_ids_t *x, uint32_t node, mt_id_buf_t *b, size_t *first) MT_WUR;

/*
 * Symbolizes, in the order mt_stack_ids_site would, every location it would for node, so
 * that the symbolizer's files can be closed before sites are built. seen (one entry per
 * trace node, zeroed) stops a walk where an earlier one covered the rest of the stack.
 * 0 or -ENOMEM.
 */
int mt_stack_ids_warm(mt_stack_ids_t *x, uint32_t node, uint8_t *seen) MT_WUR;

/* Hash of an id sequence (equal sequences, equal hashes). */
uint64_t mt_stack_ids_hash(const uint32_t *v, size_t n);

#endif

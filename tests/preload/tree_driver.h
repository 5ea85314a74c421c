// SPDX-License-Identifier: MIT
// A narrow door into the recorder's trace tree and stack hash for test_trace_tree.c, which
// sees the analyzer's headers and only these operations of the recorder.
#ifndef MT_TREE_DRIVER_H
#define MT_TREE_DRIVER_H

#include <stdint.h>

#include "log_format.h"

int td_init(void);
/* Interns ip[0..n) (innermost first) and encodes the definitions it queued into enc; the leaf
 * id, 0 when out of memory. */
uint32_t td_intern(const uintptr_t *ip, uint32_t n, mt_enc_t *enc);
/* Interns as the recorder's Python paths do, holding the caller's writer lock: in a direct
 * section (mt_tree_direct_begin) into enc, then takes what is still queued, as mt_rec_defs. */
uint32_t td_intern_direct(const uintptr_t *ip, uint32_t n, mt_enc_t *enc);
/* Interns without taking the queued definitions (any thread). */
uint32_t td_intern_only(const uintptr_t *ip, uint32_t n);
/* Non-zero while definitions are queued. */
int td_pending(void);
/* Takes up to max (<= 64) queued definitions, oldest first; returns how many. */
uint32_t td_take(uint32_t *id, uint32_t *parent, uint64_t *ip, uint32_t max);
/* Encodes every queued definition into enc. */
void td_drain(mt_enc_t *enc);
/* The two hashes the tree's cache trusts. */
void td_hash(const uintptr_t *ip, uint32_t n, uint64_t *h1, uint64_t *h2);
void td_forget(void);
uint32_t td_epoch(void);

#endif

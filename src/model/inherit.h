// SPDX-License-Identifier: MIT
// The heap a forked child starts with. Its log begins where its parent's log has the FORK
// record the child's ORIGIN names: what the child inherited is the parent's heap replayed up
// to there (the recorder keeps no table of live blocks; the logs already say everything).
// Reads other files named by the log: only regular files, and only so many parents deep.
#ifndef MT_INHERIT_H
#define MT_INHERIT_H

#include "analysis.h"

/* Parents' logs read at most this deep (a fork of a fork of ...); deeper, the heap is unknown. */
#define MT_INHERIT_MAX_DEPTH 16

/*
 * At a fork child's ORIGIN (after PROCESS and the modules, before any event): defines the
 * parent's trace nodes in a (ids 1..K; a's own nodes then come at K + 1, ..., a->node_base is
 * K) and adds the blocks live at the FORK as ALLOC kind INHERITED, at time 0. When no parent's
 * log can be used, a->inherit is MT_INHERIT_UNKNOWN, a->inherit_note says why and the pass goes
 * on without them. 0 or -ENOMEM.
 */
int mt_inherit_import(mt_analysis_t *a) MT_WUR;

#endif

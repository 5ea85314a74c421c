// SPDX-License-Identifier: MIT
// The last step of the Python fast path: the whole stack of an object allocation, as a trace
// node id, keyed by its Python frames and the native key of python.h (the C call path from
// the interpreter loop to the allocator). Most objects come from a few lines through a few C
// paths, so a hit skips the location lookups, the merge, the stack hash and the trace-tree
// walk. Free of Python headers and tables, so that unit tests can drive it directly (the leaf
// step of nested stacks extends nodes through the trace tree, which they can set up).
#ifndef MT_PYTHON_NODE_CACHE_H
#define MT_PYTHON_NODE_CACHE_H

#include <stdint.h>

#include "python/python.h"

/* Two independent hashes of every frame's identity (code, offset, name, file, first line) and
 * of the native key; both must match for a hit, so a false hit needs a 128-bit collision. */
typedef struct mt_pync_key {
    uint64_t h1, h2;
    uint32_t npy;
} mt_pync_key_t;

/* No lock needed: reads the frames only. */
void mt_pync_key(mt_pync_key_t *out, const mt_pyframe_t *py, uint32_t npy,
                 const mt_pynative_key_t *native);

/* Writer lock held for both. get returns the node id stored for key in this trace-tree epoch
 * (trace_tree.h), or 0; put stores one. */
uint32_t mt_pync_get(const mt_pync_key_t *key, uint32_t epoch);
void mt_pync_put(const mt_pync_key_t *key, uint32_t epoch, uint32_t node);
/*
 * The prefix cache of nested stacks (C code between Python frames, as when an import runs a
 * module's body): the node of everything outward of the innermost Python frame. Keyed by the
 * other Python frames, whether the innermost one is its loop's first, and the loop's call site
 * (eval_ip: the return address into the innermost loop), hashed without a lock (npy >= 2), and
 * by the stamp of the native tail beyond that loop (stack_tail.h, whose start is the loop's
 * own return address), compared exactly. Writer
 * lock held for get (0 when missing) and put.
 */
void mt_pync_prefix_key(mt_pync_key_t *out, const mt_pyframe_t *py, uint32_t npy,
                        uintptr_t eval_ip);
/* The key, in the same table, of what lies beyond the innermost loop's frames: py are the
 * Python frames of the outer loops (npy >= 1); the node is keyed by them and the tail alone. */
void mt_pync_beyond_key(mt_pync_key_t *out, const mt_pyframe_t *py, uint32_t npy);
uint32_t mt_pync_prefix_get(const mt_pync_key_t *key, uint64_t stamp, uint64_t stamp2,
                            uint32_t epoch);
void mt_pync_prefix_put(const mt_pync_key_t *key, uint64_t stamp, uint64_t stamp2, uint32_t epoch,
                        uint32_t node);

/*
 * The last step of a nested stack (recorder.c): the node of prefix node extended by the
 * innermost Python frame's pseudo ip id0 and then by the native frames inner[n - 1] down to
 * inner[0] (from the loop's callee to the allocator), the node mt_tree_extend gives, cached by
 * (node, id0, inner frames) for the trace-tree epoch: a hit takes neither the tree's lock nor
 * its edge probes (about 7 cache misses). Writer lock held. 0 when out of memory.
 */
uint32_t mt_pync_leaf(uint32_t node, uint64_t id0, const uintptr_t *inner, uint32_t n,
                      uint32_t epoch);

/* Drops everything (the Python tables were reset). Writer lock held. */
void mt_pync_forget(void);

#endif

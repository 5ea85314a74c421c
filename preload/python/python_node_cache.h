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
#include "stack/stack_hash.h"

/* Two independent hashes of every frame's identity (code, offset, name, file, first line) and
 * of the native key; both must match for a hit, so a false hit needs a 128-bit collision. */
typedef struct mt_pync_key {
    uint64_t h1, h2;
    uint32_t npy;
} mt_pync_key_t;

/* One frame more on the inner side of the run h hashes (python.h: mt_pyhash_t). One multiply
 * on the h1 chain and none on h2, which combines the same fields differently: this runs for
 * every new frame of every Python event. */
static inline mt_pyhash_t mt_pync_hash_step(mt_pyhash_t h, const mt_pyframe_t *f)
{
    const uint64_t m1 = 0x9e3779b97f4a7c15ull;
    uint64_t code = (uintptr_t)f->code, name = (uintptr_t)f->name, file = (uintptr_t)f->file;
    uint64_t where = (uint64_t)f->offset << 32 | (uint64_t)f->is_entry << 31 |
                     ((uint32_t)f->firstlineno & 0x7fffffffu);
    /* gen: a code object made where another one died is another key (python.h) */
    uint64_t v = code ^ mt_rotl64(name, 21) ^ mt_rotl64(file, 42) ^ where ^ mt_rotl64(f->gen, 48);
    h.h1 = (h.h1 ^ v) * m1;
    h.h1 ^= h.h1 >> 29;
    h.h2 = mt_rotl64(h.h2, 13) + (code ^ mt_rotl64(where, 17)) + (name ^ file) + f->gen;
    return h;
}

/* The hash of no frame: where every run starts. */
static inline mt_pyhash_t mt_pync_hash_empty(void)
{
    return (mt_pyhash_t){0x243f6a8885a308d3ull, 0x13198a2e03707344ull};
}

/* The key of npy frames whose hash is h (their outer[npy]) and of the native key. */
void mt_pync_key_of(mt_pync_key_t *out, mt_pyhash_t h, uint32_t npy,
                    const mt_pynative_key_t *native);

/* The key of py[0..npy) and native, hashed whole. No lock needed: reads the frames only. */
void mt_pync_key(mt_pync_key_t *out, const mt_pyframe_t *py, uint32_t npy,
                 const mt_pynative_key_t *native);

/* The key of cap's frames from `from` outwards and native: mt_pync_key's, in O(1) when the
 * capture kept the frames' hashes (python.h: mt_pycap_t). */
void mt_pync_cap_key(mt_pync_key_t *out, const mt_pycap_t *cap, uint32_t from,
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
void mt_pync_prefix_key(mt_pync_key_t *out, const mt_pycap_t *cap, uintptr_t eval_ip);
/* The key, in the same table, of what lies beyond the innermost loop's frames: cap's frames
 * from from on, those of the outer loops (from < cap->n); the node is keyed by them and the
 * tail alone. */
void mt_pync_beyond_key(mt_pync_key_t *out, const mt_pycap_t *cap, uint32_t from);
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

// SPDX-License-Identifier: MIT
// The stack-to-node cache of Python allocations (see python_node_cache.h).
#include "python/python_node_cache.h"

#include <string.h>

#include "base/mt_libc.h"
#include "stack/stack_hash.h"
#include "stack/trace_tree.h"

#define MT_PYNC_SIZE 8192u /* direct-mapped: a collision only costs the slow path */

typedef struct mt_pync_entry {
    uint64_t h1, h2;
    uint32_t npy, epoch, node, unused;
} mt_pync_entry_t;

/* A nested stack's prefix node, for one native tail. */
typedef struct mt_pync_prefix {
    uint64_t h1, h2, stamp, stamp2;
    uint32_t npy, epoch, node, unused;
} mt_pync_prefix_t;

#define MT_PYNC_PREFIX_SIZE 4096u

/* A nested stack's leaf (mt_pync_leaf): h1 and h2 hash the prefix node, the innermost Python
 * frame and the inner native frames; n is their number. */
typedef struct mt_pync_leaf {
    uint64_t h1, h2;
    uint32_t n, epoch, node, unused;
} mt_pync_leaf_t;

/* Half of an import's events are at a leaf never seen before (module bodies run once): a
 * larger table catches no more (16 times larger: 0.1% more hits on `import pandas`), and this
 * one (64 KiB) stays in the cache. */
#define MT_PYNC_LEAF_SIZE 2048u

static mt_pync_entry_t *mt_pync;
static mt_pync_prefix_t *mt_pync_prefix;
static mt_pync_leaf_t *mt_pync_leaves;
static int mt_pync_failed;

void mt_pync_key_of(mt_pync_key_t *out, mt_pyhash_t h, uint32_t npy,
                    const mt_pynative_key_t *native)
{
    const uint64_t m1 = 0x9e3779b97f4a7c15ull;
    uint64_t h1 = (h.h1 ^ (native->ret * m1 ^ native->dist)) * m1;
    out->h1 = h1 ^ h1 >> 29;
    out->h2 = (h.h2 + mt_rotl64(native->dist + mt_rotl64(native->ret, 7), 13)) ^ npy;
    out->npy = npy;
}

void mt_pync_key(mt_pync_key_t *out, const mt_pyframe_t *py, uint32_t npy,
                 const mt_pynative_key_t *native)
{
    mt_pyhash_t h = mt_pync_hash_empty();
    for (uint32_t i = npy; i-- > 0;)
        h = mt_pync_hash_step(h, &py[i]);
    mt_pync_key_of(out, h, npy, native);
}

static inline mt_pync_entry_t *mt_pync_slot(const mt_pync_key_t *key)
{
    return &mt_pync[(key->h1 >> 17) & (MT_PYNC_SIZE - 1)];
}

uint32_t mt_pync_get(const mt_pync_key_t *key, uint32_t epoch)
{
    if (MT_UNLIKELY(!mt_pync))
        return 0;
    const mt_pync_entry_t *e = mt_pync_slot(key);
    if (e->h1 != key->h1 || e->h2 != key->h2 || e->npy != key->npy || e->epoch != epoch)
        return 0;
    return e->node;
}

void mt_pync_put(const mt_pync_key_t *key, uint32_t epoch, uint32_t node)
{
    if (MT_UNLIKELY(!mt_pync)) {
        if (mt_pync_failed)
            return;
        mt_pync = mt_map(MT_PYNC_SIZE * sizeof(mt_pync_entry_t));
        if (!mt_pync) {
            mt_pync_failed = 1; /* the slow path works without it */
            return;
        }
    }
    if (node == 0)
        return;
    *mt_pync_slot(key) = (mt_pync_entry_t){key->h1, key->h2, key->npy, epoch, node, 0};
}

void mt_pync_cap_key(mt_pync_key_t *out, const mt_pycap_t *cap, uint32_t from,
                     const mt_pynative_key_t *native)
{
    if (cap->outer)
        mt_pync_key_of(out, cap->outer[cap->n - from], cap->n - from, native);
    else
        mt_pync_key(out, cap->f + from, cap->n - from, native);
}

void mt_pync_prefix_key(mt_pync_key_t *out, const mt_pycap_t *cap, uintptr_t eval_ip)
{
    /* The innermost frame's is_entry says whether the next frames are its loop's too. */
    mt_pynative_key_t native = {0, eval_ip, cap->f[0].is_entry ? 1u : 2u, 0, 0};
    mt_pync_cap_key(out, cap, 1, &native);
}

void mt_pync_beyond_key(mt_pync_key_t *out, const mt_pycap_t *cap, uint32_t from)
{
    mt_pynative_key_t native = {0, 0, 3, 0, 0}; /* not a prefix key's: its ret is a loop's */
    mt_pync_cap_key(out, cap, from, &native);
}

static inline mt_pync_prefix_t *mt_pync_prefix_slot(const mt_pync_key_t *key, uint64_t stamp)
{
    uint64_t h = (key->h1 ^ stamp * 0xff51afd7ed558ccdull) >> 17;
    return &mt_pync_prefix[h & (MT_PYNC_PREFIX_SIZE - 1)];
}

uint32_t mt_pync_prefix_get(const mt_pync_key_t *key, uint64_t stamp, uint64_t stamp2,
                            uint32_t epoch)
{
    if (MT_UNLIKELY(!mt_pync_prefix))
        return 0;
    const mt_pync_prefix_t *e = mt_pync_prefix_slot(key, stamp);
    if (e->h1 != key->h1 || e->h2 != key->h2 || e->stamp != stamp || e->stamp2 != stamp2 ||
        e->npy != key->npy || e->epoch != epoch)
        return 0;
    return e->node;
}

void mt_pync_prefix_put(const mt_pync_key_t *key, uint64_t stamp, uint64_t stamp2, uint32_t epoch,
                        uint32_t node)
{
    if (MT_UNLIKELY(!mt_pync_prefix)) {
        if (mt_pync_failed)
            return;
        mt_pync_prefix = mt_map(MT_PYNC_PREFIX_SIZE * sizeof(mt_pync_prefix_t));
        if (!mt_pync_prefix) {
            mt_pync_failed = 1;
            return;
        }
    }
    if (node == 0)
        return;
    *mt_pync_prefix_slot(key, stamp) =
        (mt_pync_prefix_t){key->h1, key->h2, stamp, stamp2, key->npy, epoch, node, 0};
}

uint32_t mt_pync_leaf(uint32_t node, uint64_t id0, const uintptr_t *inner, uint32_t n,
                      uint32_t epoch)
{
    const uint64_t m1 = 0x9e3779b97f4a7c15ull;
    uint64_t h1 = ((uint64_t)node << 32 ^ id0) * m1, h2 = id0 + mt_rotl64(node, 29);
    for (uint32_t i = 0; i < n; i++) {
        h1 = (h1 ^ inner[i]) * m1;
        h1 ^= h1 >> 29;
        h2 = mt_rotl64(h2, 13) + inner[i];
    }
    h2 ^= n;
    mt_pync_leaf_t *e = NULL;
    if (MT_UNLIKELY(!mt_pync_leaves) && !mt_pync_failed) {
        mt_pync_leaves = mt_map(MT_PYNC_LEAF_SIZE * sizeof(mt_pync_leaf_t));
        if (!mt_pync_leaves)
            mt_pync_failed = 1; /* the tree gives the node all the same */
    }
    if (MT_LIKELY(mt_pync_leaves != NULL)) {
        e = &mt_pync_leaves[(h1 >> 17) & (MT_PYNC_LEAF_SIZE - 1)];
        if (e->h1 == h1 && e->h2 == h2 && e->n == n && e->epoch == epoch && e->node)
            return e->node;
    }
    /* One extension, one round trip of the tree's lock: inner then id0, outermost last. */
    uint32_t leaf;
    uintptr_t ips[64];
    if (MT_LIKELY(n < 64)) {
        memcpy(ips, inner, n * sizeof *ips);
        ips[n] = (uintptr_t)id0;
        leaf = mt_tree_extend(node, ips, n + 1);
    } else {
        leaf = mt_tree_extend(node, (const uintptr_t[]){(uintptr_t)id0}, 1);
        leaf = leaf ? mt_tree_extend(leaf, inner, n) : 0;
    }
    if (e && leaf)
        *e = (mt_pync_leaf_t){h1, h2, n, epoch, leaf, 0};
    return leaf;
}

void mt_pync_forget(void)
{
    if (mt_pync)
        memset(mt_pync, 0, MT_PYNC_SIZE * sizeof(mt_pync_entry_t));
    if (mt_pync_prefix)
        memset(mt_pync_prefix, 0, MT_PYNC_PREFIX_SIZE * sizeof(mt_pync_prefix_t));
    if (mt_pync_leaves)
        memset(mt_pync_leaves, 0, MT_PYNC_LEAF_SIZE * sizeof(mt_pync_leaf_t));
}

// SPDX-License-Identifier: MIT
// The recorder's cache of Python allocation stacks (preload/python/python_node_cache.c): a key must
// change with every field that makes two stacks differ, and a node is only returned for the
// key and trace-tree epoch it was stored under.
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "python/python_node_cache.h"
#include "stack/stack_hash.h"
#include "stack/trace_tree.h"

static const char names[4], files[4], codes[4];

/* Three frames, innermost first, as mt_py_capture reports them. */
static void frames(mt_pyframe_t *py)
{
    for (int i = 0; i < 3; i++)
        py[i] = (mt_pyframe_t){.code = &codes[i],
                               .name = &names[i],
                               .file = &files[0],
                               .firstlineno = 10 * (i + 1),
                               .offset = 4u * (uint32_t)(i + 3),
                               .is_entry = i == 2};
}

static mt_pync_key_t key_of(const mt_pyframe_t *py, uint32_t npy, const mt_pynative_key_t *nat)
{
    mt_pync_key_t k;
    mt_pync_key(&k, py, npy, nat);
    return k;
}

static int same_key(const mt_pync_key_t *a, const mt_pync_key_t *b)
{
    return a->h1 == b->h1 && a->h2 == b->h2 && a->npy == b->npy;
}

START_TEST(every_field_changes_the_key)
{
    mt_pyframe_t py[3], alt[3];
    frames(py);
    const mt_pynative_key_t nat = {(uintptr_t)&codes[0], 0x401234, 96, 12, 0};
    mt_pync_key_t base = key_of(py, 3, &nat);
    mt_pync_key_t again = key_of(py, 3, &nat);
    ck_assert(same_key(&base, &again));

    for (int field = 0; field < 7; field++) {
        for (int i = 0; i < 3; i++) {
            memcpy(alt, py, sizeof alt);
            switch (field) {
            case 0:
                alt[i].code = &codes[3];
                break;
            case 1:
                alt[i].name = &names[3];
                break;
            case 2:
                alt[i].file = &files[3];
                break;
            case 3:
                alt[i].firstlineno++;
                break;
            case 4:
                alt[i].offset += 2;
                break;
            case 5: /* a code object made where another one died (python.h) */
                alt[i].gen++;
                break;
            default:
                alt[i].is_entry = !alt[i].is_entry;
                break;
            }
            mt_pync_key_t k = key_of(alt, 3, &nat);
            ck_assert_msg(!same_key(&k, &base), "field %d of frame %d", field, i);
        }
    }
    mt_pync_key_t shorter = key_of(py, 2, &nat);
    ck_assert(!same_key(&shorter, &base));
    mt_pynative_key_t other = nat;
    other.ret++;
    mt_pync_key_t k = key_of(py, 3, &other);
    ck_assert(!same_key(&k, &base));
    other = nat;
    other.dist += 16;
    k = key_of(py, 3, &other);
    ck_assert(!same_key(&k, &base));
}
END_TEST

START_TEST(nodes_are_kept_per_key_and_epoch)
{
    mt_pyframe_t py[3];
    frames(py);
    const mt_pynative_key_t a = {0, 0x401234, 96, 12, 0};
    mt_pynative_key_t b = {0, 0x405678, 96, 12, 0};
    mt_pync_key_t ka = key_of(py, 3, &a), kb;
    ck_assert_uint_eq(mt_pync_get(&ka, 1), 0);
    /* Direct-mapped: a key in ka's slot replaces it, and the slots follow the frames' addresses
     * (static arrays: they move from run to run). b is the first of a few that lands
     * elsewhere; a cache that kept one entry in all would fail the bound. */
    for (int tries = 0;; tries++) {
        ck_assert_int_lt(tries, 64);
        kb = key_of(py, 3, &b);
        mt_pync_put(&ka, 1, 41);
        mt_pync_put(&kb, 1, 42);
        if (mt_pync_get(&ka, 1) == 41)
            break;
        b.ret += 16;
    }
    ck_assert_uint_eq(mt_pync_get(&ka, 1), 41);
    ck_assert_uint_eq(mt_pync_get(&kb, 1), 42);
    /* the trace tree forgot its ids: nothing cached before may be used */
    ck_assert_uint_eq(mt_pync_get(&ka, 2), 0);
    mt_pync_put(&ka, 2, 77);
    ck_assert_uint_eq(mt_pync_get(&ka, 2), 77);
    mt_pync_forget();
    ck_assert_uint_eq(mt_pync_get(&ka, 2), 0);
    ck_assert_uint_eq(mt_pync_get(&kb, 1), 0);
}
END_TEST

/* The node the tree gives node extended by id0 and then inner[n - 1] .. inner[0]. */
static uint32_t extended(uint32_t node, uint64_t id0, const uintptr_t *inner, uint32_t n)
{
    node = mt_tree_extend(node, (const uintptr_t[]){(uintptr_t)id0}, 1);
    return mt_tree_extend(node, inner, n);
}

static uint32_t prefix_node(uintptr_t outer)
{
    uintptr_t ip[2] = {outer + 1, outer};
    mt_stack_t st = {.ip = ip, .n = 2};
    mt_stack_hash(&st);
    return mt_tree_intern(&st);
}

/* A nested stack's leaf: whatever was cached, the node is the one the tree gives the same
 * prefix, Python frame and native frames; a change of any of them, or of the tree's epoch, is
 * never answered from an entry of before. */
START_TEST(leaves_are_the_trees_nodes)
{
    ck_assert_int_eq(mt_tree_init(false), 0);
    mt_pync_forget();
    const uint64_t line5 = MT_PY_IP_BIT | 5, line6 = MT_PY_IP_BIT | 6;
    const uintptr_t inner[3] = {0x401100, 0x401200, 0x401300};
    const uintptr_t other[3] = {0x401100, 0x401250, 0x401300};
    uint32_t p = prefix_node(0x400100), q = prefix_node(0x400200);
    ck_assert_uint_ne(p, 0);
    ck_assert_uint_ne(p, q);

    uint32_t epoch = mt_tree_epoch();
    uint32_t leaf = mt_pync_leaf(p, line5, inner, 3, epoch);
    ck_assert_uint_ne(leaf, 0);
    ck_assert_uint_eq(leaf, extended(p, line5, inner, 3));
    ck_assert_uint_eq(mt_pync_leaf(p, line5, inner, 3, epoch), leaf); /* from the cache */

    /* the same code object at another line, another prefix, other native frames, fewer */
    uint32_t l6 = mt_pync_leaf(p, line6, inner, 3, epoch);
    ck_assert_uint_ne(l6, leaf);
    ck_assert_uint_eq(l6, extended(p, line6, inner, 3));
    uint32_t lq = mt_pync_leaf(q, line5, inner, 3, epoch);
    ck_assert_uint_ne(lq, leaf);
    ck_assert_uint_eq(lq, extended(q, line5, inner, 3));
    uint32_t lo = mt_pync_leaf(p, line5, other, 3, epoch);
    ck_assert_uint_ne(lo, leaf);
    ck_assert_uint_eq(lo, extended(p, line5, other, 3));
    uint32_t l2 = mt_pync_leaf(p, line5, inner + 1, 2, epoch);
    ck_assert_uint_ne(l2, leaf);
    ck_assert_uint_eq(l2, extended(p, line5, inner + 1, 2));
    /* and each is still its own after the others */
    ck_assert_uint_eq(mt_pync_leaf(p, line5, inner, 3, epoch), leaf);
    ck_assert_uint_eq(mt_pync_leaf(p, line6, inner, 3, epoch), l6);

    /* the tree forgot its edges (a module unloaded): new ids, none of before */
    mt_tree_forget();
    uint32_t epoch2 = mt_tree_epoch();
    ck_assert_uint_ne(epoch2, epoch);
    uint32_t p2 = prefix_node(0x400100);
    uint32_t again = mt_pync_leaf(p2, line5, inner, 3, epoch2);
    ck_assert_uint_ne(again, leaf);
    ck_assert_uint_eq(again, extended(p2, line5, inner, 3));

    /* the Python tables were reset: nothing cached survives, the tree answers */
    mt_pync_forget();
    ck_assert_uint_eq(mt_pync_leaf(p2, line6, inner, 3, epoch2), extended(p2, line6, inner, 3));

    /* a forked child's tree starts its ids again: the same prefix id then names a stack of
     * its own, and a leaf cached under an epoch of before must not be given for it */
    mt_tree_reset();
    ck_assert_uint_eq(prefix_node(0x400100), p);
    uint32_t stale = mt_pync_leaf(p, line5, inner, 3, epoch); /* stored under the old epoch */
    mt_tree_reset();
    uint32_t epoch3 = mt_tree_epoch();
    ck_assert_uint_eq(prefix_node(0x400100), p);
    ck_assert_uint_eq(extended(p, line6, inner, 3), stale); /* that id is line 6's now */
    uint32_t fresh = mt_pync_leaf(p, line5, inner, 3, epoch3);
    ck_assert_uint_ne(fresh, stale);
    ck_assert_uint_eq(fresh, extended(p, line5, inner, 3));
}
END_TEST

/* outer[c] for c = 0..npy, folded from the outermost frame inwards as the capture cache of
 * python_frames.c keeps them. */
static void hash_outer(mt_pyhash_t *outer, const mt_pyframe_t *py, uint32_t npy)
{
    outer[0] = mt_pync_hash_empty();
    for (uint32_t c = 1; c <= npy; c++)
        outer[c] = mt_pync_hash_step(outer[c - 1], &py[npy - c]);
}

/* A capture that kept its frames' hashes (python.h: mt_pycap_t, the deep stacks' path) and one
 * that did not (short stacks) give every suffix the same key, which is the frames' own; and a
 * hash kept for outer frames changes with every frame inward of them. */
START_TEST(kept_hashes_make_the_frames_keys)
{
    mt_pyframe_t py[3];
    frames(py);
    mt_pyhash_t outer[4];
    hash_outer(outer, py, 3);
    const mt_pynative_key_t nat = {0, 0x401234, 96, 12, 0};
    mt_pycap_t kept = {py, outer, 3, false}, bare = {py, NULL, 3, false};
    for (uint32_t from = 0; from < 3; from++) {
        mt_pync_key_t a, b, c;
        mt_pync_cap_key(&a, &kept, from, &nat);
        mt_pync_cap_key(&b, &bare, from, &nat);
        mt_pync_key(&c, py + from, 3 - from, &nat);
        ck_assert_msg(same_key(&a, &c) && same_key(&b, &c), "suffix from %u", from);
    }
    /* outer[c] covers the c outermost frames only: the same for a stack one frame deeper */
    mt_pyframe_t deeper[4];
    deeper[0] = py[0];
    deeper[0].offset += 40;
    memcpy(deeper + 1, py, sizeof py);
    mt_pyhash_t outer4[5];
    hash_outer(outer4, deeper, 4);
    for (int c = 0; c <= 3; c++)
        ck_assert(outer4[c].h1 == outer[c].h1 && outer4[c].h2 == outer[c].h2);
    ck_assert(outer4[4].h1 != outer[3].h1);
}
END_TEST

MT_SUITE(.name = "python_node_cache",
         .tests = MT_TESTS(every_field_changes_the_key, nodes_are_kept_per_key_and_epoch,
                           leaves_are_the_trees_nodes, kept_hashes_make_the_frames_keys));

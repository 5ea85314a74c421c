// SPDX-License-Identifier: MIT
// The recorder's cache of Python allocation stacks (preload/python/python_node_cache.c): a key must
// change with every field that makes two stacks differ, and a node is only returned for the
// key and trace-tree epoch it was stored under.
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "python/python_node_cache.h"

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
    const mt_pynative_key_t nat = {(uintptr_t)&codes[0], 0x401234, 96, 12};
    mt_pync_key_t base = key_of(py, 3, &nat);
    mt_pync_key_t again = key_of(py, 3, &nat);
    ck_assert(same_key(&base, &again));

    for (int field = 0; field < 6; field++) {
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
    const mt_pynative_key_t a = {0, 0x401234, 96, 12}, b = {0, 0x405678, 96, 12};
    mt_pync_key_t ka = key_of(py, 3, &a), kb = key_of(py, 3, &b);
    ck_assert_uint_eq(mt_pync_get(&ka, 1), 0);
    mt_pync_put(&ka, 1, 41);
    mt_pync_put(&kb, 1, 42);
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

MT_SUITE(.name = "python_node_cache",
         .tests = MT_TESTS(every_field_changes_the_key, nodes_are_kept_per_key_and_epoch));

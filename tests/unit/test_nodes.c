// SPDX-License-Identifier: MIT
// Unit tests of the trace-node table (nodes.h): an ip resolves to the module loaded when its
// node is defined (also after unload and address reuse), and bad ids are refused.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "module_record.h"
#include "modules.h"
#include "nodes.h"

START_TEST(node_resolution_at_definition_time)
{
    mt_modules_t *m;
    mt_nodes_t t;
    ck_assert_int_eq(mt_modules_new(&m), 0);
    ck_assert_int_eq(mt_nodes_init(&t), 0);
    ck_assert_int_eq(load(m, 10, 0x7f0000000000, "/lib/a.so"), 0);
    ck_assert_int_eq(mt_nodes_define(&t, m, 1, 0, 0x7f0000000123), 0);
    /* a.so is unloaded and b.so lands at the same address */
    ck_assert_int_eq(mt_modules_unload(m, 10), 0);
    ck_assert_int_eq(load(m, 11, 0x7f0000000000, "/lib/b.so"), 0);
    ck_assert_int_eq(mt_nodes_define(&t, m, 2, 1, 0x7f0000000456), 0);
    ck_assert_int_eq(mt_nodes_define(&t, m, 3, 2, 0x12345), 0);
    ck_assert_str_eq(mt_modules_get(m, mt_nodes_loc(&t, 1)->module)->path, "/lib/a.so");
    ck_assert_uint_eq(mt_nodes_loc(&t, 1)->rel, 0x123);
    ck_assert_str_eq(mt_modules_get(m, mt_nodes_loc(&t, 2)->module)->path, "/lib/b.so");
    ck_assert_uint_eq(mt_nodes_loc(&t, 2)->rel, 0x456);
    ck_assert_uint_eq(mt_nodes_loc(&t, 3)->module, MT_NO_MODULE);
    ck_assert_uint_eq(mt_nodes_loc(&t, 3)->rel, 0x12345);
    ck_assert_uint_eq(mt_nodes_depth(&t, 3), 3);
    ck_assert_uint_eq(t.v[3].parent, 2);
    mt_nodes_destroy(&t);
    mt_modules_free(m);
}
END_TEST

START_TEST(node_ids_validated)
{
    mt_modules_t *m;
    mt_nodes_t t;
    ck_assert_int_eq(mt_modules_new(&m), 0);
    ck_assert_int_eq(mt_nodes_init(&t), 0);
    ck_assert_int_eq(mt_nodes_define(&t, m, 0, 0, 1), -EINVAL);
    ck_assert_int_eq(mt_nodes_define(&t, m, 1, 5, 1), -EINVAL);
    ck_assert_int_eq(mt_nodes_define(&t, m, 1, 1, 1), -EINVAL); /* its own parent */
    ck_assert_int_eq(mt_nodes_define(&t, m, 1, 0, 1), 0);
    ck_assert_int_eq(mt_nodes_define(&t, m, 1, 0, 1), 0); /* identical repeat is harmless */
    ck_assert_int_eq(mt_nodes_define(&t, m, 1, 0, 2), -EEXIST);
    ck_assert_int_eq(mt_nodes_define(&t, m, 1000000, 1, 2), -EINVAL);
    ck_assert_int_eq(mt_nodes_define(&t, m, UINT32_MAX, 1, 2), -EINVAL);
    ck_assert(mt_nodes_valid(&t, 0));
    ck_assert(mt_nodes_valid(&t, 1));
    ck_assert(!mt_nodes_valid(&t, 2));
    ck_assert(!mt_nodes_valid(&t, 5000));
    /* dense growth past the initial capacity */
    for (uint32_t id = 2; id < 100000; id++)
        ck_assert_int_eq(mt_nodes_define(&t, m, id, id - 1, id), 0);
    ck_assert_uint_eq(mt_nodes_depth(&t, 99999), 99999);
    ck_assert_uint_eq(t.n, 100000);
    mt_nodes_destroy(&t);
    mt_modules_free(m);
}
END_TEST

MT_SUITE(.name = "nodes",
         .tests = MT_TESTS(node_resolution_at_definition_time, node_ids_validated));

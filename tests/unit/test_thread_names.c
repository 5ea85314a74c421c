// SPDX-License-Identifier: MIT
// Unit tests of thread names (thread_names.c): the last name a thread is given wins, a name
// is cut at a NUL, and what reads as a thread id.
#include <stdint.h>

#include "check_main.h"
#include "thread_names.h"

START_TEST(names_last_wins)
{
    mt_thread_names_t t = {0};
    ck_assert_ptr_null(mt_tnames_get(&t, 5));
    for (uint64_t tid = 1; tid <= 200; tid++)
        ck_assert_int_eq(mt_tnames_set(&t, tid, "prog", 4), 0);
    ck_assert_int_eq(mt_tnames_set(&t, 7, "worker-7", 8), 0);
    ck_assert_int_eq(mt_tnames_set(&t, 8, "a\0b", 3), 0); /* cut at the NUL */
    ck_assert_str_eq(mt_tnames_get(&t, 7), "worker-7");
    ck_assert_str_eq(mt_tnames_get(&t, 8), "a");
    ck_assert_str_eq(mt_tnames_get(&t, 200), "prog");
    ck_assert_uint_eq(t.n, 200);
    mt_tnames_destroy(&t);
    uint64_t v;
    ck_assert_int_eq(mt_tnames_is_tid("4242", &v), 1);
    ck_assert_uint_eq(v, 4242);
    ck_assert_int_eq(mt_tnames_is_tid("loader-1", &v), 0);
    ck_assert_int_eq(mt_tnames_is_tid("", &v), 0);
    ck_assert_int_eq(mt_tnames_is_tid("12345678901", &v), 0);
}
END_TEST

MT_SUITE(.name = "thread_names", .tests = MT_TESTS(names_last_wins));

// SPDX-License-Identifier: MIT
// The recorder's merge of Python frames into a native stack (preload/python/python_merge.c):
// each Python frame goes before the native frame of the eval call that runs it.
#include <check.h>

#include "check_main.h"
#include "log_format.h"
#include "python/python_merge.h"

#define PY(id) (MT_PY_IP_BIT | (id))

START_TEST(merge_places_python_frames_at_their_eval)
{
    /* native, innermost first: malloc, ext_fn, EVAL(inner), ext_call, EVAL(outer), main */
    const uintptr_t lo = 0x1000, hi = 0x2000;
    const uintptr_t native[] = {0x9000, 0x5000, 0x1100, 0x5100, 0x1200, 0x8000};
    /* Python, innermost first: f (entry of the inner eval), g, h (entry of the outer) */
    const uint64_t ids[] = {PY(1), PY(2), PY(3)};
    const uint32_t entry[] = {1, 0, 1};
    uintptr_t out[16];
    uint32_t n = mt_py_merge_ips(native, 6, ids, entry, 3, lo, hi, out, 16);
    const uintptr_t want[] = {0x9000, 0x5000, PY(1), 0x1100, 0x5100, PY(2), PY(3), 0x1200, 0x8000};
    ck_assert_uint_eq(n, 9);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_uint_eq(out[i], want[i]);

    /* The short unwind stops at the first eval: every Python frame goes before it, the ones
     * of outer evals after it (that eval frame is hidden in reports). */
    n = mt_py_merge_ips(native, 3, ids, entry, 3, lo, hi, out, 16);
    const uintptr_t want2[] = {0x9000, 0x5000, PY(1), 0x1100, PY(2), PY(3)};
    ck_assert_uint_eq(n, 6);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_uint_eq(out[i], want2[i]);

    /* A return address one past the end of the eval function still belongs to it. */
    const uintptr_t edge[] = {0x9000, hi};
    n = mt_py_merge_ips(edge, 2, ids, entry, 1, lo, hi, out, 16);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(out[1], PY(1));

    /* Never more than max frames. */
    n = mt_py_merge_ips(native, 6, ids, entry, 3, lo, hi, out, 4);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(out[3], 0x1100);

    /* No eval range known: native frames, then the Python ones. */
    n = mt_py_merge_ips(native, 2, ids, entry, 3, 0, 0, out, 16);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(out[2], PY(1));
}
END_TEST

MT_SUITE(.name = "python_merge", .tests = MT_TESTS(merge_places_python_frames_at_their_eval));

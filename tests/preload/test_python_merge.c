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
    /* native, innermost first: malloc, ext_fn, EVAL(inner), ext_call, EVAL(outer), main; the
     * interpreter's code is not known here (no interp range): only the eval function's */
    const mt_py_text_t text = {.eval_lo = 0x1000, .eval_hi = 0x2000};
    const uintptr_t native[] = {0x9000, 0x5000, 0x1100, 0x5100, 0x1200, 0x8000};
    /* Python, innermost first: f (entry of the inner eval), g, h (entry of the outer) */
    const uint64_t ids[] = {PY(1), PY(2), PY(3)};
    const uint32_t entry[] = {1, 0, 1};
    uintptr_t out[16];
    /* Nothing outward of the outermost Python frame: its eval, main (hidden in reports). */
    uint32_t n = mt_py_merge_ips(native, 6, ids, entry, 3, &text, out, 16);
    const uintptr_t want[] = {0x9000, 0x5000, PY(1), 0x1100, 0x5100, PY(2), PY(3)};
    ck_assert_uint_eq(n, 7);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_uint_eq(out[i], want[i]);

    /* The short unwind stops at the first eval: every Python frame goes before it, the ones
     * of outer evals after it (that eval frame is hidden in reports). */
    n = mt_py_merge_ips(native, 3, ids, entry, 3, &text, out, 16);
    const uintptr_t want2[] = {0x9000, 0x5000, PY(1), 0x1100, PY(2), PY(3)};
    ck_assert_uint_eq(n, 6);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_uint_eq(out[i], want2[i]);

    /* A return address one past the end of the eval function still belongs to it. */
    const uintptr_t edge[] = {0x9000, text.eval_hi};
    n = mt_py_merge_ips(edge, 2, ids, entry, 1, &text, out, 16);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(out[1], PY(1));

    /* Never more than max frames. */
    n = mt_py_merge_ips(native, 6, ids, entry, 3, &text, out, 4);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(out[3], 0x1100);

    /* No eval range known: native frames, then the Python ones. */
    const mt_py_text_t none = {0};
    n = mt_py_merge_ips(native, 2, ids, entry, 3, &none, out, 16);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(out[2], PY(1));
}
END_TEST

START_TEST(merge_leaves_out_the_interpreter_s_own_frames)
{
    /* The interpreter's code is [0x1000, 0x3000): the eval loop and its helpers (0x2100, a
     * call path such as _PyObject_MakeTpCall; 0x2200, PyObject_Malloc). Reports hide these
     * in any stack with a Python frame, so the recorder does not write them. */
    const mt_py_text_t text = {
        .eval_lo = 0x1000, .eval_hi = 0x2000, .interp_lo = 0x1000, .interp_hi = 0x3000};
    /* malloc, PyObject_Malloc, ext_fn, MakeTpCall, EVAL(inner), ext_call, EVAL(outer), main */
    const uintptr_t native[] = {0x9000, 0x2200, 0x5000, 0x2100, 0x1100, 0x5100, 0x1200, 0x8000};
    const uint64_t ids[] = {PY(1), PY(2), PY(3)};
    const uint32_t entry[] = {1, 0, 1};
    uintptr_t out[16];
    uint32_t n = mt_py_merge_ips(native, 8, ids, entry, 3, &text, out, 16);
    const uintptr_t want[] = {0x9000, 0x5000, PY(1), 0x5100, PY(2), PY(3)};
    ck_assert_uint_eq(n, 6);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_uint_eq(out[i], want[i]);

    /* Without Python frames the native stack is all there is: nothing is left out. */
    n = mt_py_merge_ips(native, 8, ids, entry, 0, &text, out, 16);
    ck_assert_uint_eq(n, 8);
    ck_assert_uint_eq(out[1], 0x2200);

    /* The frames of an extension's call path in place: the interpreter's dropped. */
    /* A return address at the text's end is its last call's; one past it is not. */
    uintptr_t inner[] = {0x9000, 0x2200, 0x5000, 0x3000, 0x3001};
    n = mt_py_drop_interp(inner, 5, &text);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(inner[1], 0x5000);
    ck_assert_uint_eq(inner[2], 0x3001);
}
END_TEST

MT_SUITE(.name = "python_merge", .tests = MT_TESTS(merge_places_python_frames_at_their_eval,
                                                   merge_leaves_out_the_interpreter_s_own_frames));

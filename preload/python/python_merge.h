// SPDX-License-Identifier: MIT
// The merge of Python frames into a native stack, apart from the rest of python.h so that unit
// tests (which see the analyzer's headers) can use it. No allocation, no locks, no tables.
#ifndef MT_PYTHON_MERGE_H
#define MT_PYTHON_MERGE_H

#include <stdbool.h>
#include <stdint.h>

/* The interpreter's text: the eval loop's function, and the code of the module that holds it
 * (python3.11 itself, or libpython). Zero ranges when unknown. */
typedef struct mt_py_text {
    uintptr_t eval_lo, eval_hi;
    uintptr_t interp_lo, interp_hi;
} mt_py_text_t;

/* A native frame (a return address) in the interpreter's code: in a stack with Python frames,
 * reports hide it (src/symbols/sites.c), so it is not recorded either. */
static inline bool mt_py_text_interp(const mt_py_text_t *t, uintptr_t ip)
{
    return ip - 1 >= t->interp_lo && ip - 1 < t->interp_hi;
}

/* Merges native[] (innermost first) with the Python frames' pseudo ips ids[] (innermost
 * first; entry[i] marks the first frame of a C-level _PyEval_EvalFrameDefault call) into out:
 * before each native frame inside the eval function's text come the Python frames that eval
 * runs, up to and including the next entry frame. Python frames no eval claimed go last.
 * With Python frames (npy > 0) the stack keeps what reports show of it: no native frame of
 * the interpreter's code, and nothing outward of the outermost Python frame (the eval loop
 * that runs it, the interpreter's start-up, a thread's start). Returns the count (at most
 * max). */
uint32_t mt_py_merge_ips(const uintptr_t *native, uint32_t nn, const uint64_t *ids,
                         const uint32_t *entry, uint32_t npy, const mt_py_text_t *text,
                         uintptr_t *out, uint32_t max);

/* Drops the native frames of the interpreter's code from ips[0..n) in place (a stack with
 * Python frames); returns the count kept. */
uint32_t mt_py_drop_interp(uintptr_t *ips, uint32_t n, const mt_py_text_t *text);

#endif

// SPDX-License-Identifier: MIT
// The merge of Python frames into a native stack, apart from the rest of python.h so that unit
// tests (which see the analyzer's headers) can use it. No allocation, no locks, no tables.
#ifndef MT_PYTHON_MERGE_H
#define MT_PYTHON_MERGE_H

#include <stdint.h>

/* Merges native[] (innermost first) with the Python frames' pseudo ips ids[] (innermost
 * first; entry[i] marks the first frame of a C-level _PyEval_EvalFrameDefault call) into out:
 * before each native frame inside the eval function's text [lo, hi) come the Python frames
 * that eval runs, up to and including the next entry frame. Python frames no eval claimed go
 * last. Returns the count (at most max). */
uint32_t mt_py_merge_ips(const uintptr_t *native, uint32_t nn, const uint64_t *ids,
                         const uint32_t *entry, uint32_t npy, uintptr_t lo, uintptr_t hi,
                         uintptr_t *out, uint32_t max);

#endif

// SPDX-License-Identifier: MIT
// The merge of Python frames into a native stack (see python.h), kept free of Python headers
// and of any table so that unit tests can drive it directly. No allocation, no locks.
#include "python/python_merge.h"

uint32_t mt_py_merge_ips(const uintptr_t *native, uint32_t nn, const uint64_t *ids,
                         const uint32_t *entry, uint32_t npy, const mt_py_text_t *text,
                         uintptr_t *out, uint32_t max)
{
    uint32_t o = 0, pi = 0;
    for (uint32_t i = 0; i < nn && o < max; i++) {
        uintptr_t ip = native[i];
        /* Return addresses point after the call; ip - 1 is inside the caller even when the
         * call is the last instruction of the function. */
        if (pi < npy && ip - 1 >= text->eval_lo && ip - 1 < text->eval_hi) {
            while (pi < npy && o < max) {
                out[o++] = (uintptr_t)ids[pi];
                if (entry[pi++])
                    break;
            }
            if (o >= max || pi == npy)
                return o; /* the rest is outward of the outermost Python frame */
        }
        if (npy > 0 && mt_py_text_interp(text, ip))
            continue;
        out[o++] = ip;
    }
    /* Python frames no eval frame claimed (the unwind stopped early, or the eval's range is
     * unknown): they still belong to the stack, as its outermost part. */
    while (pi < npy && o < max)
        out[o++] = (uintptr_t)ids[pi++];
    return o;
}

uint32_t mt_py_drop_interp(uintptr_t *ips, uint32_t n, const mt_py_text_t *text)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!mt_py_text_interp(text, ips[i]))
            ips[k++] = ips[i];
    return k;
}

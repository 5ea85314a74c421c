// SPDX-License-Identifier: MIT
// Growable arrays: one definition of the doubling reserve that buffers reused from stack to
// stack need, typed per buffer so that no pointer is cast. Header only; allocates only when
// asked to grow, and never shrinks.
#ifndef MT_GROW_H
#define MT_GROW_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

/* Defines BUF_T, a growable array of ELEM_T for MT_DEFINE_RESERVE: v, and cap elements. */
#define MT_DEFINE_BUF(BUF_T, ELEM_T)                                                               \
    typedef struct {                                                                               \
        ELEM_T *v;                                                                                 \
        size_t cap;                                                                                \
    } BUF_T;

/* Defines static int NAME(BUF_T *b, size_t need) for a BUF_T with members v (the array) and
 * cap (its elements, size_t): room for need elements, the capacity doubling from FIRST;
 * returns 0, or -ENOMEM with b unchanged. */
#define MT_DEFINE_RESERVE(NAME, BUF_T, FIRST)                                                      \
    static int NAME(BUF_T *b, size_t need)                                                         \
    {                                                                                              \
        if (need <= b->cap)                                                                        \
            return 0;                                                                              \
        size_t nc = b->cap ? b->cap : (FIRST);                                                     \
        while (nc < need)                                                                          \
            nc *= 2;                                                                               \
        void *nv = realloc(b->v, nc * sizeof *b->v);                                               \
        if (!nv)                                                                                   \
            return -ENOMEM;                                                                        \
        b->v = nv;                                                                                 \
        b->cap = nc;                                                                               \
        return 0;                                                                                  \
    }

#endif

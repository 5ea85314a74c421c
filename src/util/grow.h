// SPDX-License-Identifier: MIT
// Growable arrays: one definition of the doubling reserve (MT_DEFINE_RESERVE, typed per buffer;
// MT_GROW, for any array and capacity pair) and of the doubling of an open-addressing slot
// table (mt_grow_slots). No pointer is cast. Header only; allocates only when asked to grow,
// and never shrinks.
#ifndef MT_GROW_H
#define MT_GROW_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* Room for need elements of elem bytes in the array at *parray (any T **), whose capacity is
 * *cap elements, the capacity doubling from first: 0, or -ENOMEM with the array unchanged. For
 * arrays whose members are not MT_DEFINE_RESERVE's v and cap; call it through MT_GROW. The
 * pointer is read and written with memcpy, so that no T ** is cast to void **. */
static inline int mt_grow(void *parray, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : first;
    while (nc < need)
        nc *= 2;
    void *v;
    memcpy(&v, parray, sizeof v);
    void *nv = realloc(v, nc * elem);
    if (!nv)
        return -ENOMEM;
    memcpy(parray, &nv, sizeof nv);
    *cap = nc;
    return 0;
}

/* mt_grow for the array ARRAY (an lvalue of type T *) and its capacity CAP (a size_t lvalue). */
#define MT_GROW(ARRAY, CAP, NEED, FIRST) mt_grow(&(ARRAY), &(CAP), (NEED), sizeof *(ARRAY), (FIRST))

/* Doubles a slot table, from first slots when it has none: open addressing over a power of two
 * of slots, each 0 (empty) or an element's index + 1, probed linearly. Enters elements from
 * to n - 1 again, hash(arg, i) giving the hash of element i. 0, or -ENOMEM with the table
 * unchanged. */
static inline int mt_grow_slots(uint32_t **slots, size_t *cap, size_t first, size_t from, size_t n,
                                uint64_t (*hash)(const void *arg, size_t i), const void *arg)
{
    size_t nc = *cap ? *cap * 2 : first;
    uint32_t *ns = calloc(nc, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = from; i < n; i++) {
        size_t j = hash(arg, i) & (nc - 1);
        while (ns[j])
            j = (j + 1) & (nc - 1);
        ns[j] = (uint32_t)i + 1;
    }
    free(*slots);
    *slots = ns;
    *cap = nc;
    return 0;
}

#endif

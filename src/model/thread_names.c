// SPDX-License-Identifier: MIT
// Thread names (see thread_names.h): a hash by tid of malloc'ed strings. Called once per
// THREAD_NAME record, a few per thread: nothing here is on the per-event path.
#include "thread_names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t mt_tnames_home(uint64_t tid, size_t mask)
{
    return (size_t)((tid * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static int mt_tnames_grow(mt_thread_names_t *t)
{
    size_t ocap = t->v ? t->mask + 1 : 0, ncap = ocap ? ocap * 2 : 64;
    mt_tname_t *nv = calloc(ncap, sizeof *nv);
    if (!nv)
        return -ENOMEM;
    for (size_t i = 0; i < ocap; i++) {
        if (!t->v[i].name)
            continue;
        size_t j = mt_tnames_home(t->v[i].tid, ncap - 1);
        while (nv[j].name)
            j = (j + 1) & (ncap - 1);
        nv[j] = t->v[i];
    }
    free(t->v);
    t->v = nv;
    t->mask = ncap - 1;
    return 0;
}

int mt_tnames_set(mt_thread_names_t *t, uint64_t tid, const char *name, size_t len)
{
    if ((!t->v || (t->n + 1) * 2 > t->mask + 1) && mt_tnames_grow(t) < 0)
        return -ENOMEM;
    const char *nul = memchr(name, '\0', len);
    if (nul)
        len = (size_t)(nul - name);
    char *copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, name, len);
    copy[len] = '\0';
    size_t i = mt_tnames_home(tid, t->mask);
    while (t->v[i].name && t->v[i].tid != tid)
        i = (i + 1) & t->mask;
    if (t->v[i].name)
        free(t->v[i].name);
    else
        t->n++;
    t->v[i] = (mt_tname_t){tid, copy};
    return 0;
}

const char *mt_tnames_get(const mt_thread_names_t *t, uint64_t tid)
{
    if (!t->v)
        return NULL;
    for (size_t i = mt_tnames_home(tid, t->mask); t->v[i].name; i = (i + 1) & t->mask)
        if (t->v[i].tid == tid)
            return t->v[i].name;
    return NULL;
}

void mt_tnames_destroy(mt_thread_names_t *t)
{
    for (size_t i = 0; t->v && i <= t->mask; i++)
        free(t->v[i].name);
    free(t->v);
    memset(t, 0, sizeof *t);
}

int mt_tnames_is_tid(const char *s, uint64_t *tid)
{
    uint64_t v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n == 10)
            return 0;
        v = v * 10 + (uint64_t)(s[n] - '0');
    }
    if (n == 0)
        return 0;
    *tid = v;
    return 1;
}

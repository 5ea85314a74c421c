// SPDX-License-Identifier: MIT
// The compact address -> size map (size_map.h): linear probing with backward-shift deletion
// (no tombstones) in each shard; a shard doubles at 3/4 full, so right after it grew it is 3/8
// full: 32 bytes per block at worst, and while it grows only that shard exists twice.
#include "size_map.h"
#include "grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MT_SIZEMAP_FIRST 16u /* slots of a shard's first table */

static inline uint64_t mt_sizemap_hash(uint64_t addr)
{
    return addr * 0x9e3779b97f4a7c15ull;
}

static inline mt_sizemap_shard_t *mt_sizemap_shard(const mt_sizemap_t *m, uint64_t h)
{
    return (mt_sizemap_shard_t *)&m->shard[h >> 58];
}

static inline uint32_t mt_sizemap_home(uint64_t h, uint32_t mask)
{
    return (uint32_t)(h >> 20) & mask;
}

int mt_sizemap_init(mt_sizemap_t *m)
{
    memset(m, 0, sizeof *m);
    return 0;
}

void mt_sizemap_destroy(mt_sizemap_t *m)
{
    for (int i = 0; i < MT_SIZEMAP_SHARDS; i++) {
        free(m->shard[i].addr);
        free(m->shard[i].size);
    }
    free(m->big);
    memset(m, 0, sizeof *m);
}

/* Places (addr, size) in a table known to have room and not to hold addr. */
static void mt_sizemap_place(uint64_t *addrs, uint32_t *sizes, uint32_t mask, uint64_t addr,
                             uint32_t size)
{
    uint32_t i = mt_sizemap_home(mt_sizemap_hash(addr), mask);
    while (addrs[i])
        i = (i + 1) & mask;
    addrs[i] = addr;
    sizes[i] = size;
}

static int mt_sizemap_grow(mt_sizemap_shard_t *s)
{
    uint32_t cap = s->addr ? (s->mask + 1) * 2 : MT_SIZEMAP_FIRST;
    if (cap == 0) /* 2^32 slots in one shard: far beyond any real heap */
        return -ENOMEM;
    uint64_t *addrs = calloc(cap, sizeof *addrs);
    uint32_t *sizes = malloc((size_t)cap * sizeof *sizes);
    if (!addrs || !sizes) {
        free(addrs);
        free(sizes);
        return -ENOMEM;
    }
    if (s->addr) {
        for (uint32_t i = 0; i <= s->mask; i++)
            if (s->addr[i])
                mt_sizemap_place(addrs, sizes, cap - 1, s->addr[i], s->size[i]);
        free(s->addr);
        free(s->size);
    }
    s->addr = addrs;
    s->size = sizes;
    s->mask = cap - 1;
    return 0;
}

static int mt_sizemap_big_put(mt_sizemap_t *m, uint64_t addr, uint64_t size)
{
    if (MT_GROW(m->big, m->big_cap, m->nbig + 1, 8) < 0)
        return -ENOMEM;
    m->big[m->nbig++] = (mt_sizemap_big_t){addr, size};
    return 0;
}

static uint64_t mt_sizemap_big_take(mt_sizemap_t *m, uint64_t addr)
{
    for (size_t i = 0; i < m->nbig; i++) {
        if (m->big[i].addr == addr) {
            uint64_t size = m->big[i].size;
            m->big[i] = m->big[--m->nbig];
            return size;
        }
    }
    return UINT32_MAX; /* not reached for a consistent map */
}

int mt_sizemap_put(mt_sizemap_t *m, uint64_t addr, uint64_t size)
{
    mt_sizemap_shard_t *s = mt_sizemap_shard(m, mt_sizemap_hash(addr));
    if ((!s->addr || (uint64_t)(s->used + 1) * 4 > (uint64_t)(s->mask + 1) * 3) &&
        mt_sizemap_grow(s) < 0)
        return -ENOMEM;
    if (size >= UINT32_MAX && mt_sizemap_big_put(m, addr, size) < 0)
        return -ENOMEM;
    mt_sizemap_place(s->addr, s->size, s->mask, addr,
                     size >= UINT32_MAX ? UINT32_MAX : (uint32_t)size);
    s->used++;
    m->count++;
    return 0;
}

/* The slot of addr in its shard, or -1. */
static int64_t mt_sizemap_find(const mt_sizemap_shard_t *s, uint64_t addr)
{
    if (!s->addr)
        return -1;
    for (uint32_t i = mt_sizemap_home(mt_sizemap_hash(addr), s->mask);; i = (i + 1) & s->mask) {
        if (s->addr[i] == addr)
            return i;
        if (!s->addr[i])
            return -1;
    }
}

int mt_sizemap_has(const mt_sizemap_t *m, uint64_t addr)
{
    return addr && mt_sizemap_find(mt_sizemap_shard(m, mt_sizemap_hash(addr)), addr) >= 0;
}

int mt_sizemap_take(mt_sizemap_t *m, uint64_t addr, uint64_t *size)
{
    if (!addr)
        return 0;
    mt_sizemap_shard_t *s = mt_sizemap_shard(m, mt_sizemap_hash(addr));
    int64_t found = mt_sizemap_find(s, addr);
    if (found < 0)
        return 0;
    uint32_t i = (uint32_t)found, mask = s->mask;
    *size = s->size[i] == UINT32_MAX ? mt_sizemap_big_take(m, addr) : s->size[i];
    /* Backward shift: pull later entries of the probe run into the hole unless their home
     * lies cyclically in (hole, j]. */
    for (uint32_t j = (i + 1) & mask; s->addr[j]; j = (j + 1) & mask) {
        uint32_t h = mt_sizemap_home(mt_sizemap_hash(s->addr[j]), mask);
        if (((j - h) & mask) >= ((j - i) & mask)) {
            s->addr[i] = s->addr[j];
            s->size[i] = s->size[j];
            i = j;
        }
    }
    s->addr[i] = 0;
    s->used--;
    m->count--;
    return 1;
}

size_t mt_sizemap_bytes(const mt_sizemap_t *m)
{
    size_t n = m->big_cap * sizeof *m->big;
    for (int i = 0; i < MT_SIZEMAP_SHARDS; i++)
        if (m->shard[i].addr)
            n += ((size_t)m->shard[i].mask + 1) * (sizeof(uint64_t) + sizeof(uint32_t));
    return n;
}

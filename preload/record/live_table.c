// SPDX-License-Identifier: MIT
// Live-block table for the leak check (see live_table.h): MT_LIVE_SHARDS tables by address,
// each with a spin lock of its own, so that threads freeing and allocating do not wait for one
// another nor for the writer; open addressing with linear probing and backward-shift deletion
// (no tombstones). No malloc, no stdio; a shard's lock is held for one insert or remove.
#include "record/live_table.h"

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

#include "base/mt_libc.h"
#include "base/own_ranges.h"

#define MT_LIVE_SHARD_BITS 4
#define MT_LIVE_SHARDS (1u << MT_LIVE_SHARD_BITS)
#define MT_LIVE_INITIAL (1u << 12) /* slots per shard */

typedef struct mt_live_slot {
    uintptr_t addr; /* 0: empty */
    uint64_t size;
    uint32_t node;
    uint32_t kind; /* in what was padding: the aggregated log lists it (aggregate.h) */
} mt_live_slot_t;

/* One per cache line: threads on different shards never share one. */
typedef struct mt_live_shard {
    int lock; /* spin: held for a few probes; a fork's prepare takes them all (live_table.h) */
    mt_live_slot_t *slots;
    size_t cap, count;
} __attribute__((aligned(64))) mt_live_shard_t;

static struct {
    mt_live_shard_t shard[MT_LIVE_SHARDS];
    int failed;
    int inited;
    int one_lock; /* mt_live_one_lock: the caller's lock orders every change */
} mt_live;

static uint64_t mt_live_mix(uintptr_t addr)
{
    return ((uint64_t)addr >> 4) * 0x9e3779b97f4a7c15ull;
}

/* The top bits pick the shard, bits from 20 up the slot: independent while cap < 2^40. */
static mt_live_shard_t *mt_live_shard_of(uintptr_t addr)
{
    return &mt_live.shard[mt_live_mix(addr) >> (64 - MT_LIVE_SHARD_BITS)];
}

static size_t mt_live_hash(uintptr_t addr, size_t cap)
{
    return (size_t)(mt_live_mix(addr) >> 20) & (cap - 1);
}

static void mt_live_lock(mt_live_shard_t *s)
{
    if (mt_live.one_lock)
        return;
    unsigned spins = 0;
    while (__atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&s->lock, __ATOMIC_RELAXED)) {
            if (++spins < 64)
                __builtin_ia32_pause();
            else
                mt_sys_yield();
        }
}

static void mt_live_unlock(mt_live_shard_t *s)
{
    if (mt_live.one_lock)
        return;
    __atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

static mt_live_slot_t *mt_live_map(size_t cap)
{
    mt_live_slot_t *s = mt_map(cap * sizeof *s);
    /* The table lists every block: as a root it would make the whole heap reachable. */
    if (s)
        mt_own_add((uintptr_t)s, (uintptr_t)(s + cap));
    return s;
}

int mt_live_init(void)
{
    for (unsigned k = 0; k < MT_LIVE_SHARDS; k++) {
        mt_live_shard_t *s = &mt_live.shard[k];
        s->cap = MT_LIVE_INITIAL;
        s->slots = mt_live_map(s->cap);
        if (!s->slots) {
            mt_live.failed = 1;
            return -ENOMEM;
        }
    }
    mt_live.inited = 1;
    return 0;
}

void mt_live_one_lock(void)
{
    mt_live.one_lock = 1;
}

int mt_live_ok(void)
{
    return mt_live.inited && !__atomic_load_n(&mt_live.failed, __ATOMIC_RELAXED);
}

static void mt_live_insert(mt_live_slot_t *slots, size_t cap, const mt_live_slot_t *b)
{
    size_t i = mt_live_hash(b->addr, cap);
    while (slots[i].addr && slots[i].addr != b->addr)
        i = (i + 1) & (cap - 1);
    slots[i] = *b;
}

/* Shard lock held. */
static int mt_live_grow(mt_live_shard_t *s)
{
    size_t ncap = s->cap * 2;
    mt_live_slot_t *n = mt_live_map(ncap);
    if (!n)
        return -ENOMEM;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].addr)
            mt_live_insert(n, ncap, &s->slots[i]);
    mt_unmap(s->slots, s->cap * sizeof *s->slots);
    s->slots = n;
    s->cap = ncap;
    return 0;
}

int mt_live_put(uintptr_t addr, const mt_live_block_t *b, mt_live_block_t *old)
{
    if (!mt_live_ok() || !addr)
        return -ENOMEM;
    mt_live_shard_t *s = mt_live_shard_of(addr);
    mt_live_lock(s);
    if ((s->count + 1) * 4 > s->cap * 3 && mt_live_grow(s) < 0) {
        mt_live_unlock(s);
        __atomic_store_n(&mt_live.failed, 1, __ATOMIC_RELAXED);
        mt_msg("out of memory for the block table; no leak check or aggregate at exit");
        return -ENOMEM;
    }
    size_t i = mt_live_hash(addr, s->cap);
    while (s->slots[i].addr && s->slots[i].addr != addr)
        i = (i + 1) & (s->cap - 1);
    int was = s->slots[i].addr != 0;
    if (was)
        *old = (mt_live_block_t){s->slots[i].size, s->slots[i].node, s->slots[i].kind};
    s->count += !was;
    s->slots[i] = (mt_live_slot_t){addr, b->size, b->node, b->kind};
    mt_live_unlock(s);
    return was;
}

void mt_live_add(uintptr_t addr, uint64_t size, uint32_t node)
{
    mt_live_block_t b = {size, node, 0}, old;
    (void)!mt_live_put(addr, &b, &old); /* its failure turns the table off */
}

int mt_live_take(uintptr_t addr, mt_live_block_t *out)
{
    if (!mt_live_ok() || !addr)
        return 0;
    mt_live_shard_t *s = mt_live_shard_of(addr);
    mt_live_lock(s);
    size_t mask = s->cap - 1, i = mt_live_hash(addr, s->cap);
    while (s->slots[i].addr != addr) {
        if (!s->slots[i].addr) {
            mt_live_unlock(s);
            return 0;
        }
        i = (i + 1) & mask;
    }
    *out = (mt_live_block_t){s->slots[i].size, s->slots[i].node, s->slots[i].kind};
    s->count--;
    /* Backward shift: pull later entries of the probe run into the hole while their home
     * slot does not lie strictly between the hole and them. */
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        if (!s->slots[j].addr)
            break;
        size_t home = mt_live_hash(s->slots[j].addr, s->cap);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i].addr = 0;
    mt_live_unlock(s);
    return 1;
}

uint64_t mt_live_remove(uintptr_t addr, uint32_t *node)
{
    mt_live_block_t b;
    *node = 0;
    if (!mt_live_take(addr, &b))
        return 0;
    *node = b.node;
    return b.size;
}

void mt_live_clear(void)
{
    for (unsigned k = 0; mt_live.inited && k < MT_LIVE_SHARDS; k++) {
        mt_live_shard_t *s = &mt_live.shard[k];
        memset(s->slots, 0, s->cap * sizeof *s->slots);
        s->count = 0;
    }
}

void mt_live_lock_all(void)
{
    for (unsigned k = 0; k < MT_LIVE_SHARDS; k++)
        mt_live_lock(&mt_live.shard[k]);
}

void mt_live_unlock_all(void)
{
    for (unsigned k = MT_LIVE_SHARDS; k-- > 0;)
        mt_live_unlock(&mt_live.shard[k]);
}

void mt_live_child(void)
{
    for (unsigned k = 0; k < MT_LIVE_SHARDS; k++)
        mt_live.shard[k].lock = 0;
}

size_t mt_live_count(void)
{
    size_t n = 0;
    for (unsigned k = 0; k < MT_LIVE_SHARDS; k++)
        n += mt_live.shard[k].count;
    return n;
}

size_t mt_live_export(mt_leak_block_t *out)
{
    size_t n = 0;
    for (unsigned k = 0; k < MT_LIVE_SHARDS; k++) {
        const mt_live_shard_t *s = &mt_live.shard[k];
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i].addr)
                out[n++] = (mt_leak_block_t){
                    .addr = s->slots[i].addr,
                    .size = s->slots[i].size & ~MT_LIVE_NOT_GLIBC,
                    .not_glibc = (s->slots[i].size & MT_LIVE_NOT_GLIBC) != 0,
                };
    }
    return n;
}

void mt_live_each(void (*fn)(uintptr_t addr, uint64_t size, uint32_t node, void *ctx), void *ctx)
{
    for (unsigned k = 0; mt_live.inited && k < MT_LIVE_SHARDS; k++) {
        const mt_live_shard_t *s = &mt_live.shard[k];
        for (size_t i = 0; s->slots && i < s->cap; i++)
            if (s->slots[i].addr)
                fn(s->slots[i].addr, s->slots[i].size & ~MT_LIVE_NOT_GLIBC, s->slots[i].node, ctx);
    }
}

void mt_live_each_block(void (*fn)(uintptr_t addr, const mt_live_block_t *b, void *ctx), void *ctx)
{
    for (unsigned k = 0; mt_live.inited && k < MT_LIVE_SHARDS; k++) {
        const mt_live_shard_t *s = &mt_live.shard[k];
        for (size_t i = 0; s->slots && i < s->cap; i++)
            if (s->slots[i].addr) {
                mt_live_block_t b = {s->slots[i].size & ~MT_LIVE_NOT_GLIBC, s->slots[i].node,
                                     s->slots[i].kind};
                fn(s->slots[i].addr, &b, ctx);
            }
    }
}

// SPDX-License-Identifier: MIT
// Live-block table for the leak check (see live_table.h): open addressing with linear probing
// and backward-shift deletion, so there are no tombstones to clean up. Writer lock held for
// every call; no malloc, no stdio.
#include "record/live_table.h"

#include <errno.h>
#include <string.h>

#include "base/mt_libc.h"
#include "base/own_ranges.h"

#define MT_LIVE_INITIAL (1u << 16)

typedef struct mt_live_slot {
    uintptr_t addr; /* 0: empty */
    uint64_t size;
    uint32_t node;
} mt_live_slot_t;

static struct {
    mt_live_slot_t *slots;
    size_t cap, count;
    int failed;
} mt_live;

static size_t mt_live_hash(uintptr_t addr, size_t cap)
{
    return (size_t)(((uint64_t)addr >> 4) * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);
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
    mt_live.cap = MT_LIVE_INITIAL;
    mt_live.slots = mt_live_map(mt_live.cap);
    if (!mt_live.slots) {
        mt_live.failed = 1;
        return -ENOMEM;
    }
    return 0;
}

int mt_live_ok(void)
{
    return mt_live.slots && !mt_live.failed;
}

static void mt_live_insert(mt_live_slot_t *slots, size_t cap, const mt_live_slot_t *b)
{
    size_t i = mt_live_hash(b->addr, cap);
    while (slots[i].addr && slots[i].addr != b->addr)
        i = (i + 1) & (cap - 1);
    slots[i] = *b;
}

static int mt_live_grow(void)
{
    size_t ncap = mt_live.cap * 2;
    mt_live_slot_t *n = mt_live_map(ncap);
    if (!n)
        return -ENOMEM;
    for (size_t i = 0; i < mt_live.cap; i++)
        if (mt_live.slots[i].addr)
            mt_live_insert(n, ncap, &mt_live.slots[i]);
    mt_unmap(mt_live.slots, mt_live.cap * sizeof *mt_live.slots);
    mt_live.slots = n;
    mt_live.cap = ncap;
    return 0;
}

void mt_live_add(uintptr_t addr, uint64_t size, uint32_t node)
{
    if (!mt_live_ok() || !addr)
        return;
    if ((mt_live.count + 1) * 4 > mt_live.cap * 3 && mt_live_grow() < 0) {
        mt_live.failed = 1;
        mt_msg("out of memory for the leak check's block table; no leak check at exit");
        return;
    }
    size_t i = mt_live_hash(addr, mt_live.cap);
    while (mt_live.slots[i].addr && mt_live.slots[i].addr != addr)
        i = (i + 1) & (mt_live.cap - 1);
    mt_live.count += mt_live.slots[i].addr == 0;
    mt_live.slots[i] = (mt_live_slot_t){addr, size, node};
}

uint64_t mt_live_remove(uintptr_t addr, uint32_t *node)
{
    *node = 0;
    if (!mt_live_ok() || !addr)
        return 0;
    size_t mask = mt_live.cap - 1, i = mt_live_hash(addr, mt_live.cap);
    while (mt_live.slots[i].addr != addr) {
        if (!mt_live.slots[i].addr)
            return 0;
        i = (i + 1) & mask;
    }
    uint64_t size = mt_live.slots[i].size;
    *node = mt_live.slots[i].node;
    mt_live.count--;
    /* Backward shift: pull later entries of the probe run into the hole while their home
     * slot does not lie strictly between the hole and them. */
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        if (!mt_live.slots[j].addr)
            break;
        size_t home = mt_live_hash(mt_live.slots[j].addr, mt_live.cap);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            mt_live.slots[i] = mt_live.slots[j];
            i = j;
        }
    }
    mt_live.slots[i].addr = 0;
    return size;
}

size_t mt_live_count(void)
{
    return mt_live.count;
}

size_t mt_live_export(mt_leak_block_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < mt_live.cap; i++)
        if (mt_live.slots[i].addr)
            out[n++] = (mt_leak_block_t){
                .addr = mt_live.slots[i].addr,
                .size = mt_live.slots[i].size & ~MT_LIVE_NOT_GLIBC,
                .not_glibc = (mt_live.slots[i].size & MT_LIVE_NOT_GLIBC) != 0,
            };
    return n;
}

void mt_live_each(void (*fn)(uintptr_t addr, uint64_t size, uint32_t node, void *ctx), void *ctx)
{
    for (size_t i = 0; mt_live.slots && i < mt_live.cap; i++)
        if (mt_live.slots[i].addr)
            fn(mt_live.slots[i].addr, mt_live.slots[i].size & ~MT_LIVE_NOT_GLIBC,
               mt_live.slots[i].node, ctx);
}

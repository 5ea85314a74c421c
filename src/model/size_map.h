// SPDX-License-Identifier: MIT
// A compact map from live block address to size, for the summary that `memtrace run` computes
// while the program runs (run_summary.c): 12 bytes a slot, 64 shards that grow one at a time, so
// that it takes 16 to 32 bytes per live block, growth included, where the full replay's table
// takes 46 to 92. Sizes that need more than 32 bits go to a small side list.
#ifndef MT_SIZE_MAP_H
#define MT_SIZE_MAP_H

#include <stddef.h>
#include <stdint.h>

#define MT_SIZEMAP_SHARDS 64

typedef struct mt_sizemap_shard {
    uint64_t *addr; /* 0: empty */
    uint32_t *size; /* UINT32_MAX: the size is in the big list */
    uint32_t mask;  /* slots - 1 */
    uint32_t used;
} mt_sizemap_shard_t;

typedef struct mt_sizemap_big {
    uint64_t addr, size;
} mt_sizemap_big_t;

typedef struct mt_sizemap {
    mt_sizemap_shard_t shard[MT_SIZEMAP_SHARDS];
    mt_sizemap_big_t *big;
    size_t nbig, big_cap;
    uint64_t count;
} mt_sizemap_t;

int mt_sizemap_init(mt_sizemap_t *m) __attribute__((warn_unused_result));
void mt_sizemap_destroy(mt_sizemap_t *m);

/* Adds addr (not 0, not in the map) with its size; 0 or -ENOMEM. */
int mt_sizemap_put(mt_sizemap_t *m, uint64_t addr, uint64_t size)
    __attribute__((warn_unused_result));
/* Removes addr; 1 and its size in *size when it was there, else 0. */
int mt_sizemap_take(mt_sizemap_t *m, uint64_t addr, uint64_t *size);
/* 1 when addr is in the map. */
int mt_sizemap_has(const mt_sizemap_t *m, uint64_t addr);

/* Bytes held by the map's tables (for tests and measurements). */
size_t mt_sizemap_bytes(const mt_sizemap_t *m);

#endif

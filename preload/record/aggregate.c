// SPDX-License-Identifier: MIT
// The aggregated log's figures (aggregate.h): sites by trace node id, the heap's totals and
// peak. Who held the peak is a lazy snapshot, as in the analyzer's replay (src/model/replay.c):
// a generation counter moves at each new high, a site saves its live figures at its first
// change after it: O(1) per event, exact at the end. No malloc; mt_map only.
#include "record/aggregate.h"

#include <errno.h>
#include <string.h>

#include "base/mt_libc.h"
#include "io/log_writer.h"
#include "record/live_table.h"
#include "record/recorder.h"

typedef struct mt_agg_site {
    uint64_t allocations, bytes_allocated;
    uint64_t live_bytes, live_blocks;
    uint64_t peak_bytes, peak_blocks; /* saved at the site's first change after peak gen */
    uint64_t gen;
    uint64_t temporary;
    uint32_t node;
} mt_agg_site_t;

static struct {
    uint32_t *slot; /* node id -> index + 1 in sites, 0: none */
    size_t slot_cap;
    mt_agg_site_t *sites;
    size_t nsites, sites_cap;
    uint64_t heap_bytes, heap_blocks, gen;
    uint64_t v[MT_AGG_HEAP_FIELDS]; /* AGG_HEAP's values */
    int failed;                     /* out of memory: the figures are incomplete */
    int emitted;
} mt_agg;

/* Per thread: its last allocation while no other event of its followed (a temporary when the
 * next is its free), and the block its last realloc released (REALLOC_FAILED gives it back). */
static __thread uintptr_t mt_agg_last __attribute__((tls_model("initial-exec")));
static __thread uintptr_t mt_agg_rel_addr __attribute__((tls_model("initial-exec")));
static __thread mt_live_block_t mt_agg_rel __attribute__((tls_model("initial-exec")));

/* A mapped array grown to hold n entries of size each (doubling, contents kept). */
static int mt_agg_grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 4096;
    while (nc < n)
        nc *= 2;
    /* Counts and node ids, never a heap address: no root the leak scan must exclude. */
    void *p = mt_map_unlisted(nc * size);
    if (!p)
        return -ENOMEM;
    if (*arr) {
        memcpy(p, *arr, *cap * size);
        mt_unmap_unlisted(*arr, *cap * size);
    }
    *arr = p;
    *cap = nc;
    return 0;
}

int mt_agg_init(void)
{
    mt_live_one_lock(); /* every change is under the writer lock (aggregate.h) */
    if (mt_agg_grow((void **)&mt_agg.slot, &mt_agg.slot_cap, 1, sizeof *mt_agg.slot) < 0 ||
        mt_agg_grow((void **)&mt_agg.sites, &mt_agg.sites_cap, 1, sizeof *mt_agg.sites) < 0) {
        mt_agg.failed = 1;
        return -ENOMEM;
    }
    return 0;
}

static __attribute__((noinline, cold)) mt_agg_site_t *mt_agg_site_new(uint32_t node)
{
    if (mt_agg.failed) /* the figures are lost already: no mmap per event */
        return NULL;
    if (mt_agg_grow((void **)&mt_agg.slot, &mt_agg.slot_cap, (size_t)node + 1,
                    sizeof *mt_agg.slot) < 0 ||
        mt_agg_grow((void **)&mt_agg.sites, &mt_agg.sites_cap, mt_agg.nsites + 1,
                    sizeof *mt_agg.sites) < 0) {
        mt_agg.failed = 1;
        return NULL;
    }
    mt_agg_site_t *s = &mt_agg.sites[mt_agg.nsites++];
    memset(s, 0, sizeof *s);
    s->node = node;
    s->gen = mt_agg.gen;
    mt_agg.slot[node] = (uint32_t)mt_agg.nsites;
    return s;
}

static inline mt_agg_site_t *mt_agg_site(uint32_t node)
{
    if (MT_LIKELY(node < mt_agg.slot_cap && mt_agg.slot[node]))
        return &mt_agg.sites[mt_agg.slot[node] - 1];
    return mt_agg_site_new(node);
}

/* Before a site's first change since the last new high: what it held at that high. */
static inline void mt_agg_touch(mt_agg_site_t *s)
{
    if (s->gen != mt_agg.gen) {
        s->peak_bytes = s->live_bytes;
        s->peak_blocks = s->live_blocks;
        s->gen = mt_agg.gen;
    }
}

static void mt_agg_release(const mt_live_block_t *b)
{
    uint64_t size = b->size & ~MT_LIVE_NOT_GLIBC;
    mt_agg_site_t *s = mt_agg_site(b->node);
    if (s) {
        mt_agg_touch(s);
        s->live_bytes -= size;
        s->live_blocks--;
    }
    mt_agg.heap_bytes -= size;
    mt_agg.heap_blocks--;
}

/* A block enters the heap; the heap may be at a new high (the replay's rule: strictly above
 * the last one, after the block is in). */
static void mt_agg_insert(uintptr_t addr, const mt_live_block_t *b, uint64_t now_us)
{
    mt_live_block_t old;
    int rc = mt_live_put(addr, b, &old);
    if (MT_UNLIKELY(rc != 0)) {
        if (rc < 0) {
            mt_agg.failed = 1;
            return;
        }
        mt_agg.v[MT_AGG_REPLACED]++; /* a free we never saw */
        mt_agg_release(&old);
    }
    uint64_t size = b->size & ~MT_LIVE_NOT_GLIBC;
    mt_agg_site_t *s = mt_agg_site(b->node);
    if (MT_LIKELY(s != NULL)) {
        mt_agg_touch(s);
        s->live_bytes += size;
        s->live_blocks++;
    }
    mt_agg.heap_bytes += size;
    mt_agg.heap_blocks++;
    if (mt_agg.heap_bytes > mt_agg.v[MT_AGG_PEAK_BYTES]) {
        mt_agg.v[MT_AGG_PEAK_BYTES] = mt_agg.heap_bytes;
        mt_agg.v[MT_AGG_PEAK_BLOCKS] = mt_agg.heap_blocks;
        mt_agg.v[MT_AGG_PEAK_US] = now_us ? now_us : mt_rec_now(); /* 0: not read yet */
        mt_agg.gen++;
    }
}

void mt_agg_alloc(enum mt_alloc_kind kind, uintptr_t addr, uint64_t size, uint32_t node,
                  uint64_t now_us)
{
    mt_agg_rel_addr = 0; /* a realloc's outcome, or another event: the release stands */
    mt_agg.v[MT_AGG_ALLOCATIONS]++;
    mt_agg.v[MT_AGG_BYTES_ALLOCATED] += size;
    mt_agg.v[MT_AGG_BY_KIND + (kind & 15)]++;
    mt_agg.v[MT_AGG_BY_SIZE_BITS + (size ? 64u - (unsigned)__builtin_clzll(size) : 0u)]++;
    mt_agg_site_t *s = mt_agg_site(node);
    if (MT_LIKELY(s != NULL)) {
        s->allocations++;
        s->bytes_allocated += size;
    }
    mt_agg_last = addr;
    if (MT_UNLIKELY(!addr))
        return;
    /* Python's and the program's own blocks are no glibc chunks (live_table.h). */
    mt_live_block_t b = {kind < MT_ALLOC_PYMEM ? size : size | MT_LIVE_NOT_GLIBC, node, kind};
    mt_agg_insert(addr, &b, now_us);
}

void mt_agg_free(enum mt_tag tag, uintptr_t addr, uint64_t now_us)
{
    uintptr_t last = mt_agg_last;
    mt_agg_last = 0;
    if (MT_UNLIKELY(tag == MT_TAG_REALLOC_FAILED)) {
        if (mt_agg_rel_addr != addr || !addr)
            return; /* no release of it by this thread: nothing comes back */
        mt_agg_rel_addr = 0;
        uint64_t size = mt_agg_rel.size & ~MT_LIVE_NOT_GLIBC;
        mt_agg.v[MT_AGG_REALLOC_FAILURES]++;
        mt_agg.v[MT_AGG_FREES]--;
        mt_agg.v[MT_AGG_BYTES_FREED] -= size;
        mt_agg_insert(addr, &mt_agg_rel, now_us);
        return;
    }
    mt_agg_rel_addr = 0;
    if (tag != MT_TAG_REALLOC_RELEASE)
        mt_agg.v[MT_AGG_FREE_CALLS]++;
    mt_live_block_t b;
    if (!mt_live_take(addr, &b)) {
        mt_agg.v[MT_AGG_UNKNOWN_FREES]++;
        return;
    }
    uint64_t size = b.size & ~MT_LIVE_NOT_GLIBC;
    if (tag == MT_TAG_REALLOC_RELEASE) {
        mt_agg_rel_addr = addr;
        mt_agg_rel = b;
    } else if (last == addr) {
        mt_agg_site_t *s = mt_agg_site(b.node);
        mt_agg.v[MT_AGG_TEMPORARY]++;
        if (s)
            s->temporary++;
    }
    mt_agg.v[MT_AGG_FREES]++;
    mt_agg.v[MT_AGG_BYTES_FREED] += size;
    mt_agg_release(&b);
}

static void mt_agg_emit_live(uintptr_t addr, const mt_live_block_t *b, void *ctx)
{
    mt_enc_t *e = mt_writer_begin(0);
    if (e) {
        mt_enc_agg_live(e, *(const uint64_t *)ctx, b->size, addr, b->node,
                        (enum mt_alloc_kind)b->kind);
        mt_writer_end_any();
    }
}

void mt_agg_emit(uint64_t now_us)
{
    if (mt_agg.emitted)
        return;
    mt_agg.emitted = 1;
    if (mt_agg.failed || !mt_live_ok()) {
        mt_msg("out of memory for the aggregated figures; the log has none");
        return;
    }
    mt_enc_t *e = mt_writer_begin_big(1 + (MT_AGG_HEAP_FIELDS + 1) * MT_VARINT_MAX);
    if (!e)
        return;
    mt_enc_agg_heap(e, now_us, mt_agg.v, MT_AGG_HEAP_FIELDS);
    mt_writer_end_any();
    for (size_t i = 0; i < mt_agg.nsites; i++) {
        mt_agg_site_t *s = &mt_agg.sites[i];
        mt_agg_touch(s); /* unchanged since the last high: it held then what it holds now */
        if (!(e = mt_writer_begin(0)))
            return;
        mt_enc_agg_site(e, now_us, s->node, s->allocations, s->bytes_allocated, s->peak_bytes,
                        s->peak_blocks, s->temporary);
        mt_writer_end_any();
    }
    mt_live_each_block(mt_agg_emit_live, &now_us);
}

void mt_agg_exec_failed(void)
{
    mt_agg.emitted = 0;
}

void mt_agg_child(void)
{
    if (mt_agg.slot)
        memset(mt_agg.slot, 0, mt_agg.slot_cap * sizeof *mt_agg.slot);
    mt_agg.nsites = 0;
    mt_agg.heap_bytes = mt_agg.heap_blocks = mt_agg.gen = 0;
    memset(mt_agg.v, 0, sizeof mt_agg.v);
    mt_agg.emitted = 0;
    mt_agg_last = mt_agg_rel_addr = 0;
    mt_live_clear();
}

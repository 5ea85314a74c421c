// SPDX-License-Identifier: MIT
// Replay of the event stream (see replay.h). The hot path (alloc/free) is one hash probe and a
// few additions; nothing here allocates per event except when a table doubles.
// The "who held the peak" figures use a lazy snapshot: a generation counter is bumped at each
// new peak, and a node saves its live figures on its first change after that, so at the end a
// node's value at the last peak is either the saved one or (if it never changed since) its
// current one. One pass, O(1) per event, no copy of the heap at the peak.
#include "replay.h"
#include "grow.h"

#include <errno.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#define MT_REPLAY_INITIAL_BLOCKS 4096u
#define MT_REPLAY_MAX_SAMPLES 4096u

/* A node's figures once the replay is over: the peak read out of the lazy snapshot, so no
 * generation, and the second thread's flag in thread's top bit (thread indices take 24
 * bits). 64 bytes where mt_node_stats_t takes 72. */
struct mt_node_final {
    uint64_t allocations, bytes_allocated, live_bytes, live_blocks, peak_bytes, peak_blocks;
    uint64_t temporary;
    uint32_t thread;
    uint32_t unused; /* no padding: the index (log_index.c) copies entries byte for byte */
};
#define MT_NODE_FINAL_MULTI (1u << 31)

/* From this size on a block table is mapped: zero pages that the kernel fills as they are
 * first touched, huge ones where it gives them (mt_blocks_advise), as calloc did. */
#define MT_BLOCKS_MAP_BYTES (1u << 20)
/* Entries of a mapped table given back at a time while it is copied into a bigger one: 2 MiB,
 * a huge page (Linux aligns big anonymous mappings to them), so none is split. */
#define MT_BLOCKS_RELEASE ((2u << 20) / sizeof(mt_block_t))
/* A table below this many slots (1 MiB) sits in the cache: where its blocks lie does not
 * matter, only how far a probe runs, so its addresses are hashed one by one (not a page's
 * blocks side by side) and it grows at 40% full, not 70% (mt_slot, mt_blocks_full). */
#define MT_BLOCKS_SMALL (1u << 15)

/* Huge pages for a big table (when the system gives them on request): a freed block is
 * looked up at a random place of a table of tens of MB, and each 4 KiB page costs a TLB
 * miss and, when new, a fault (perl's 300,000-key hash: load 22% faster). Only a hint. */
static void mt_blocks_advise(mt_block_t *v, size_t bytes)
{
    if (bytes >= (4u << 20))
        (void)madvise(v, bytes, MADV_HUGEPAGE);
}

/* A zeroed block table of n entries on a cache line boundary: a 32-byte entry then never
 * spans two lines (calloc's 16-byte alignment split every other one, a second miss per
 * lookup). */
static mt_block_t *mt_blocks_alloc(uint64_t n)
{
    if (n > SIZE_MAX / sizeof(mt_block_t))
        return NULL;
    size_t bytes = (size_t)n * sizeof(mt_block_t);
    if (bytes >= MT_BLOCKS_MAP_BYTES) {
        void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        mt_blocks_advise(m, bytes);
        return m;
    }
    void *p;
    if (posix_memalign(&p, 64, bytes) != 0)
        return NULL;
    return memset(p, 0, bytes);
}

static void mt_blocks_free(mt_block_t *v, uint64_t n)
{
    if (!v)
        return;
    if (n * sizeof(mt_block_t) >= MT_BLOCKS_MAP_BYTES)
        munmap(v, (size_t)n * sizeof(mt_block_t));
    else
        free(v);
}

int mt_replay_init(mt_replay_t *r)
{
    memset(r, 0, sizeof *r);
    r->blocks = mt_blocks_alloc(MT_REPLAY_INITIAL_BLOCKS);
    if (!r->blocks)
        return -ENOMEM;
    r->mask = MT_REPLAY_INITIAL_BLOCKS - 1;
    r->shift = 64 - 12;
    r->sample_stride = 1;
    r->series_width_us = 1000; /* 1 ms; doubles as the run gets longer */
    r->exit_reason = -1;
    return 0;
}

void mt_replay_destroy(mt_replay_t *r)
{
    mt_blocks_free(r->blocks, r->mask + 1);
    free(r->node_slot);
    free(r->node_bits);
    free(r->node_rank);
    free(r->node_final);
    free(r->stats);
    free(r->pending);
    free(r->maps);
    free(r->samples);
    free(r->threads);
    free(r->tstats);
    free(r->sel_tids);
    free(r->pairs);
    memset(r, 0, sizeof *r);
}

/* ---- live-block hash ---- */

static inline uint64_t mt_slot(const mt_replay_t *r, uint64_t addr)
{
    /* Blocks of one 4 KiB page share a run of 256 slots, in address order (allocators hand
     * out neighbouring addresses one after the other, so neighbouring events touch the same
     * cache lines of a table far bigger than the cache); pages are spread by Fibonacci
     * hashing of the page number, so runs do not pile up. The table has at least 2^12 slots. */
    if (r->mask < MT_BLOCKS_SMALL)
        return ((addr >> 4) * 0x9E3779B97F4A7C15ull) >> r->shift;
    uint64_t page = ((addr >> 12) * 0x9E3779B97F4A7C15ull) >> (r->shift + 8);
    return page << 8 | ((addr >> 4) & 0xff);
}

static int mt_blocks_grow(mt_replay_t *r)
{
    uint64_t ncap = (r->mask + 1) * 2;
    mt_block_t *nb = mt_blocks_alloc(ncap);
    if (!nb)
        return -ENOMEM;
    mt_block_t *old = r->blocks;
    uint64_t ocap = r->mask + 1;
    r->blocks = nb;
    r->mask = ncap - 1;
    r->shift--;
    /* A mapped old table gives its pages back as they are read: the new one fills as the old
     * one empties, so a growth costs the new table's size, not both (perl's 300,000-key hash:
     * 16 + 32 MiB at once, the analysis's peak, was 32). */
    int mapped = ocap * sizeof(mt_block_t) >= MT_BLOCKS_MAP_BYTES;
    for (uint64_t i = 0; i < ocap; i++) {
        if (mapped && i && i % MT_BLOCKS_RELEASE == 0)
            (void)madvise(old + i - MT_BLOCKS_RELEASE, MT_BLOCKS_RELEASE * sizeof *old,
                          MADV_DONTNEED);
        if (!old[i].addr)
            continue;
        uint64_t j = mt_slot(r, old[i].addr);
        while (nb[j].addr)
            j = (j + 1) & r->mask;
        nb[j] = old[i];
    }
    mt_blocks_free(old, ocap);
    return 0;
}

static inline mt_block_t *mt_blocks_lookup(const mt_replay_t *r, uint64_t addr)
{
    uint64_t i = mt_slot(r, addr);
    for (;;) {
        mt_block_t *b = &r->blocks[i];
        if (b->addr == addr)
            return b;
        if (!b->addr)
            return NULL;
        i = (i + 1) & r->mask;
    }
}

/* Removes the entry at b, shifting later entries of the probe run back (no tombstones, so
 * lookups never degrade with churn). */
static void mt_blocks_remove(mt_replay_t *r, mt_block_t *b)
{
    uint64_t i = (uint64_t)(b - r->blocks), j = i;
    for (;;) {
        j = (j + 1) & r->mask;
        if (!r->blocks[j].addr)
            break;
        uint64_t k = mt_slot(r, r->blocks[j].addr);
        /* Move j back to i unless its home k lies cyclically in (i, j]. */
        int stay = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stay) {
            r->blocks[i] = r->blocks[j];
            i = j;
        }
    }
    r->blocks[i].addr = 0;
}

void mt_replay_prefetch(const mt_replay_t *r, uint64_t addr)
{
    /* and the next slot's line: a free's removal looks at the entries after its own */
    uint64_t i = mt_slot(r, addr);
    __builtin_prefetch(&r->blocks[i], 1);
    __builtin_prefetch(&r->blocks[(i + 1) & r->mask], 1);
}

const mt_block_t *mt_replay_find(const mt_replay_t *r, uint64_t addr)
{
    return addr ? mt_blocks_lookup(r, addr) : NULL;
}

void mt_replay_each_live(const mt_replay_t *r, void (*fn)(const mt_block_t *b, void *arg),
                         void *arg)
{
    for (uint64_t i = 0; r->blocks && i <= r->mask; i++)
        if (r->blocks[i].addr)
            fn(&r->blocks[i], arg);
}

void mt_replay_drop_blocks(mt_replay_t *r)
{
    mt_blocks_free(r->blocks, r->mask + 1);
    r->blocks = NULL;
    r->mask = 0;
}

/* ---- per-node stats ---- */

/* Slots up to node, zeroed as the ids come: the capacity beyond is never touched. */
static int mt_node_slots_reserve(mt_replay_t *r, uint32_t node)
{
    if (node < r->node_slots)
        return 0;
    if (node >= r->node_slot_cap) {
        uint32_t nc = r->node_slot_cap ? r->node_slot_cap : 1024;
        while (nc <= node) {
            if (nc > UINT32_MAX / 2)
                return -ENOMEM;
            nc *= 2;
        }
        uint32_t *ns = realloc(r->node_slot, (size_t)nc * sizeof *ns);
        if (!ns)
            return -ENOMEM;
        r->node_slot = ns;
        r->node_slot_cap = nc;
    }
    memset(r->node_slot + r->node_slots, 0, (size_t)(node + 1 - r->node_slots) * sizeof(uint32_t));
    r->node_slots = node + 1;
    return 0;
}

/* The stats of a node that allocated (every block's node did). */
static inline mt_node_stats_t *mt_node_stats(mt_replay_t *r, uint32_t node)
{
    return &r->stats[mt_replay_node_index(r, node)];
}

/* The stats of node, made at its first allocation; NULL on ENOMEM. */
static mt_node_stats_t *mt_node_stats_make(mt_replay_t *r, uint32_t node)
{
    if (__builtin_expect(r->node_bits != NULL, 0) || mt_node_slots_reserve(r, node) < 0)
        return NULL; /* no event after mt_replay_finish */
    if (r->node_slot[node])
        return mt_node_stats(r, node);
    if (r->nstats == r->stats_cap) {
        if (r->stats_cap > UINT32_MAX / 2)
            return NULL;
        uint32_t nc = r->stats_cap ? r->stats_cap * 2 : 1024;
        mt_node_stats_t *nv = realloc(r->stats, (size_t)nc * sizeof *nv);
        if (!nv)
            return NULL;
        r->stats = nv;
        r->stats_cap = nc;
    }
    memset(&r->stats[r->nstats], 0, sizeof *r->stats);
    r->node_slot[node] = ++r->nstats;
    return &r->stats[r->nstats - 1];
}

/* mt_node_stats_make for the allocation of every event: a node seen before, without a call
 * (a tenth of the replay's instructions per allocation on churn.c's log went to the call). */
static inline mt_node_stats_t *mt_node_stats_get(mt_replay_t *r, uint32_t node)
{
    uint32_t slot;
    if (__builtin_expect(!r->node_bits && node < r->node_slots && (slot = r->node_slot[node]), 1))
        return &r->stats[slot - 1];
    return mt_node_stats_make(r, node);
}

static inline void mt_node_touch(mt_replay_t *r, mt_node_stats_t *ns)
{
    if (ns->gen != r->gen) {
        ns->peak_bytes = ns->live_bytes;
        ns->peak_blocks = ns->live_blocks;
        ns->gen = r->gen;
    }
}

mt_node_stats_t mt_replay_node(const mt_replay_t *r, uint32_t node)
{
    mt_node_stats_t s = {0};
    if (!mt_replay_node_allocated(r, node))
        return s;
    if (r->node_final) {
        const mt_node_final_t *f = &r->node_final[mt_replay_node_index(r, node)];
        s.allocations = f->allocations;
        s.bytes_allocated = f->bytes_allocated;
        s.live_bytes = f->live_bytes;
        s.live_blocks = f->live_blocks;
        s.peak_bytes = f->peak_bytes;
        s.peak_blocks = f->peak_blocks;
        s.temporary = f->temporary;
        s.gen = r->gen;
        s.thread = f->thread & ~MT_NODE_FINAL_MULTI;
        s.multi = !!(f->thread & MT_NODE_FINAL_MULTI);
        return s;
    }
    s = r->stats[mt_replay_node_index(r, node)];
    if (s.gen != r->gen) { /* unchanged since the last peak */
        s.peak_bytes = s.live_bytes;
        s.peak_blocks = s.live_blocks;
    }
    return s;
}

/* ---- per-thread last allocation (temporary allocations) ---- */

static int mt_threads_grow(mt_replay_t *r)
{
    size_t ocap = r->threads ? r->threads_mask + 1 : 0, ncap = ocap ? ocap * 2 : 64;
    mt_thread_last_t *nt = calloc(ncap, sizeof *nt), *old = r->threads;
    if (!nt)
        return -ENOMEM;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].used)
            continue;
        size_t j = (size_t)((old[i].tid * 0x9E3779B97F4A7C15ull) >> 32) & (ncap - 1);
        while (nt[j].used)
            j = (j + 1) & (ncap - 1);
        nt[j] = old[i];
    }
    free(old);
    r->threads = nt;
    r->threads_mask = ncap - 1;
    r->thread_hit = NULL;
    return 0;
}

static int mt_tid_cmp(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return a < b ? -1 : a > b;
}

int mt_replay_select(mt_replay_t *r, const uint64_t *tids, size_t n)
{
    uint64_t *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    memcpy(v, tids, n * sizeof *v);
    qsort(v, n, sizeof *v, mt_tid_cmp);
    free(r->sel_tids);
    r->sel_tids = v;
    r->nsel = n;
    r->filtered = 1;
    return 0;
}

int mt_replay_tid_selected(const mt_replay_t *r, uint64_t tid)
{
    return !r->filtered || bsearch(&tid, r->sel_tids, r->nsel, sizeof tid, mt_tid_cmp) != NULL;
}

/* A new thread's figures; NULL only on ENOMEM. */
static int mt_tstats_new(mt_replay_t *r, uint64_t tid, uint64_t t, uint32_t *idx)
{
    if (r->ntstats == MT_REPLAY_THREADS_MAX) { /* see MT_REPLAY_THREADS_MAX */
        *idx = MT_REPLAY_THREADS_MAX - 1;
        return 0;
    }
    if (r->ntstats == r->tstats_cap) {
        uint32_t nc = r->tstats_cap ? r->tstats_cap * 2 : 16;
        mt_thread_stats_t *nv = realloc(r->tstats, (size_t)nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        r->tstats = nv;
        r->tstats_cap = nc;
    }
    *idx = r->ntstats++;
    r->tstats[*idx] = (mt_thread_stats_t){
        .tid = tid,
        .gen = r->gen,
        .first_us = t,
        .last_us = t,
        .selected = mt_replay_tid_selected(r, tid),
    };
    return 0;
}

/* The thread's entry, created on first use (at time t); NULL only on ENOMEM. */
static mt_thread_last_t *mt_thread(mt_replay_t *r, uint64_t tid, uint64_t t)
{
    mt_thread_last_t *hit = r->thread_hit;
    if (__builtin_expect(hit && hit->tid == tid, 1)) {
        r->tstats[hit->idx].last_us = t;
        return hit;
    }
    if ((!r->threads || (r->nthreads + 1) * 2 > r->threads_mask + 1) && mt_threads_grow(r) < 0)
        return NULL;
    size_t i = (size_t)((tid * 0x9E3779B97F4A7C15ull) >> 32) & r->threads_mask;
    while (r->threads[i].used && r->threads[i].tid != tid)
        i = (i + 1) & r->threads_mask;
    if (!r->threads[i].used) {
        uint32_t idx;
        if (mt_tstats_new(r, tid, t, &idx) < 0)
            return NULL;
        r->threads[i] = (mt_thread_last_t){.tid = tid, .idx = idx, .used = 1};
        r->nthreads++;
    }
    r->tstats[r->threads[i].idx].last_us = t;
    r->thread_hit = &r->threads[i];
    return &r->threads[i];
}

/* The peak figures of a thread are saved lazily, as a node's (mt_node_touch). */
static inline void mt_tstats_touch(const mt_replay_t *r, mt_thread_stats_t *ts)
{
    if (ts->gen != r->gen) {
        ts->peak_bytes = ts->live_bytes;
        ts->peak_blocks = ts->live_blocks;
        ts->gen = r->gen;
    }
}

mt_thread_stats_t mt_replay_thread(const mt_replay_t *r, uint32_t idx)
{
    mt_thread_stats_t s = {0};
    if (idx >= r->ntstats)
        return s;
    s = r->tstats[idx];
    if (s.gen != r->gen) { /* unchanged since the last peak */
        s.peak_bytes = s.live_bytes;
        s.peak_blocks = s.live_blocks;
    }
    return s;
}

void mt_replay_threads_mark_end(mt_replay_t *r)
{
    for (uint32_t i = 0; i < r->ntstats; i++) {
        r->tstats[i].end_bytes = r->tstats[i].live_bytes;
        r->tstats[i].end_blocks = r->tstats[i].live_blocks;
    }
    r->threads_end_marked = 1;
}

/* ---- which threads allocated at a node ---- */

static int mt_pairs_grow(mt_replay_t *r)
{
    size_t ocap = r->pairs ? r->pairs_mask + 1 : 0, ncap = ocap ? ocap * 2 : 256;
    uint64_t *np = calloc(ncap, sizeof *np), *old = r->pairs;
    if (!np)
        return -ENOMEM;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i])
            continue;
        size_t j = (size_t)((old[i] * 0x9E3779B97F4A7C15ull) >> 32) & (ncap - 1);
        while (np[j])
            j = (j + 1) & (ncap - 1);
        np[j] = old[i];
    }
    free(old);
    r->pairs = np;
    r->pairs_mask = ncap - 1;
    return 0;
}

/* Notes that thread idx allocated at node. Costs a probe only at nodes of several threads. */
static inline int mt_node_thread(mt_replay_t *r, mt_node_stats_t *ns, uint32_t node, uint32_t idx)
{
    if (__builtin_expect(ns->thread == idx + 1, 1))
        return 0;
    if (!ns->thread) {
        ns->thread = idx + 1;
        return 0;
    }
    ns->multi = 1;
    if ((!r->pairs || (r->npairs + 1) * 2 > r->pairs_mask + 1) && mt_pairs_grow(r) < 0)
        return -ENOMEM;
    uint64_t key = (uint64_t)node << 32 | (idx + 1);
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & r->pairs_mask;
    while (r->pairs[i] && r->pairs[i] != key)
        i = (i + 1) & r->pairs_mask;
    if (!r->pairs[i]) {
        r->pairs[i] = key;
        r->npairs++;
    }
    return 0;
}

const uint64_t *mt_replay_node_pairs(const mt_replay_t *r, uint32_t node, size_t *n)
{
    *n = 0;
    if (!r->pairs_sorted || !r->npairs)
        return NULL;
    uint64_t lo_key = (uint64_t)node << 32;
    size_t lo = 0, hi = r->npairs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->pairs[mid] < lo_key)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t e = lo;
    while (e < r->npairs && r->pairs[e] >> 32 == node)
        e++;
    *n = e - lo;
    return r->pairs + lo;
}

/* ---- heap over time ---- */

static void mt_series_note_slow(mt_replay_t *r, uint64_t t, uint64_t v) __attribute__((noinline));

/* Notes the heap's size after an event (at r->last_time_us). Inline, and the two values read
 * one by one: a 16-byte load of fields just written by 8-byte stores is not forwarded and
 * stalls, at every event. */
static inline void mt_series_note(mt_replay_t *r)
{
    uint64_t t = r->last_time_us, v = r->heap_bytes;
    if (__builtin_expect(t >= r->series_lo_us && t < r->series_hi_us, 1)) {
        /* the bucket of the event before: no division */
        mt_heap_bucket_t *bk = &r->series[r->series_at];
        bk->min = v < bk->min ? v : bk->min;
        bk->max = v > bk->max ? v : bk->max;
        bk->last = v;
        return;
    }
    mt_series_note_slow(r, t, v);
}

static void mt_series_note_slow(mt_replay_t *r, uint64_t t, uint64_t v)
{
    uint64_t idx = t / r->series_width_us;
    while (idx >= MT_REPLAY_SERIES_MAX) {
        /* Merge neighbours: min of mins, max of maxes, the later one's last value. */
        for (size_t i = 0; i < MT_REPLAY_SERIES_MAX / 2; i++) {
            mt_heap_bucket_t x = r->series[2 * i], y = r->series[2 * i + 1], m = x;
            if (y.used) {
                m = y;
                if (x.used) {
                    m.min = x.min < y.min ? x.min : y.min;
                    m.max = x.max > y.max ? x.max : y.max;
                }
            }
            r->series[i] = m;
        }
        memset(&r->series[MT_REPLAY_SERIES_MAX / 2], 0,
               MT_REPLAY_SERIES_MAX / 2 * sizeof r->series[0]);
        r->series_width_us *= 2;
        idx = t / r->series_width_us;
    }
    mt_heap_bucket_t *bk = &r->series[idx];
    if (!bk->used) {
        *bk = (mt_heap_bucket_t){v, v, v, 1};
    } else {
        bk->min = v < bk->min ? v : bk->min;
        bk->max = v > bk->max ? v : bk->max;
        bk->last = v;
    }
    r->nseries = idx + 1 > r->nseries ? idx + 1 : r->nseries;
    r->series_at = idx;
    r->series_lo_us = idx * r->series_width_us;
    r->series_hi_us = r->series_lo_us + r->series_width_us;
}

/* 10^i, and for each bit length of d the digits of the smallest d of that length: d's own
 * digits are that or one more, which one compare of d with a power of ten says. */
static const uint64_t mt_pow10[20] = {1ull,
                                      10ull,
                                      100ull,
                                      1000ull,
                                      10000ull,
                                      100000ull,
                                      1000000ull,
                                      10000000ull,
                                      100000000ull,
                                      1000000000ull,
                                      10000000000ull,
                                      100000000000ull,
                                      1000000000000ull,
                                      10000000000000ull,
                                      100000000000000ull,
                                      1000000000000000ull,
                                      10000000000000000ull,
                                      100000000000000000ull,
                                      1000000000000000000ull,
                                      10000000000000000000ull};
static const uint8_t mt_bits_digits[65] = {
    0,  1,  1,  1,  1,  2,  2,  2,  3,  3,  3,  4,  4,  4,  4,  5,  5,  5,  6,  6,  6,  7,
    7,  7,  7,  8,  8,  8,  9,  9,  9,  10, 10, 10, 10, 11, 11, 11, 12, 12, 12, 13, 13, 13,
    13, 14, 14, 14, 15, 15, 15, 16, 16, 16, 16, 17, 17, 17, 18, 18, 18, 19, 19, 19, 19};

/* The decimal digits of d (0 for 0): the lifetime histogram's bucket, at every free. Two
 * loads and a compare, not a loop of multiplications. */
static inline unsigned mt_decimal_digits(uint64_t d)
{
    unsigned bits = d ? 64u - (unsigned)__builtin_clzll(d) : 0u;
    unsigned i = mt_bits_digits[bits];
    return i < 20 && d >= mt_pow10[i] ? i + 1 : i;
}

static void mt_lifetime_note(mt_replay_t *r, const mt_block_t *b, uint64_t t)
{
    uint64_t d = t > b->time_us ? t - b->time_us : 0;
    unsigned i = mt_decimal_digits(d); /* at most 20, MT_REPLAY_LIFETIME_DIGITS - 1 */
    r->frees_by_lifetime_digits[i]++;
}

/* ---- heap events ---- */

/* A block leaves the heap (free, realloc release). */
static inline __attribute__((always_inline)) void mt_heap_release(mt_replay_t *r,
                                                                  const mt_block_t *b)
{
    if (__builtin_expect(r->watch != NULL, 0))
        r->watch->block(r->watch->arg, r, b, 0);
    mt_thread_stats_t *ts = &r->tstats[b->thread];
    /* a thread's own figures count every block of its, but in a window only the window's */
    if (__builtin_expect(b->time_us >= r->win_from_us, 1)) {
        mt_tstats_touch(r, ts);
        ts->live_bytes -= b->size;
        ts->live_blocks--;
    }
    int arena = mt_pyinfo_in_arena(b);
    r->all_heap_bytes -= b->size;
    r->all_heap_blocks--;
    if (arena)
        r->all_arena_obj_bytes -= b->size;
    if (__builtin_expect(!mt_replay_block_selected(r, b), 0))
        return;
    if (b->kind == MT_ALLOC_INHERITED) {
        r->inherited_freed_bytes += b->size;
        r->inherited_freed_blocks++;
    } else if (__builtin_expect(b->kind == MT_ALLOC_CUSTOM, 0)) {
        r->custom_bytes -= b->size;
        r->custom_blocks--;
    }
    mt_node_stats_t *ns = mt_node_stats(r, b->node);
    mt_node_touch(r, ns);
    ns->live_bytes -= b->size;
    ns->live_blocks--;
    r->heap_bytes -= b->size;
    r->heap_blocks--;
    if (arena)
        r->arena_obj_bytes -= b->size;
    mt_series_note(r);
}

/* The heap is at a new peak at time t (or a window begins there): the process's figures and
 * the filtered ones read now; the nodes' lazy snapshots (mt_node_touch) start a generation. */
static void mt_replay_peak_now(mt_replay_t *r, uint64_t t)
{
    r->all_peak_bytes = r->all_heap_bytes;
    r->all_peak_blocks = r->all_heap_blocks;
    r->all_peak_arena_obj_bytes = r->all_arena_obj_bytes;
    r->peak_heap_bytes = r->heap_bytes;
    r->peak_heap_blocks = r->heap_blocks;
    r->peak_arena_obj_bytes = r->arena_obj_bytes;
    r->peak_time_us = t;
    r->gen++;
    if (__builtin_expect(r->watch != NULL, 0))
        r->watch->peak(r->watch->arg, r);
}

static inline __attribute__((always_inline)) void mt_heap_insert(mt_replay_t *r,
                                                                 const mt_block_t *nb)
{
    if (__builtin_expect(r->watch != NULL, 0))
        r->watch->block(r->watch->arg, r, nb, 1);
    mt_thread_stats_t *ts = &r->tstats[nb->thread];
    if (__builtin_expect(nb->time_us >= r->win_from_us, 1)) { /* see mt_heap_release */
        mt_tstats_touch(r, ts);
        ts->live_bytes += nb->size;
        ts->live_blocks++;
        if (ts->live_bytes > ts->own_peak_bytes) {
            ts->own_peak_bytes = ts->live_bytes;
            ts->own_peak_us = nb->time_us;
        }
    }
    int arena = mt_pyinfo_in_arena(nb);
    r->all_heap_bytes += nb->size;
    r->all_heap_blocks++;
    if (arena)
        r->all_arena_obj_bytes += nb->size;
    int selected = mt_replay_block_selected(r, nb);
    if (__builtin_expect(selected, 1)) {
        mt_node_stats_t *ns = mt_node_stats(r, nb->node);
        mt_node_touch(r, ns);
        ns->live_bytes += nb->size;
        ns->live_blocks++;
        r->heap_bytes += nb->size;
        r->heap_blocks++;
        if (arena)
            r->arena_obj_bytes += nb->size;
        if (__builtin_expect(nb->kind == MT_ALLOC_CUSTOM, 0)) {
            r->custom_bytes += nb->size;
            r->custom_blocks++;
        }
    }
    /* The peak is the process's (replay.h); the filtered figures are read at that moment. */
    if (r->all_heap_bytes > r->all_peak_bytes)
        /* now, not the block's birth: a failed realloc's block comes back at a later time */
        mt_replay_peak_now(r, r->last_time_us);
    if (selected)
        mt_series_note(r);
}

/* True when one more block needs a bigger table (load factor 0.7, 0.4 for a small one:
 * MT_BLOCKS_SMALL; every thread's blocks). On churn.c's log (4,096 blocks live), a page's
 * blocks side by side at 0.7 (8,192 slots) probed 2.3 slots past a new block's home, 1.5 past
 * a freed one's, and its removal scanned 2.2 more; hashed one by one at 0.4 (16,384 slots),
 * 0.39, 0.28 and 0.45: the replay's CPU time went down by a tenth. */
static inline int mt_blocks_full(const mt_replay_t *r)
{
    return (r->all_heap_blocks + 1) * 10 >= (r->mask + 1) * (r->mask < MT_BLOCKS_SMALL ? 4 : 7);
}

/* Places a block known not to be in the table. */
static int mt_blocks_put(mt_replay_t *r, const mt_block_t *nb)
{
    if (mt_blocks_full(r)) {
        int rc = mt_blocks_grow(r);
        if (rc < 0)
            return rc;
    }
    uint64_t i = mt_slot(r, nb->addr);
    while (r->blocks[i].addr)
        i = (i + 1) & r->mask;
    r->blocks[i] = *nb;
    mt_heap_insert(r, nb);
    return 0;
}

/* The thread's realloc in flight, if any. */
static mt_pending_realloc_t *mt_pending_find(mt_replay_t *r, uint64_t tid)
{
    for (size_t i = 0; i < r->npending; i++)
        if (r->pending[i].tid == tid)
            return &r->pending[i];
    return NULL;
}

static void mt_pending_drop(mt_replay_t *r, mt_pending_realloc_t *p)
{
    *p = r->pending[--r->npending];
}

/* Any event of a thread other than the realloc's own outcome means realloc(p, 0) freed p. */
static inline void mt_pending_settle(mt_replay_t *r, uint64_t tid)
{
    if (__builtin_expect(r->npending == 0, 1))
        return;
    mt_pending_realloc_t *p = mt_pending_find(r, tid);
    if (p)
        mt_pending_drop(r, p);
}

int mt_replay_alloc(mt_replay_t *r, uint64_t tid, uint64_t t, uint64_t addr, uint64_t size,
                    uint32_t node, unsigned kind)
{
    int rc;
    if (r->npending) {
        /* A realloc's outcome: the old block (already out of the heap) is gone for good. */
        mt_pending_settle(r, tid);
    }
    mt_node_stats_t *ns = mt_node_stats_get(r, node);
    if (!ns)
        return -ENOMEM;
    r->last_time_us = t;
    mt_thread_last_t *th = mt_thread(r, tid, t);
    if (!th)
        return -ENOMEM;
    mt_thread_stats_t *ts = &r->tstats[th->idx];
    int selected = ts->selected && t >= r->win_from_us;
    /* A block a forked child inherited is live in its heap but was no call of the child's. */
    if (kind == MT_ALLOC_INHERITED) {
        if (selected) { /* the pseudo-thread "(inherited)", tid 0: inherit.h */
            r->inherited_bytes += size;
            r->inherited_blocks++;
        }
    } else {
        if (__builtin_expect(t >= r->win_from_us, 1)) {
            ts->allocations++;
            ts->bytes_allocated += size;
        }
        if (__builtin_expect(selected, 1)) {
            r->allocations++;
            r->allocs_by_kind[kind & 15]++;
            r->bytes_allocated += size;
            if (__builtin_expect(kind == MT_ALLOC_CUSTOM, 0))
                r->custom_bytes_allocated += size;
            r->allocs_by_size_bits[mt_replay_size_bucket(size)]++;
            ns->allocations++;
            ns->bytes_allocated += size;
            if ((rc = mt_node_thread(r, ns, node, th->idx)) < 0)
                return rc;
        }
    }
    if (__builtin_expect(addr == 0, 0)) {
        th->addr = 0;
        return 0; /* nothing to track; counted as a call */
    }
    if (__builtin_expect(kind == MT_ALLOC_CUSTOM, 0))
        addr |= MT_BLOCK_CUSTOM_BIT; /* apart from its slab (replay.h) */
    th->addr = addr;
    /* One probe: it ends at the address (a block we saw no free of) or at the free slot
     * where the new block goes, unless the table must grow first. */
    uint64_t i = mt_slot(r, addr);
    mt_block_t *old = NULL;
    for (;; i = (i + 1) & r->mask) {
        if (r->blocks[i].addr == addr) {
            old = &r->blocks[i];
            break;
        }
        if (!r->blocks[i].addr)
            break;
    }
    if (old) {
        /* The address came back without a free we saw: the old block must be gone. */
        r->replaced_blocks++;
        mt_heap_release(r, old);
        mt_blocks_remove(r, old);
    }
    if (size < MT_REPLAY_SMALL_BLOCK && kind != MT_ALLOC_CUSTOM &&
        (!r->heap_low_addr || addr < r->heap_low_addr))
        r->heap_low_addr = addr;
    if (__builtin_expect(old != NULL || mt_blocks_full(r), 0)) {
        mt_block_t nb = {.addr = addr,
                         .size = size,
                         .time_us = t,
                         .node = node,
                         .kind = kind,
                         .thread = th->idx};
        return mt_blocks_put(r, &nb);
    }
    /* Field by field into the slot, not a block built on the stack and copied: that copy's
     * 16-byte loads of fields just written by 8-byte stores are not forwarded and stall at
     * every allocation (a sixth of this function's time on churn.c's log). */
    mt_block_t *b = &r->blocks[i];
    b->addr = addr;
    b->size = size;
    b->time_us = t;
    b->node = node;
    b->kind = kind;
    b->thread = th->idx;
    mt_heap_insert(r, b);
    return 0;
}

int mt_replay_free(mt_replay_t *r, uint64_t tid, uint64_t t, uint64_t addr)
{
    mt_pending_settle(r, tid);
    r->last_time_us = t;
    mt_thread_last_t *th = mt_thread(r, tid, t);
    if (!th)
        return -ENOMEM;
    uint64_t last = th->addr;
    th->addr = 0;
    mt_block_t *b = addr ? mt_blocks_lookup(r, addr) : NULL;
    /* With a thread filter, a free counts with its block: a block the selected threads
     * allocated, whoever frees it; an unknown address, when they free it. */
    if (!b) {
        if (r->tstats[th->idx].selected && t >= r->win_from_us) {
            r->free_calls++;
            if (r->attached)
                r->freed_before_attach++;
            else
                r->unknown_frees++;
        }
        return 0;
    }
    if (__builtin_expect(mt_replay_block_selected(r, b), 1)) {
        r->free_calls++;
        if (last == addr) {
            r->temporary_allocations++;
            mt_node_stats(r, b->node)->temporary++;
        }
        mt_lifetime_note(r, b, t);
        r->frees++;
        r->bytes_freed += b->size;
    }
    mt_heap_release(r, b);
    mt_blocks_remove(r, b);
    return 0;
}

int mt_replay_free_custom(mt_replay_t *r, uint64_t tid, uint64_t t, uint64_t addr)
{
    return mt_replay_free(r, tid, t, addr ? addr | MT_BLOCK_CUSTOM_BIT : 0);
}

int mt_replay_realloc_release(mt_replay_t *r, uint64_t tid, uint64_t t, uint64_t addr)
{
    mt_pending_settle(r, tid);
    r->last_time_us = t;
    mt_thread_last_t *th = mt_thread(r, tid, t);
    if (!th)
        return -ENOMEM;
    th->addr = 0; /* a realloc is neither the free of a temporary nor a new allocation yet */
    mt_block_t *b = addr ? mt_blocks_lookup(r, addr) : NULL;
    if (!b) {
        if (r->tstats[th->idx].selected && t >= r->win_from_us) {
            if (r->attached)
                r->freed_before_attach++;
            else
                r->unknown_frees++;
        }
        return 0;
    }
    int selected = mt_replay_block_selected(r, b);
    if (selected)
        mt_lifetime_note(r, b, t);
    if (MT_GROW(r->pending, r->pending_cap, r->npending + 1, 8) < 0)
        return -ENOMEM;
    /* Counted as released now: should the realloc fail, REALLOC_FAILED takes it back. Whole,
     * padding too: the index (log_index.c) copies it byte for byte. */
    mt_pending_realloc_t *pr = &r->pending[r->npending++];
    memset(pr, 0, sizeof *pr);
    pr->tid = tid;
    pr->block = *b;
    if (selected) {
        r->frees++;
        r->bytes_freed += b->size;
    }
    mt_heap_release(r, b);
    mt_blocks_remove(r, b);
    return 0;
}

int mt_replay_realloc_failed(mt_replay_t *r, uint64_t tid, uint64_t t, uint64_t addr)
{
    r->last_time_us = t;
    mt_pending_realloc_t *p = r->npending ? mt_pending_find(r, tid) : NULL;
    if (!p || p->block.addr != addr) {
        if (p)
            mt_pending_drop(r, p);
        r->protocol_errors++;
        return 0;
    }
    mt_block_t b = p->block;
    mt_pending_drop(r, p);
    if (mt_replay_block_selected(r, &b)) {
        r->realloc_failures++;
        r->frees--;
        r->bytes_freed -= b.size;
        if (b.kind == MT_ALLOC_INHERITED) { /* back in the heap: not freed after all */
            r->inherited_freed_bytes -= b.size;
            r->inherited_freed_blocks--;
        }
    }
    if (mt_blocks_lookup(r, b.addr)) {
        r->protocol_errors++; /* someone allocated it meanwhile: keep theirs */
        return 0;
    }
    return mt_blocks_put(r, &b);
}

/* ---- aggregated logs (AGG_* records, log_format.h) ----
 * The recorder replayed the events itself and wrote the results: they are set here as the
 * replay would have counted them. AGG_HEAP comes first and opens the peak's generation, so the
 * peaks AGG_SITE sets are the ones mt_replay_node reads; the live blocks then come in below
 * the peak and leave it alone. */

int mt_replay_agg_heap(mt_replay_t *r, uint64_t t, const void *values, size_t len)
{
    uint64_t v[MT_AGG_HEAP_FIELDS] = {0};
    const uint8_t *p = values, *end = p + len;
    for (unsigned i = 0; p < end; i++) {
        uint64_t x;
        if (mt_varint_get(&p, end, &x) < 0)
            return -EINVAL;
        if (i < MT_AGG_HEAP_FIELDS)
            v[i] = x;
    }
    r->last_time_us = t;
    r->aggregated = 1;
    r->allocations = v[MT_AGG_ALLOCATIONS];
    r->frees = v[MT_AGG_FREES];
    r->bytes_allocated = v[MT_AGG_BYTES_ALLOCATED];
    r->bytes_freed = v[MT_AGG_BYTES_FREED];
    r->temporary_allocations = v[MT_AGG_TEMPORARY];
    r->free_calls = v[MT_AGG_FREE_CALLS];
    r->unknown_frees = v[MT_AGG_UNKNOWN_FREES];
    r->realloc_failures = v[MT_AGG_REALLOC_FAILURES];
    r->replaced_blocks = v[MT_AGG_REPLACED];
    for (unsigned k = 0; k < 16; k++)
        r->allocs_by_kind[k] = v[MT_AGG_BY_KIND + k];
    for (unsigned b = 0; b < MT_REPLAY_SIZE_BITS; b++)
        r->allocs_by_size_bits[b] = v[MT_AGG_BY_SIZE_BITS + b];
    r->custom_bytes_allocated = 0; /* not kept apart by the recorder */
    r->all_peak_bytes = r->peak_heap_bytes = v[MT_AGG_PEAK_BYTES];
    r->all_peak_blocks = r->peak_heap_blocks = v[MT_AGG_PEAK_BLOCKS];
    r->peak_time_us = v[MT_AGG_PEAK_US];
    r->gen++;
    return 0;
}

int mt_replay_agg_site(mt_replay_t *r, uint32_t node, uint64_t allocations, uint64_t bytes,
                       uint64_t peak_bytes, uint64_t peak_blocks, uint64_t temporary)
{
    mt_node_stats_t *ns = mt_node_stats_make(r, node);
    if (!ns)
        return -ENOMEM;
    ns->allocations = allocations;
    ns->bytes_allocated = bytes;
    ns->temporary = temporary;
    ns->peak_bytes = peak_bytes;
    ns->peak_blocks = peak_blocks;
    ns->gen = r->gen; /* saved at this peak: the blocks that come next do not change it */
    return 0;
}

int mt_replay_agg_live(mt_replay_t *r, uint64_t tid, uint64_t t, uint64_t addr, uint64_t size,
                       uint32_t node, unsigned kind)
{
    if (!addr)
        return -EINVAL;
    if (!mt_node_stats_make(r, node))
        return -ENOMEM;
    r->last_time_us = t;
    mt_thread_last_t *th = mt_thread(r, tid, t);
    if (!th)
        return -ENOMEM;
    th->addr = 0;
    if (kind == MT_ALLOC_CUSTOM)
        addr |= MT_BLOCK_CUSTOM_BIT; /* apart from its slab (replay.h) */
    if (mt_blocks_lookup(r, addr))
        return -EEXIST; /* listed twice: the log is corrupt */
    if (size < MT_REPLAY_SMALL_BLOCK && kind != MT_ALLOC_CUSTOM &&
        (!r->heap_low_addr || addr < r->heap_low_addr))
        r->heap_low_addr = addr;
    mt_block_t nb = {
        .addr = addr, .size = size, .time_us = t, .node = node, .kind = kind, .thread = th->idx};
    return mt_blocks_put(r, &nb);
}

/* ---- anonymous mappings ---- */

/* First mapping whose end is above addr. */
static size_t mt_maps_lower(const mt_replay_t *r, uint64_t addr)
{
    size_t lo = 0, hi = r->nmaps;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->maps[mid].start + r->maps[mid].len <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int mt_maps_reserve(mt_replay_t *r, size_t extra)
{
    return MT_GROW(r->maps, r->maps_cap, r->nmaps + extra, 64);
}

/* Removes [start, end) from the live mappings, splitting where needed. */
static int mt_maps_cut(mt_replay_t *r, uint64_t start, uint64_t end)
{
    size_t i = mt_maps_lower(r, start);
    while (i < r->nmaps && r->maps[i].start < end) {
        mt_mapping_t *m = &r->maps[i];
        uint64_t ms = m->start, me = m->start + m->len;
        uint64_t cs = ms > start ? ms : start, ce = me < end ? me : end;
        r->mmap_bytes -= ce - cs;
        if (ms < cs && ce < me) { /* a hole in the middle: split in two */
            int rc = mt_maps_reserve(r, 1);
            if (rc < 0)
                return rc;
            m = &r->maps[i];
            memmove(&r->maps[i + 2], &r->maps[i + 1], (r->nmaps - i - 1) * sizeof *m);
            r->nmaps++;
            r->maps[i + 1] = (mt_mapping_t){ce, me - ce, m->node};
            m->len = cs - ms;
            return 0;
        }
        if (ms < cs) { /* keep the head */
            m->len = cs - ms;
            i++;
        } else if (ce < me) { /* keep the tail */
            m->start = ce;
            m->len = me - ce;
            i++;
        } else { /* all of it */
            memmove(&r->maps[i], &r->maps[i + 1], (r->nmaps - i - 1) * sizeof *m);
            r->nmaps--;
        }
    }
    return 0;
}

int mt_replay_mmap(mt_replay_t *r, uint64_t t, uint64_t addr, uint64_t size, uint32_t node)
{
    r->last_time_us = t;
    r->mmap_calls++;
    r->mmap_bytes_total += size;
    if (size == 0 || addr + size < addr)
        return 0;
    /* MAP_FIXED over an existing mapping replaces it. */
    int rc = mt_maps_cut(r, addr, addr + size);
    if (rc < 0 || (rc = mt_maps_reserve(r, 1)) < 0)
        return rc;
    size_t i = mt_maps_lower(r, addr);
    memmove(&r->maps[i + 1], &r->maps[i], (r->nmaps - i) * sizeof *r->maps);
    r->maps[i] = (mt_mapping_t){addr, size, node};
    r->nmaps++;
    r->mmap_bytes += size;
    if (r->mmap_bytes > r->mmap_peak_bytes) {
        r->mmap_peak_bytes = r->mmap_bytes;
        r->mmap_peak_time_us = t;
    }
    return 0;
}

int mt_replay_munmap(mt_replay_t *r, uint64_t t, uint64_t addr, uint64_t size)
{
    r->last_time_us = t;
    r->munmap_calls++;
    if (size == 0 || addr + size < addr)
        return 0;
    return mt_maps_cut(r, addr, addr + size);
}

/* ---- samples and exit ---- */

int mt_replay_sample(mt_replay_t *r, uint64_t t, const mt_sample_t *s)
{
    r->last_time_us = t;
    r->nsamples_total++;
    r->last_sample = *s;
    r->last_sample_time_us = t;
    if (s->rss > r->peak_rss_bytes) {
        r->peak_rss_bytes = s->rss;
        r->peak_rss_time_us = t;
    }
    /* The allocator's view is the process's: so is the heap it is compared with. */
    mt_sample_point_t pt = {t, r->all_heap_bytes, r->all_arena_obj_bytes, *s, r->py_arena_bytes};
    if (r->nsamples_total == 1 ||
        mt_sample_nearer_peak(&pt, &r->peak_sample, r->all_peak_bytes, r->peak_time_us))
        r->peak_sample = pt;
    if (r->sample_skip > 0) {
        r->sample_skip--;
        return 0;
    }
    if (r->nsamples == MT_REPLAY_MAX_SAMPLES) {
        /* Keep every other point and halve the rate from now on: the series stays evenly
         * spaced and bounded however long the run. */
        for (size_t i = 0; i < r->nsamples / 2; i++)
            r->samples[i] = r->samples[2 * i];
        r->nsamples /= 2;
        r->sample_stride *= 2;
    }
    if (MT_GROW(r->samples, r->samples_cap, r->nsamples + 1, 256) < 0)
        return -ENOMEM;
    r->samples[r->nsamples++] = pt;
    r->sample_skip = r->sample_stride - 1;
    return 0;
}

void mt_replay_exit(mt_replay_t *r, uint64_t t, int reason, uint64_t status)
{
    r->last_time_us = t;
    r->has_exit = 1;
    r->exit_reason = reason;
    r->exit_status = status;
    r->exit_time_us = t;
}

int mt_replay_record(mt_replay_t *r, const mt_record_t *rec)
{
    switch (rec->tag) {
    case MT_TAG_ALLOC:
        return mt_replay_alloc(r, rec->tid, rec->time_us, rec->addr, rec->size, rec->node,
                               rec->alloc_kind);
    case MT_TAG_FREE:
        return mt_replay_free(r, rec->tid, rec->time_us, rec->addr);
    case MT_TAG_CUSTOM_FREE:
        return mt_replay_free_custom(r, rec->tid, rec->time_us, rec->addr);
    case MT_TAG_REALLOC_RELEASE:
        return mt_replay_realloc_release(r, rec->tid, rec->time_us, rec->addr);
    case MT_TAG_REALLOC_FAILED:
        return mt_replay_realloc_failed(r, rec->tid, rec->time_us, rec->addr);
    case MT_TAG_MMAP:
        /* With a thread filter, the mappings its threads made (whoever unmaps them). */
        if (!mt_replay_tid_selected(r, rec->tid) || rec->time_us < r->win_from_us) {
            r->last_time_us = rec->time_us;
            return 0;
        }
        return mt_replay_mmap(r, rec->time_us, rec->addr, rec->size, rec->node);
    case MT_TAG_MUNMAP:
        return mt_replay_munmap(r, rec->time_us, rec->addr, rec->size);
    case MT_TAG_SAMPLE:
        return mt_replay_sample(r, rec->time_us, &rec->sample);
    case MT_TAG_EXIT:
        mt_replay_exit(r, rec->time_us, (int)(rec->a > 255 ? 255 : rec->a), rec->b);
        return 0;
    case MT_TAG_NOTICE:
        r->last_time_us = rec->time_us;
        return 0;
    default:
        return 0;
    }
}

/* r->stats rewritten in place as r->node_final, entry by entry: entry i's new place ends
 * before its old one ends and starts after every earlier entry's old place. */
static void mt_replay_finalize_stats(mt_replay_t *r)
{
    unsigned char *p = (unsigned char *)r->stats;
    for (uint32_t i = 0; i < r->nstats; i++) {
        mt_node_stats_t s;
        memcpy(&s, p + (size_t)i * sizeof s, sizeof s);
        if (s.gen != r->gen) { /* unchanged since the last peak */
            s.peak_bytes = s.live_bytes;
            s.peak_blocks = s.live_blocks;
        }
        mt_node_final_t f = {s.allocations,
                             s.bytes_allocated,
                             s.live_bytes,
                             s.live_blocks,
                             s.peak_bytes,
                             s.peak_blocks,
                             s.temporary,
                             s.thread | (s.multi ? MT_NODE_FINAL_MULTI : 0),
                             0};
        memcpy(p + (size_t)i * sizeof f, &f, sizeof f);
    }
    void *fit = realloc(p, (r->nstats ? r->nstats : 1) * sizeof(mt_node_final_t));
    r->node_final = fit ? fit : (void *)p;
    if (!r->nstats) /* the one entry kept for an empty run */
        memset(r->node_final, 0, sizeof(mt_node_final_t));
    r->stats = NULL;
    r->stats_cap = 0;
}

/* The node ids that allocated as one bit each, and their stats in id order: a node's stats
 * are at its rank among them. A clang compile has 2.8 million nodes, 380,000 of which
 * allocated: 11 MB of slots become 0.5 MB, and 27 MB of figures 24 MB, when the sites that
 * reports build next need the memory. Nothing changes if memory runs short: the slots stay. */
static void mt_replay_compact(mt_replay_t *r)
{
    size_t words = ((size_t)r->node_slots + 63) / 64;
    uint64_t *bits = calloc(words ? words : 1, sizeof *bits);
    uint32_t *rank = malloc((words ? words : 1) * sizeof *rank);
    uint32_t *dest = malloc((r->nstats ? r->nstats : 1) * sizeof *dest);
    if (!bits || !rank || !dest || !r->node_slot) {
        free(bits);
        free(rank);
        free(dest);
        return;
    }
    uint32_t k = 0;
    for (size_t w = 0; w < words; w++) {
        rank[w] = k;
        for (uint32_t id = (uint32_t)w * 64; id < r->node_slots && id < (w + 1) * 64; id++) {
            if (r->node_slot[id]) {
                bits[w] |= 1ull << (id & 63);
                dest[r->node_slot[id] - 1] = k++;
            }
        }
    }
    /* In place, cycle by cycle: each swap puts one entry where it belongs. */
    for (uint32_t i = 0; i < r->nstats; i++) {
        while (dest[i] != i) {
            uint32_t j = dest[i];
            mt_node_stats_t t = r->stats[j];
            r->stats[j] = r->stats[i];
            r->stats[i] = t;
            dest[i] = dest[j];
            dest[j] = j;
        }
    }
    free(dest);
    free(r->node_slot);
    r->node_slot = NULL;
    r->node_slot_cap = 0;
    r->node_bits = bits;
    r->node_rank = rank;
    mt_replay_finalize_stats(r);
}

void mt_replay_peak_restart(mt_replay_t *r)
{
    mt_replay_peak_now(r, r->last_time_us);
}

void mt_replay_window_open(mt_replay_t *r, uint64_t t)
{
    r->win_from_us = t;
    r->win_open = 1;
    /* The peaks are the window's: from the heap as it is now, with nothing of the window's in
     * it yet. The lazy snapshots (mt_node_touch) start over with the new generation. */
    mt_replay_peak_now(r, t);
    r->mmap_peak_bytes = r->mmap_bytes;
    r->mmap_peak_time_us = t;
    r->peak_rss_bytes = 0;
    r->peak_rss_time_us = t;
    /* no sample before the window describes its peak: the first one inside is nearer */
    r->peak_sample.heap_bytes = UINT64_MAX / 2;
}

void mt_replay_finish(mt_replay_t *r)
{
    r->npending = 0; /* released blocks stay released: realloc(p, 0) */
    if (r->pairs_sorted)
        return;
    mt_replay_compact(r);
    /* The pair set is read by node from now on: its keys, compacted and sorted. */
    size_t k = 0;
    for (size_t i = 0; r->pairs && i <= r->pairs_mask; i++)
        if (r->pairs[i])
            r->pairs[k++] = r->pairs[i];
    if (k)
        qsort(r->pairs, k, sizeof *r->pairs, mt_tid_cmp);
    r->npairs = k;
    r->pairs_sorted = 1;
}

/* For the index (log_index.c), which writes a replay out and reads it back: a block table
 * made as the replay makes its own, and the size of a node's final figures. */
mt_block_t *mt_replay_blocks_new(uint64_t n)
{
    return mt_blocks_alloc(n);
}

size_t mt_replay_node_final_size(void)
{
    return sizeof(mt_node_final_t);
}

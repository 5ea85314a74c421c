// SPDX-License-Identifier: MIT
// Unit tests for replay: exact totals, the realloc protocol (success, failure, realloc(p, 0)),
// unknown frees, partial munmap, the peak and what each stack held at the peak (lazy
// snapshot), the sample that stands for the peak, a randomized comparison against a
// brute-force model, and each thread's figures (its own peak, its part of the heap peak,
// cross-thread frees, the threads of a node) with the --thread filter restricting every one.
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "replay.h"

static mt_replay_t r;

static void setup(void)
{
    ck_assert_int_eq(mt_replay_init(&r), 0);
}

static void teardown(void)
{
    mt_replay_destroy(&r);
}

#define TA(tid, t, addr, size, node)                                                               \
    ck_assert_int_eq(mt_replay_alloc(&r, tid, t, addr, size, node, 0), 0)
#define TF(tid, t, addr) ck_assert_int_eq(mt_replay_free(&r, tid, t, addr), 0)
/* thread 1's, where the test is about something else than threads */
#define A(t, addr, size, node) TA(1, t, addr, size, node)
#define F(t, addr) TF(1, t, addr)

START_TEST(exact_counts)
{
    A(1, 0x1000, 10, 1);
    A(2, 0x2000, 20, 1);
    A(3, 0x3000, 30, 2);
    F(4, 0x2000);
    F(5, 0x9999); /* unknown */
    ck_assert_uint_eq(r.allocations, 3);
    ck_assert_uint_eq(r.frees, 1);
    ck_assert_uint_eq(r.free_calls, 2);
    ck_assert_uint_eq(r.unknown_frees, 1);
    ck_assert_uint_eq(r.bytes_allocated, 60);
    ck_assert_uint_eq(r.bytes_freed, 20);
    ck_assert_uint_eq(r.heap_bytes, 40);
    ck_assert_uint_eq(r.heap_blocks, 2);
    ck_assert_uint_eq(r.peak_heap_bytes, 60);
    ck_assert_uint_eq(r.peak_time_us, 3);
    mt_node_stats_t n1 = mt_replay_node(&r, 1);
    ck_assert_uint_eq(n1.allocations, 2);
    ck_assert_uint_eq(n1.bytes_allocated, 30);
    ck_assert_uint_eq(n1.live_bytes, 10);
    ck_assert_uint_eq(n1.live_blocks, 1);
    ck_assert_ptr_null(mt_replay_find(&r, 0x2000));
    ck_assert_uint_eq(mt_replay_find(&r, 0x3000)->size, 30);
}
END_TEST

START_TEST(peak_per_node_lazy_snapshot)
{
    /* node 1 grows to 100 and shrinks, node 2 peaks later but alone is smaller */
    A(1, 0x100, 60, 1);
    A(2, 0x200, 40, 1); /* heap 100, peak */
    F(3, 0x100);        /* heap 40 */
    A(4, 0x300, 50, 2); /* heap 90 < 100 */
    F(5, 0x200);        /* heap 50 */
    ck_assert_uint_eq(r.peak_heap_bytes, 100);
    ck_assert_uint_eq(r.peak_time_us, 2);
    mt_node_stats_t n1 = mt_replay_node(&r, 1), n2 = mt_replay_node(&r, 2);
    ck_assert_uint_eq(n1.peak_bytes, 100);
    ck_assert_uint_eq(n1.peak_blocks, 2);
    ck_assert_uint_eq(n2.peak_bytes, 0);
    ck_assert_uint_eq(n2.peak_blocks, 0);
    /* a new, higher peak replaces the snapshot: node 2 holds 150, node 1 nothing */
    A(6, 0x400, 100, 2); /* heap 150 */
    ck_assert_uint_eq(r.peak_heap_bytes, 150);
    F(7, 0x300);
    n1 = mt_replay_node(&r, 1);
    n2 = mt_replay_node(&r, 2);
    ck_assert_uint_eq(n1.peak_bytes, 0);
    ck_assert_uint_eq(n2.peak_bytes, 150);
    ck_assert_uint_eq(n2.peak_blocks, 2);
    ck_assert_uint_eq(n2.live_bytes, 100);
    ck_assert_uint_eq(r.peak_heap_blocks, 2);
}
END_TEST

START_TEST(realloc_success)
{
    A(1, 0x100, 10, 1);
    ck_assert_int_eq(mt_replay_realloc_release(&r, 1, 2, 0x100), 0);
    ck_assert_uint_eq(r.heap_bytes, 0);
    ck_assert_int_eq(mt_replay_alloc(&r, 1, 3, 0x500, 30, 2, MT_ALLOC_REALLOC), 0);
    ck_assert_uint_eq(r.allocations, 2);
    ck_assert_uint_eq(r.allocs_by_kind[MT_ALLOC_REALLOC], 1);
    ck_assert_uint_eq(r.frees, 1);
    ck_assert_uint_eq(r.heap_bytes, 30);
    ck_assert_uint_eq(r.heap_blocks, 1);
    ck_assert_uint_eq(r.peak_heap_bytes, 30);
    ck_assert_uint_eq(r.npending, 0);
    ck_assert_uint_eq(mt_replay_node(&r, 1).live_bytes, 0);
}
END_TEST

START_TEST(realloc_failure_restores_block)
{
    A(1, 0x100, 10, 1);
    /* another thread's events in between must not disturb thread 1's realloc */
    ck_assert_int_eq(mt_replay_realloc_release(&r, 1, 2, 0x100), 0);
    ck_assert_int_eq(mt_replay_alloc(&r, 2, 3, 0x900, 5, 3, 0), 0);
    ck_assert_int_eq(mt_replay_realloc_failed(&r, 1, 4, 0x100), 0);
    ck_assert_uint_eq(r.realloc_failures, 1);
    ck_assert_uint_eq(r.frees, 0);
    ck_assert_uint_eq(r.heap_bytes, 15);
    const mt_block_t *b = mt_replay_find(&r, 0x100);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(b->size, 10);
    ck_assert_uint_eq(b->node, 1);
    ck_assert_uint_eq(mt_replay_node(&r, 1).live_blocks, 1);
    F(5, 0x100);
    ck_assert_uint_eq(r.heap_bytes, 5);
    /* REALLOC_FAILED with no release in flight is a protocol error, not a crash */
    ck_assert_int_eq(mt_replay_realloc_failed(&r, 1, 6, 0x100), 0);
    ck_assert_uint_eq(r.protocol_errors, 1);
    ck_assert_uint_eq(r.heap_bytes, 5);
}
END_TEST

START_TEST(realloc_to_zero_frees)
{
    A(1, 0x100, 10, 1);
    ck_assert_int_eq(mt_replay_realloc_release(&r, 1, 2, 0x100), 0);
    /* nothing follows from thread 1 but another malloc: the block stays freed */
    A(3, 0x200, 7, 1);
    ck_assert_int_eq(mt_replay_realloc_failed(&r, 1, 4, 0x100), 0);
    ck_assert_uint_eq(r.protocol_errors, 1);
    ck_assert_uint_eq(r.frees, 1);
    ck_assert_uint_eq(r.heap_bytes, 7);
    ck_assert_int_eq(mt_replay_realloc_release(&r, 1, 5, 0x200), 0);
    mt_replay_finish(&r);
    ck_assert_uint_eq(r.heap_bytes, 0);
    ck_assert_uint_eq(r.frees, 2);
    ck_assert_uint_eq(r.unknown_frees, 0);
}
END_TEST

START_TEST(address_reused_without_free)
{
    A(1, 0x100, 10, 1);
    A(2, 0x100, 20, 2);
    ck_assert_uint_eq(r.replaced_blocks, 1);
    ck_assert_uint_eq(r.heap_bytes, 20);
    ck_assert_uint_eq(r.heap_blocks, 1);
    ck_assert_uint_eq(mt_replay_node(&r, 1).live_bytes, 0);
}
END_TEST

START_TEST(mmap_partial_munmap)
{
    ck_assert_int_eq(mt_replay_mmap(&r, 1, 0x10000, 0x4000, 1), 0);
    ck_assert_int_eq(mt_replay_mmap(&r, 2, 0x20000, 0x2000, 1), 0);
    ck_assert_uint_eq(r.mmap_bytes, 0x6000);
    ck_assert_uint_eq(r.mmap_peak_bytes, 0x6000);
    /* a hole in the middle splits the first mapping */
    ck_assert_int_eq(mt_replay_munmap(&r, 3, 0x11000, 0x1000), 0);
    ck_assert_uint_eq(r.mmap_bytes, 0x5000);
    ck_assert_uint_eq(r.nmaps, 3);
    /* one munmap spanning the tail of one mapping, a gap and the head of the next */
    ck_assert_int_eq(mt_replay_munmap(&r, 4, 0x13000, 0xe000), 0);
    ck_assert_uint_eq(r.mmap_bytes, 0x1000 + 0x1000 + 0x1000);
    ck_assert_uint_eq(r.nmaps, 3);
    ck_assert_uint_eq(r.maps[1].start, 0x12000);
    ck_assert_uint_eq(r.maps[1].len, 0x1000);
    ck_assert_uint_eq(r.maps[2].start, 0x21000);
    ck_assert_uint_eq(r.maps[2].len, 0x1000);
    /* unmapping nothing */
    ck_assert_int_eq(mt_replay_munmap(&r, 5, 0x90000, 0x1000), 0);
    ck_assert_uint_eq(r.mmap_bytes, 0x3000);
    /* MAP_FIXED over an existing range replaces it */
    ck_assert_int_eq(mt_replay_mmap(&r, 6, 0x10000, 0x3000, 2), 0);
    ck_assert_uint_eq(r.mmap_bytes, 0x3000 + 0x1000); /* new one + [0x21000, 0x22000) */
    ck_assert_uint_eq(r.mmap_peak_bytes, 0x6000);
    ck_assert_uint_eq(r.mmap_calls, 3);
    ck_assert_uint_eq(r.munmap_calls, 3);
    ck_assert_uint_eq(r.heap_bytes, 0); /* kept apart from the heap */
}
END_TEST

START_TEST(samples_bounded)
{
    mt_sample_t s = {0};
    for (uint64_t i = 0; i < 100000; i++) {
        s.rss = i == 777 ? 1ull << 40 : i;
        ck_assert_int_eq(mt_replay_sample(&r, i, &s), 0);
    }
    ck_assert_uint_le(r.nsamples, 4096);
    ck_assert_uint_ge(r.nsamples, 2048);
    ck_assert_uint_eq(r.peak_rss_bytes, 1ull << 40);
    ck_assert_uint_eq(r.peak_rss_time_us, 777);
    ck_assert_uint_eq(r.nsamples_total, 100000);
    for (size_t i = 1; i < r.nsamples; i++)
        ck_assert_uint_eq(r.samples[i].time_us - r.samples[i - 1].time_us, r.sample_stride);
}
END_TEST

START_TEST(peak_sample_by_heap_then_time)
{
    mt_sample_point_t before = {95, 2000, 0, {0}, 0}, at = {180, 4000, 0, {0}, 0},
                      later = {400, 4000, 0, {0}, 0};
    /* closer in heap wins over closer in time; of two equally close, the nearer in time */
    ck_assert(mt_sample_nearer_peak(&at, &before, 4000, 100));
    ck_assert(!mt_sample_nearer_peak(&before, &at, 4000, 100));
    ck_assert(mt_sample_nearer_peak(&at, &later, 4000, 100));
    ck_assert(!mt_sample_nearer_peak(&later, &at, 4000, 100));
    ck_assert(!mt_sample_nearer_peak(&at, &at, 4000, 100));
}
END_TEST

#define S(t, free_held)                                                                            \
    do {                                                                                           \
        mt_sample_t s_ = {.fordblks = free_held};                                                  \
        ck_assert_int_eq(mt_replay_sample(&r, t, &s_), 0);                                         \
    } while (0)

START_TEST(peak_sample_kept)
{
    A(10, 0x1000, 1000, 1);
    A(20, 0x2000, 1000, 1);
    S(95, 1);                /* timer: nearest the peak in time, but the heap was half of it */
    A(100, 0x3000, 2000, 1); /* peak: 4000 */
    S(180, 2);               /* the recorder's peak sample, before the first free after the high */
    F(180, 0x3000);
    A(300, 0x4000, 2000, 1); /* the same total again, later: not a new peak */
    S(310, 3);
    ck_assert_uint_eq(r.peak_time_us, 100);
    ck_assert_uint_eq(r.peak_sample.time_us, 180);
    ck_assert_uint_eq(r.peak_sample.heap_bytes, 4000);
    ck_assert_uint_eq(r.peak_sample.s.fordblks, 2);
    /* a higher peak later takes over, and survives the series being thinned out */
    A(500, 0x5000, 10, 1);
    S(510, 4);
    F(520, 0x5000);
    for (uint64_t t = 1000; t < 101000; t++)
        S(t, 5);
    ck_assert_uint_lt(r.nsamples, 4096);
    ck_assert_uint_eq(r.peak_heap_bytes, 4010);
    ck_assert_uint_eq(r.peak_sample.time_us, 510);
    ck_assert_uint_eq(r.peak_sample.s.fordblks, 4);
}
END_TEST

/* Random alloc/free/realloc against a brute-force model (array of live blocks). */
START_TEST(random_against_model)
{
    enum { SLOTS = 3000 };
    static uint64_t size[SLOTS];
    static uint32_t node[SLOTS];
    memset(size, 0, sizeof size);
    uint64_t seed = 12345, heap = 0, peak = 0, frees = 0, allocs = 0;
    uint64_t peak_node[8] = {0}, live_node[8] = {0};
    for (uint64_t t = 1; t < 200000; t++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t slot = (uint32_t)(seed >> 33) % SLOTS;
        uint64_t addr = 0x10000 + (uint64_t)slot * 64;
        if (size[slot]) {
            if ((seed >> 20) % 4 == 0) { /* realloc to a fresh slot-independent size */
                ck_assert_int_eq(mt_replay_realloc_release(&r, 1, t, addr), 0);
                heap -= size[slot];
                live_node[node[slot]] -= size[slot];
                frees++;
                size[slot] = 1 + (seed >> 40) % 500;
                node[slot] = (uint32_t)(seed >> 50) % 8;
                ck_assert_int_eq(
                    mt_replay_alloc(&r, 1, t, addr, size[slot], node[slot], MT_ALLOC_REALLOC), 0);
                allocs++;
            } else {
                ck_assert_int_eq(mt_replay_free(&r, 1, t, addr), 0);
                heap -= size[slot];
                live_node[node[slot]] -= size[slot];
                size[slot] = 0;
                frees++;
                continue;
            }
        } else {
            size[slot] = 1 + (seed >> 40) % 500;
            node[slot] = (uint32_t)(seed >> 50) % 8;
            ck_assert_int_eq(mt_replay_alloc(&r, 1, t, addr, size[slot], node[slot], 0), 0);
            allocs++;
        }
        heap += size[slot];
        live_node[node[slot]] += size[slot];
        if (heap > peak) {
            peak = heap;
            memcpy(peak_node, live_node, sizeof peak_node);
        }
        ck_assert_uint_eq(r.heap_bytes, heap);
    }
    mt_replay_finish(&r);
    ck_assert_uint_eq(r.peak_heap_bytes, peak);
    ck_assert_uint_eq(r.frees, frees);
    ck_assert_uint_eq(r.allocations, allocs);
    for (uint32_t n = 0; n < 8; n++) {
        mt_node_stats_t s = mt_replay_node(&r, n);
        ck_assert_uint_eq(s.peak_bytes, peak_node[n]);
        ck_assert_uint_eq(s.live_bytes, live_node[n]);
    }
    uint64_t live = 0;
    for (int i = 0; i < SLOTS; i++) {
        const mt_block_t *b = mt_replay_find(&r, 0x10000 + (uint64_t)i * 64);
        ck_assert_uint_eq(b ? b->size : 0, size[i]);
        live += size[i] != 0;
    }
    ck_assert_uint_eq(r.heap_blocks, live);
}
END_TEST

/* mt_replay_finish compacts the per-node figures (a bit per node id, the figures in id order,
 * the peak read out of the lazy snapshot): every node reads as it did before, whatever order
 * the nodes first allocated in, and the index of a node that allocated is its rank by id. */
START_TEST(finish_keeps_every_node_figure)
{
    enum { NODES = 5000 };
    static mt_node_stats_t before[NODES];
    uint64_t seed = 777;
    for (uint64_t t = 1; t < 40000; t++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t node = 3 * ((uint32_t)(seed >> 33) % (NODES / 3)); /* a third of the ids */
        uint64_t addr = 0x100000 + (t % 7000) * 32;
        if (mt_replay_find(&r, addr))
            TF(1 + (seed >> 20) % 3, t, addr);
        else
            TA(1 + (seed >> 20) % 3, t, addr, 1 + (seed >> 40) % 300, node);
    }
    for (uint32_t n = 0; n < NODES; n++)
        before[n] = mt_replay_node(&r, n);
    mt_replay_finish(&r);
    ck_assert_ptr_nonnull(r.node_bits);
    uint32_t rank = 0;
    for (uint32_t n = 0; n < NODES; n++) {
        mt_node_stats_t s = mt_replay_node(&r, n);
        ck_assert_uint_eq(s.allocations, before[n].allocations);
        ck_assert_uint_eq(s.bytes_allocated, before[n].bytes_allocated);
        ck_assert_uint_eq(s.live_bytes, before[n].live_bytes);
        ck_assert_uint_eq(s.live_blocks, before[n].live_blocks);
        ck_assert_uint_eq(s.peak_bytes, before[n].peak_bytes);
        ck_assert_uint_eq(s.peak_blocks, before[n].peak_blocks);
        ck_assert_uint_eq(s.temporary, before[n].temporary);
        ck_assert_uint_eq(s.thread, before[n].thread);
        ck_assert_uint_eq(s.multi, before[n].multi);
        ck_assert_int_eq(mt_replay_node_allocated(&r, n), before[n].allocations != 0);
        if (before[n].allocations)
            ck_assert_uint_eq(mt_replay_node_index(&r, n), rank++);
    }
    ck_assert_uint_eq(rank, mt_replay_nodes_allocated(&r));
    ck_assert_uint_gt(rank, 1000);
    ck_assert_int_eq(mt_replay_node_allocated(&r, NODES + 100), 0);
    /* no event after the end: the figures it would change are compacted */
    ck_assert_int_lt(mt_replay_alloc(&r, 1, 50000, 0x900000, 8, 3, 0), 0);
}
END_TEST

/* A table grown past several 2 MiB pieces, each given back while it is copied: every block is
 * still found with its size. */
START_TEST(grown_table_keeps_every_block)
{
    enum { N = 200000 };
    for (uint64_t i = 0; i < N; i++)
        A(i + 1, 0x10000000 + i * 48, 1 + i % 1000, 1 + (uint32_t)(i % 5));
    ck_assert_uint_ge((r.mask + 1) * sizeof(mt_block_t), 8u << 20);
    for (uint64_t i = 0; i < N; i += 2)
        F(N + i, 0x10000000 + i * 48);
    for (uint64_t i = 0; i < N; i++) {
        const mt_block_t *b = mt_replay_find(&r, 0x10000000 + i * 48);
        if (i % 2)
            ck_assert_uint_eq(b ? b->size : 0, 1 + i % 1000);
        else
            ck_assert_ptr_null(b);
    }
    ck_assert_uint_eq(r.heap_blocks, N / 2);
}
END_TEST

/* ---- per thread: each thread's figures and the --thread filter ---- */

/* Thread 10 peaks alone at 300, then holds 100; thread 20 makes the heap peak later; 20 frees
 * one of 10's blocks (a free counts against the block's thread). */
static void two_threads(void)
{
    TA(10, 1, 0x1000, 100, 1);
    TA(10, 2, 0x2000, 200, 2);
    TF(10, 3, 0x2000);         /* 10: own peak 300 at t=2 */
    TA(20, 4, 0x3000, 150, 1); /* node 1: two threads */
    TA(20, 5, 0x4000, 160, 3); /* heap 410: the peak, at t=5 */
    TF(20, 6, 0x4000);
    TA(10, 7, 0x5000, 50, 2);
    TF(20, 8, 0x5000); /* 20 frees 10's block */
    mt_replay_finish(&r);
}

START_TEST(per_thread_figures)
{
    two_threads();
    ck_assert_uint_eq(r.ntstats, 2);
    mt_thread_stats_t a = mt_replay_thread(&r, 0), b = mt_replay_thread(&r, 1);
    ck_assert_uint_eq(a.tid, 10);
    ck_assert_uint_eq(b.tid, 20);
    ck_assert_uint_eq(a.allocations, 3);
    ck_assert_uint_eq(a.bytes_allocated, 350);
    ck_assert_uint_eq(a.own_peak_bytes, 300);
    ck_assert_uint_eq(a.own_peak_us, 2);
    ck_assert_uint_eq(a.peak_bytes, 100); /* at the heap peak (t=5) */
    ck_assert_uint_eq(a.peak_blocks, 1);
    ck_assert_uint_eq(a.live_bytes, 100);
    ck_assert_uint_eq(b.allocations, 2);
    ck_assert_uint_eq(b.own_peak_bytes, 310);
    ck_assert_uint_eq(b.peak_bytes, 310);
    ck_assert_uint_eq(b.live_bytes, 150);
    ck_assert_uint_eq(a.first_us, 1);
    ck_assert_uint_eq(a.last_us, 7);
    ck_assert_uint_eq(b.last_us, 8);
    ck_assert_uint_eq(r.peak_heap_bytes, 410);
    ck_assert_uint_eq(r.all_peak_bytes, 410);
    ck_assert_uint_eq(r.peak_time_us, 5);
    /* the threads of a node: node 1 was 10's first, then 20's */
    mt_node_stats_t n1 = mt_replay_node(&r, 1), n3 = mt_replay_node(&r, 3);
    ck_assert_uint_eq(n1.thread, 1);
    ck_assert_uint_eq(n1.multi, 1);
    size_t n;
    const uint64_t *pairs = mt_replay_node_pairs(&r, 1, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(pairs[0], (1ull << 32) | 2);
    ck_assert_uint_eq(n3.thread, 2);
    ck_assert_uint_eq(n3.multi, 0);
    (void)mt_replay_node_pairs(&r, 3, &n);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(filter_restricts_every_figure)
{
    uint64_t sel = 10;
    ck_assert_int_eq(mt_replay_select(&r, &sel, 1), 0);
    two_threads();
    ck_assert_uint_eq(r.allocations, 3);
    ck_assert_uint_eq(r.bytes_allocated, 350);
    ck_assert_uint_eq(r.frees, 2); /* its own free and 20's free of its block */
    ck_assert_uint_eq(r.bytes_freed, 250);
    ck_assert_uint_eq(r.heap_bytes, 100);
    ck_assert_uint_eq(r.heap_blocks, 1);
    /* the peak is the process's (t=5, 410 B), the figure thread 10's part of it */
    ck_assert_uint_eq(r.peak_time_us, 5);
    ck_assert_uint_eq(r.peak_heap_bytes, 100);
    ck_assert_uint_eq(r.all_peak_bytes, 410);
    ck_assert_uint_eq(r.all_heap_bytes, 250);
    mt_node_stats_t n1 = mt_replay_node(&r, 1), n3 = mt_replay_node(&r, 3);
    ck_assert_uint_eq(n1.allocations, 1);
    ck_assert_uint_eq(n1.live_bytes, 100);
    ck_assert_uint_eq(n1.peak_bytes, 100);
    ck_assert_uint_eq(n1.multi, 0); /* 20's allocation there does not count */
    ck_assert_uint_eq(n3.allocations, 0);
    /* every thread's own figures stay whole */
    ck_assert_uint_eq(mt_replay_thread(&r, 1).own_peak_bytes, 310);
    ck_assert_int_eq(mt_replay_thread(&r, 0).selected, 1);
    ck_assert_int_eq(mt_replay_thread(&r, 1).selected, 0);
}
END_TEST

START_TEST(filter_realloc_and_unknown_frees)
{
    uint64_t sel = 20;
    ck_assert_int_eq(mt_replay_select(&r, &sel, 1), 0);
    TA(10, 1, 0x1000, 100, 1);
    ck_assert_int_eq(mt_replay_realloc_release(&r, 10, 2, 0x1000), 0);
    ck_assert_int_eq(mt_replay_realloc_failed(&r, 10, 3, 0x1000), 0);
    TF(20, 4, 0x9999); /* unknown, freed by the selected thread */
    TF(10, 5, 0x8888); /* unknown, another thread's */
    ck_assert_uint_eq(r.frees, 0);
    ck_assert_uint_eq(r.unknown_frees, 1);
    ck_assert_uint_eq(r.realloc_failures, 0);
    ck_assert_uint_eq(r.heap_bytes, 0);
    ck_assert_uint_eq(r.all_heap_bytes, 100);
    ck_assert_uint_eq(mt_replay_thread(&r, 0).live_bytes, 100);
}
END_TEST

/* The live-block table holds every thread's blocks: it grows with them, not with the
 * selected threads' (a filtered replay once filled it and looked for a free slot forever). */
START_TEST(filter_table_grows_with_every_thread)
{
    uint64_t sel = 1;
    ck_assert_int_eq(mt_replay_select(&r, &sel, 1), 0);
    for (uint64_t i = 0; i < 20000; i++)
        TA(2, i, 0x100000 + i * 32, 16, 1);
    TA(1, 20000, 0x10, 8, 1);
    ck_assert_uint_eq(r.all_heap_blocks, 20001);
    ck_assert_uint_eq(r.heap_blocks, 1);
    ck_assert_ptr_nonnull(mt_replay_find(&r, 0x100000 + 19999 * 32));
    TF(2, 20001, 0x100000);
    ck_assert_uint_eq(r.all_heap_blocks, 20000);
}
END_TEST

/* A log of memtrace attach: a free or realloc of a block from before the attach is counted
 * apart, never as an unknown free. */
START_TEST(attached_frees_before_attach)
{
    r.attached = 1;
    A(1, 0x1000, 10, 1);
    F(2, 0x8000);
    ck_assert_int_eq(mt_replay_realloc_release(&r, 1, 3, 0x9000), 0);
    ck_assert_int_eq(mt_replay_alloc(&r, 1, 4, 0x9100, 30, 1, MT_ALLOC_REALLOC), 0);
    F(5, 0x1000);
    ck_assert_uint_eq(r.freed_before_attach, 2);
    ck_assert_uint_eq(r.unknown_frees, 0);
    ck_assert_uint_eq(r.frees, 1);
    ck_assert_uint_eq(r.free_calls, 2);
    ck_assert_uint_eq(r.allocations, 2);
    ck_assert_uint_eq(r.heap_bytes, 30);
}
END_TEST

/* The lifetime histogram's bucket as the replay once computed it: a loop over powers of ten. */
static unsigned digits_by_loop(uint64_t d)
{
    unsigned i = 0;
    for (uint64_t p = 1; d >= p && i < MT_REPLAY_LIFETIME_DIGITS - 1; p *= 10)
        i++;
    return i;
}

/* Every lifetime from 0 to 100,000 us and each side of every power of ten up to 10^19 (and
 * the largest), freed one by one: each in the bucket of its decimal digits. */
START_TEST(lifetime_buckets_by_decimal_digits)
{
    uint64_t want[MT_REPLAY_LIFETIME_DIGITS] = {0}, addr = 0x1000;
    uint64_t d[100001 + 3 * 20];
    size_t n = 0;
    for (uint64_t v = 0; v <= 100000; v++)
        d[n++] = v;
    uint64_t p = 1;
    for (int i = 0; i < 20; i++, p *= 10) {
        d[n++] = p - 1;
        d[n++] = p;
        d[n++] = i == 19 ? UINT64_MAX - 1 : p + 1;
    }
    for (size_t i = 0; i < n; i++) {
        A(0, addr, 16, 1);
        F(d[i], addr);
        want[digits_by_loop(d[i])]++;
        addr += 0x10;
    }
    for (unsigned i = 0; i < MT_REPLAY_LIFETIME_DIGITS; i++)
        ck_assert_msg(r.frees_by_lifetime_digits[i] == want[i], "%u digits: %llu, not %llu", i,
                      (unsigned long long)r.frees_by_lifetime_digits[i],
                      (unsigned long long)want[i]);
    /* what the sample knows: 100,000 (twice), 100,001 and 999,999 have six digits; 10^19
     * and 2^64 - 2 twenty, the last bucket */
    ck_assert_uint_eq(r.frees_by_lifetime_digits[6], 4);
    ck_assert_uint_eq(r.frees_by_lifetime_digits[20], 2);
}
END_TEST

MT_SUITE(.name = "replay", .setup = setup, .teardown = teardown, .timeout = 60,
         .tests = MT_TESTS(exact_counts, peak_per_node_lazy_snapshot, realloc_success,
                           realloc_failure_restores_block, realloc_to_zero_frees,
                           address_reused_without_free, mmap_partial_munmap, samples_bounded,
                           peak_sample_by_heap_then_time, peak_sample_kept, random_against_model,
                           finish_keeps_every_node_figure, grown_table_keeps_every_block,
                           per_thread_figures, filter_restricts_every_figure,
                           filter_realloc_and_unknown_frees, filter_table_grows_with_every_thread,
                           attached_frees_before_attach, lifetime_buckets_by_decimal_digits));

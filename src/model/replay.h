// SPDX-License-Identifier: MIT
// Replay of heap and mmap events over time: the live-block map, exact totals, the peak and
// who held it, per-stack aggregates, the sampled RSS/mallinfo series and the exit record.
// Memory stays bounded by live blocks, live mappings and distinct stacks, never by the number
// of events; every event costs O(1) expected (the peak snapshot is lazy, see replay.c).
#ifndef MT_REPLAY_H
#define MT_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "log_reader.h"

/* Per trace node (one full allocation stack). Counts only allocations whose own node this is. */
typedef struct mt_node_stats {
    uint64_t allocations;     /* allocation calls (every ALLOC kind, realloc included) */
    uint64_t bytes_allocated; /* requested bytes of those calls */
    uint64_t live_bytes;      /* still allocated now (at the end: leaked at exit) */
    uint64_t live_blocks;
    uint64_t peak_bytes; /* held at the global heap peak: read via mt_replay_node_peak */
    uint64_t peak_blocks;
    uint64_t gen;       /* peak generation peak_* were saved in */
    uint64_t temporary; /* freed before the same thread allocated again */
    uint32_t thread;    /* index + 1 of the first thread that allocated here (0: none) */
    uint32_t multi;     /* others did too: mt_replay_node_pairs lists them */
} mt_node_stats_t;

typedef struct mt_node_final mt_node_final_t; /* replay.c */

typedef struct mt_block {
    uint64_t addr; /* 0 = empty slot */
    uint64_t size;
    uint64_t time_us;
    uint32_t node;
    uint32_t kind : 8;    /* mt_alloc_kind */
    uint32_t thread : 24; /* index of the allocating thread (mt_replay_thread) */
} mt_block_t;

/* Thread indices fit a block's 24 bits; a log with more threads than that (it would take
 * 16 million) counts the rest under the last index. */
#define MT_REPLAY_THREADS_MAX ((1u << 24) - 1)

/* Per thread (indexed in order of first event): what the blocks it allocated did, whoever
 * freed them. */
typedef struct mt_thread_stats {
    uint64_t tid;
    uint64_t allocations, bytes_allocated;
    uint64_t live_bytes, live_blocks;      /* now (at the end: not freed at exit) */
    uint64_t own_peak_bytes, own_peak_us;  /* the most it held at once, and when */
    uint64_t peak_bytes, peak_blocks, gen; /* at the process's heap peak: mt_replay_thread */
    uint64_t end_bytes, end_blocks;        /* at the end of a Python script, when marked */
    uint64_t first_us, last_us;            /* its first and last heap event */
    int selected;                          /* its blocks count in the figures (--thread) */
} mt_thread_stats_t;

/* pymalloc (CPython 3.11) serves requests of 1 to 512 bytes from its arenas; others, and
 * every block when pymalloc is off, come from malloc. */
#define MT_PY_SMALL_REQUEST 512u

/* True for a block pymalloc serves from an arena (not a glibc chunk). Runs for every block the
 * replay adds or removes: the rare case is the one that is expected not to happen. */
static inline int mt_pyinfo_in_arena(const mt_block_t *b)
{
    return __builtin_expect(b->kind == MT_ALLOC_PYOBJECT || b->kind == MT_ALLOC_PYMEM, 0) &&
           b->size - 1 < MT_PY_SMALL_REQUEST;
}

/* The key of a custom block (memtrace.h, kind CUSTOM) in the live-block map: its address with
 * this bit set. Such a block usually lies inside a malloc block of the program's (its pool's
 * slab), often at the slab's own address, and only CUSTOM_FREE ends it, only FREE the slab:
 * the two must never meet in the map. User-space addresses never have bit 63 set. */
#define MT_BLOCK_CUSTOM_BIT (1ull << 63)

/* A block's address as the program saw it (a custom block's key without its bit). */
static inline uint64_t mt_block_addr(const mt_block_t *b)
{
    return b->addr & ~MT_BLOCK_CUSTOM_BIT;
}

typedef struct mt_mapping {
    uint64_t start, len;
    uint32_t node;
} mt_mapping_t;

/* The allocator's footprint in a sample: mallinfo2's main arena plus mmapped chunks. */
static inline uint64_t mt_sample_footprint(const mt_sample_t *s)
{
    return s->arena + s->hblkhd;
}

typedef struct mt_sample_point {
    uint64_t time_us;
    uint64_t heap_bytes;      /* exact heap total at that moment */
    uint64_t arena_obj_bytes; /* the part of it in pymalloc's arenas (mt_pyinfo_in_arena) */
    mt_sample_t s;
    uint64_t py_arena_bytes; /* pymalloc arenas held (mapped) at that moment */
} mt_sample_point_t;

/*
 * Whether sample a describes the heap peak (peak_bytes at peak_us) better than b: the one
 * taken with the heap closer to its peak, and of two equally close the one nearer in time. A
 * peak sample (written by the recorder before the first free after a new high) has the peak's
 * own heap total and wins over a timer sample that is nearer in time but was taken while the
 * heap was still growing or already shrinking. Since no sample ever sees more than the peak
 * reached so far, "closer" is simply "more heap", so the order of two samples does not change
 * when a later, higher peak comes: the best one can be kept as the replay goes.
 */
static inline int mt_sample_nearer_peak(const mt_sample_point_t *a, const mt_sample_point_t *b,
                                        uint64_t peak_bytes, uint64_t peak_us)
{
    uint64_t da =
        a->heap_bytes > peak_bytes ? a->heap_bytes - peak_bytes : peak_bytes - a->heap_bytes;
    uint64_t db =
        b->heap_bytes > peak_bytes ? b->heap_bytes - peak_bytes : peak_bytes - b->heap_bytes;
    if (da != db)
        return da < db;
    uint64_t ta = a->time_us > peak_us ? a->time_us - peak_us : peak_us - a->time_us;
    uint64_t tb = b->time_us > peak_us ? b->time_us - peak_us : peak_us - b->time_us;
    return ta < tb;
}

typedef struct mt_pending_realloc {
    uint64_t tid;
    mt_block_t block;
} mt_pending_realloc_t;

/* Per thread: the block it allocated last, while no other event of that thread followed. */
typedef struct mt_thread_last {
    uint64_t tid;
    uint64_t addr; /* 0: the thread's last event was not an allocation */
    uint32_t idx;  /* its mt_thread_stats_t */
    int used;
} mt_thread_last_t;

/* Heap in use over time: min/max/last per bucket of width series_width_us; when the series
 * would pass MT_REPLAY_SERIES_MAX buckets, neighbours merge and the width doubles, so memory
 * is fixed and the peak (a max) survives any downsampling. */
#define MT_REPLAY_SERIES_MAX 2048u
typedef struct mt_heap_bucket {
    uint64_t min, max, last;
    int used; /* an event fell in this bucket */
} mt_heap_bucket_t;

/* Blocks at least this big come from mmap in glibc by default: not part of the main heap. */
#define MT_REPLAY_SMALL_BLOCK (128u * 1024u)

/* The figures the report's histograms (reports/histograms.h) are drawn from, counted as the
 * log goes by: freed blocks by the number of decimal digits of their lifetime in microseconds
 * (0 for 0 us, i for [10^(i-1), 10^i)), allocation calls by the bit length of their size
 * (mt_replay_size_bucket: 0 for size 0, i for [2^(i-1), 2^i)). */
#define MT_REPLAY_LIFETIME_DIGITS 21
#define MT_REPLAY_SIZE_BITS 65

/* An observer of the heap (mt_replay_t.watch, NULL: none), for the HTML page's windows
 * (window_series.c): told of each block just before it enters or leaves the heap (every
 * thread's, selected or not), and after each new heap peak. It may restart the peak
 * (mt_replay_peak_restart) from block. */
struct mt_replay;
typedef struct mt_replay_watch {
    void (*block)(void *arg, struct mt_replay *r, const mt_block_t *b, int enters);
    void (*peak)(void *arg, const struct mt_replay *r);
    void *arg;
} mt_replay_watch_t;

typedef struct mt_replay {
    /* live heap blocks: open addressing, linear probing, backward-shift deletion */
    mt_block_t *blocks;
    uint64_t mask; /* capacity - 1 */
    unsigned shift;

    /* Stats only for the nodes that allocated (a clang compile: 370,000 of 2.6 million trace
     * nodes): node_slot[id] is the index + 1 of id's stats, 0 for none. */
    uint32_t *node_slot;
    uint32_t node_slot_cap;
    uint32_t node_slots; /* entries set so far (0 or a slot), all below the highest node seen */
    /* After mt_replay_finish, in node_slot's place (NULL before): a bit per node id below
     * node_slots, set for those that allocated, whose stats are then in id order; node_rank[w]
     * counts the bits set in the words before w. */
    uint64_t *node_bits;
    uint32_t *node_rank;
    struct mt_node_final
        *node_final; /* then stats' figures (NULL before), read by mt_replay_node */
    mt_node_stats_t *stats;
    uint32_t nstats, stats_cap;
    uint64_t gen; /* bumped at each new heap peak */

    mt_pending_realloc_t *pending; /* realloc in flight, per thread */
    size_t npending, pending_cap;

    mt_mapping_t *maps; /* live anonymous mappings, sorted by start, disjoint */
    size_t nmaps, maps_cap;

    mt_sample_point_t *samples; /* bounded series: decimated by 2 when full */
    size_t nsamples, samples_cap;
    uint64_t sample_stride, sample_skip;

    mt_thread_last_t *threads; /* open addressing by tid, never shrinks */
    size_t threads_mask, nthreads;
    mt_thread_last_t *thread_hit; /* the entry found last (events come in runs of a thread) */
    mt_thread_stats_t *tstats;    /* by thread index */
    uint32_t ntstats, tstats_cap;
    uint64_t *sel_tids; /* sorted: the threads whose blocks count (mt_replay_select) */
    size_t nsel;
    int filtered; /* mt_replay_select was called: not every thread counts */
    /* A time window (mt_replay_window_open): only blocks allocated from win_from_us on count;
     * 0 without a window, so every block does. */
    uint64_t win_from_us;
    int win_open; /* mt_replay_window_open was called */
    const mt_replay_watch_t *watch;
    int threads_end_marked; /* mt_replay_threads_mark_end was called */
    /* (node << 32 | thread index + 1) for every node allocated by more than one thread,
     * except its first (in mt_node_stats_t.thread): a hash set, sorted by mt_replay_finish */
    uint64_t *pairs;
    size_t pairs_mask, npairs;
    int pairs_sorted;

    mt_heap_bucket_t series[MT_REPLAY_SERIES_MAX];
    uint64_t series_width_us;            /* bucket width, doubles when the series is full */
    size_t nseries;                      /* buckets up to the last one used */
    uint64_t series_lo_us, series_hi_us; /* the times of bucket series_at (empty: none) */
    size_t series_at;

    /* ---- results, exact ----
     * With a thread filter (mt_replay_select) every figure below counts only the blocks that
     * the selected threads allocated (whoever freed them), and the peak is theirs at the
     * moment of the process's own heap peak (all_peak_*): the part of the high-water mark that
     * they hold, as memray's thread filter shows it. Their own highest point is in
     * mt_thread_stats_t. The samples (RSS, mallinfo2) are the process's. */
    uint64_t all_heap_bytes, all_heap_blocks; /* every thread's blocks, now */
    uint64_t all_peak_bytes, all_peak_blocks; /* the process's heap peak (peak_time_us) */
    uint64_t all_arena_obj_bytes, all_peak_arena_obj_bytes;
    uint64_t allocations, frees, bytes_allocated, bytes_freed;
    uint64_t allocs_by_kind[16];
    uint64_t heap_bytes, heap_blocks; /* now */
    uint64_t peak_heap_bytes, peak_heap_blocks, peak_time_us;
    /* The part of heap_bytes (now, at the peak) that is small Python objects inside pymalloc's
     * arenas: not in glibc's heap, so not in mallinfo2's figures. */
    uint64_t arena_obj_bytes, peak_arena_obj_bytes;
    uint64_t py_arena_bytes; /* pymalloc arenas held now, kept up to date by the analysis */
    /* A forked child's heap at its start (ALLOC kind INHERITED: its parent's blocks), and the
     * part of it the child freed. Inherited blocks are live heap, never allocations; they
     * belong to the pseudo-thread of tid 0, "(inherited)" (no thread of the child made them),
     * so a thread filter counts them only when it selects tid 0. */
    uint64_t inherited_bytes, inherited_blocks;
    uint64_t inherited_freed_bytes, inherited_freed_blocks;
    /* Blocks the program reported through memtrace.h (kind CUSTOM): live now (at the end:
     * leaked), and the bytes of those allocation calls (their count: allocs_by_kind). */
    uint64_t custom_bytes, custom_blocks, custom_bytes_allocated;
    uint64_t free_calls;            /* FREE records, known or not */
    uint64_t unknown_frees;         /* FREE/REALLOC_RELEASE of an address not live */
    uint64_t realloc_failures;      /* REALLOC_FAILED that restored a block */
    uint64_t protocol_errors;       /* REALLOC_FAILED without a release, etc. */
    uint64_t replaced_blocks;       /* ALLOC of an address already live (a free we never saw) */
    uint64_t temporary_allocations; /* freed before the same thread allocated again */
    uint64_t heap_low_addr; /* lowest address of a small block ever: where the heap starts */
    uint64_t frees_by_lifetime_digits[MT_REPLAY_LIFETIME_DIGITS]; /* free or realloc */
    uint64_t allocs_by_size_bits[MT_REPLAY_SIZE_BITS];            /* by requested size */
    /* A log of `memtrace attach` (ORIGIN how ATTACH, set by the analysis before any event):
     * an address not live is a block allocated before the attach, counted here instead of in
     * unknown_frees (no error: memtrace never saw it allocated). */
    int attached;
    uint64_t freed_before_attach;

    uint64_t mmap_calls, munmap_calls, mmap_bytes_total;
    uint64_t mmap_bytes, mmap_peak_bytes, mmap_peak_time_us;

    uint64_t nsamples_total, peak_rss_bytes, peak_rss_time_us;
    mt_sample_t last_sample;
    uint64_t last_sample_time_us;
    /* The sample that best describes the heap peak (mt_sample_nearer_peak), whichever the
     * decimated series kept; valid when nsamples_total > 0. */
    mt_sample_point_t peak_sample;

    uint64_t last_time_us;
    /* The figures came from an aggregated log's AGG_HEAP (mt_replay_agg_heap): no event was
     * replayed, so what needs the events (lifetimes, the series, per-thread figures) is empty. */
    int aggregated;
    int has_exit;
    int exit_reason;
    uint64_t exit_status;
    uint64_t exit_time_us;
} mt_replay_t;

int mt_replay_init(mt_replay_t *r) MT_WUR;
void mt_replay_destroy(mt_replay_t *r);

/* Before the first event: only the blocks allocated by these threads count (see "results").
 * 0 or -ENOMEM. */
int mt_replay_select(mt_replay_t *r, const uint64_t *tids, size_t n) MT_WUR;

/* A thread's figures, index 0..ntstats-1 (in order of first event). */
mt_thread_stats_t mt_replay_thread(const mt_replay_t *r, uint32_t idx);
/* Copies each thread's live figures as its end_* (the end of a Python script). */
void mt_replay_threads_mark_end(mt_replay_t *r);
/* True when the blocks of thread tid count (always, without a filter). */
int mt_replay_tid_selected(const mt_replay_t *r, uint64_t tid);
/* True when b counts: its thread is selected and it was allocated inside the window (always,
 * without a filter or a window). */
static inline int mt_replay_block_selected(const mt_replay_t *r, const mt_block_t *b)
{
    return (!r->filtered || r->tstats[b->thread].selected) && b->time_us >= r->win_from_us;
}

/* Opens a time window at t (--from): from then on only the blocks allocated at or after t
 * count, and the peak is the process's highest heap from t on (what the window's blocks held
 * then). Call it before the first event at or after t; the events before it were replayed
 * with nothing selected, so every figure starts at zero. The end of a window is where the
 * caller stops replaying. */
void mt_replay_window_open(mt_replay_t *r, uint64_t t);
/* The peak starts over from the heap as it is now, as at a window's start (the page's buckets,
 * through a watch): the next peak is the highest heap from now on. */
void mt_replay_peak_restart(mt_replay_t *r);
/* After mt_replay_finish: the keys (node << 32 | thread index + 1) of the threads other than
 * the first that allocated at node, in thread index order; *n of them. */
const uint64_t *mt_replay_node_pairs(const mt_replay_t *r, uint32_t node, size_t *n);

/* Event handlers; the caller has validated node ids. All return 0 or -ENOMEM. */
int mt_replay_alloc(mt_replay_t *r, uint64_t tid, uint64_t t, uint64_t addr, uint64_t size,
                    uint32_t node, unsigned kind) MT_WUR;
int mt_replay_free(mt_replay_t *r, uint64_t tid, uint64_t t, uint64_t addr) MT_WUR;
/* CUSTOM_FREE: the custom block at addr ends (a malloc block at addr stays). */
int mt_replay_free_custom(mt_replay_t *r, uint64_t tid, uint64_t t, uint64_t addr) MT_WUR;
int mt_replay_realloc_release(mt_replay_t *r, uint64_t tid, uint64_t t, uint64_t addr) MT_WUR;
int mt_replay_realloc_failed(mt_replay_t *r, uint64_t tid, uint64_t t, uint64_t addr) MT_WUR;
int mt_replay_mmap(mt_replay_t *r, uint64_t t, uint64_t addr, uint64_t size, uint32_t node) MT_WUR;
int mt_replay_munmap(mt_replay_t *r, uint64_t t, uint64_t addr, uint64_t size) MT_WUR;
int mt_replay_sample(mt_replay_t *r, uint64_t t, const mt_sample_t *s) MT_WUR;
void mt_replay_exit(mt_replay_t *r, uint64_t t, int reason, uint64_t status);

/* An aggregated log's records (log_format.h), in the log's order: AGG_HEAP's values (a string
 * of varints; -EINVAL when it is not one), each AGG_SITE, each AGG_LIVE (its block is live,
 * without being an allocation call; -EEXIST when it is listed twice). */
int mt_replay_agg_heap(mt_replay_t *r, uint64_t t, const void *values, size_t len) MT_WUR;
int mt_replay_agg_site(mt_replay_t *r, uint32_t node, uint64_t allocations, uint64_t bytes,
                       uint64_t peak_bytes, uint64_t peak_blocks, uint64_t temporary) MT_WUR;
int mt_replay_agg_live(mt_replay_t *r, uint64_t tid, uint64_t t, uint64_t addr, uint64_t size,
                       uint32_t node, unsigned kind) MT_WUR;

/* Dispatches a reader record (heap, mmap, sample, exit; others are ignored). */
int mt_replay_record(mt_replay_t *r, const mt_record_t *rec) MT_WUR;

/* Ends the replay: a realloc still in flight counts as released (realloc(p, 0)). Call once
 * after the last record, before reading results; no event may come after it (the per-node
 * table is compacted: mt_replay_node_index). */
void mt_replay_finish(mt_replay_t *r);

/* Per-node results; a node never seen in an event reads as zeros. */
mt_node_stats_t mt_replay_node(const mt_replay_t *r, uint32_t node);
/* Number of node ids with stats (ids 0..n-1). */
static inline uint32_t mt_replay_node_count(const mt_replay_t *r)
{
    return r->node_slots;
}

/* False when node never allocated: its mt_replay_node is all zeros. */
static inline int mt_replay_node_allocated(const mt_replay_t *r, uint32_t node)
{
    if (node >= r->node_slots)
        return 0;
    if (r->node_bits)
        return (int)(r->node_bits[node >> 6] >> (node & 63) & 1);
    return r->node_slot[node] != 0;
}

/* For a node that allocated, a distinct index below the number of such nodes (the order of
 * their first allocation during the replay, of their ids after mt_replay_finish): what
 * tables over the nodes that allocated are indexed by. */
static inline uint32_t mt_replay_node_index(const mt_replay_t *r, uint32_t node)
{
    if (r->node_bits) {
        uint64_t below = r->node_bits[node >> 6] & ((1ull << (node & 63)) - 1);
        return r->node_rank[node >> 6] + (uint32_t)__builtin_popcountll(below);
    }
    return r->node_slot[node] - 1;
}

/* How many nodes allocated (mt_replay_node_index is below it). */
static inline uint32_t mt_replay_nodes_allocated(const mt_replay_t *r)
{
    return r->nstats;
}

/* The bit length of a size: its index in allocs_by_size_bits. */
static inline unsigned mt_replay_size_bucket(uint64_t size)
{
    return size ? 64u - (unsigned)__builtin_clzll(size) : 0u;
}

/* Live block lookup (NULL when not live). */
const mt_block_t *mt_replay_find(const mt_replay_t *r, uint64_t addr);
/* Asks the cache for the table slot of addr, a few events before it is looked up (the table
 * is far larger than the cache: each lookup would otherwise wait for memory). No effect on
 * any result. */
void mt_replay_prefetch(const mt_replay_t *r, uint64_t addr);

/* Calls fn for every live block, in no particular order. */
void mt_replay_each_live(const mt_replay_t *r, void (*fn)(const mt_block_t *b, void *arg),
                         void *arg);

/* Frees the live-block table after the last event, for reports that read no single block
 * (summary, peak, flame graph, exports): after the stacks it is the largest part of an
 * analysis. Totals and per-node figures stay; mt_replay_each_live visits nothing after it,
 * and no event may be replayed. */
void mt_replay_drop_blocks(mt_replay_t *r);

/* For the index (log_index.h): a zeroed block table of n entries, as mt_replay_destroy frees
 * it, and the size of the per-node figures behind node_final. */
mt_block_t *mt_replay_blocks_new(uint64_t n);
size_t mt_replay_node_final_size(void);

#endif

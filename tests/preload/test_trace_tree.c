// SPDX-License-Identifier: MIT
// The recorder's trace tree and stack hash (preload/stack/trace_tree.c, stack_hash.c): every stack
// interned must read back, through the real encoder, log and analyzer, as exactly its frames,
// because a cache hit is trusted on its two hashes without a walk.
#include <check.h>

#include "check_main.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "log_builder.h"
#include "tree_driver.h"

#define NSTACKS 3000
#define MAXDEPTH 40

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Frames from a small pool, as real stacks repeat the same return addresses; some with bit 63
 * set, as Python frames are. */
static uintptr_t pool_ip(void)
{
    uint64_t r = next_rand();
    return r % 8 == 0 ? (1ull << 63) | (r >> 40) % 16 : 0x400000 + ((r >> 32) % 50) * 0x40;
}

typedef struct hashed {
    uint64_t hash, hash2;
} hashed_t;

static hashed_t hash_of(const uintptr_t *ip, uint32_t n)
{
    hashed_t h;
    td_hash(ip, n, &h.hash, &h.hash2);
    return h;
}

static uint32_t intern(mt_lb_t *b, const uintptr_t *ip, uint32_t n)
{
    uint32_t id = td_intern(ip, n, &b->enc);
    mt_lb_flush(b); /* keep each chunk small */
    return id;
}

START_TEST(interned_stacks_read_back)
{
    static uintptr_t ips[NSTACKS][MAXDEPTH];
    static uint32_t depth[NSTACKS], leaf[NSTACKS];
    mt_lb_t b;
    mt_lb_init(&b, 1, 0);
    ck_assert_int_eq(td_init(), 0);
    for (int i = 0; i < NSTACKS; i++) {
        depth[i] = 1 + (uint32_t)(next_rand() % MAXDEPTH);
        if (i > 0 && i % 3 == 0) { /* a sibling of the previous stack: shared outer frames */
            depth[i] = depth[i - 1];
            memcpy(ips[i], ips[i - 1], sizeof ips[i]);
            ips[i][next_rand() % depth[i]] = pool_ip();
        } else {
            for (uint32_t k = 0; k < depth[i]; k++)
                ips[i][k] = pool_ip();
        }
        leaf[i] = intern(&b, ips[i], depth[i]);
        ck_assert_uint_ne(leaf[i], 0);
    }
    /* again: the same leaves, and nothing new is written */
    size_t len = b.len;
    for (int i = 0; i < NSTACKS; i++) {
        ck_assert_uint_eq(intern(&b, ips[i], depth[i]), leaf[i]);
    }
    ck_assert_uint_eq(b.len, len);

    mt_lb_exit(&b, 1, MT_EXIT_NORMAL, 0);
    mt_lb_flush(&b);
    mt_analysis_t *a;
    char err[128];
    ck_assert_int_eq(mt_analysis_load_mem(&a, b.file, b.len, "tree", err, sizeof err), 0);
    ck_assert_int_eq(a->truncated, 0);
    for (int i = 0; i < NSTACKS; i++) {
        uint32_t id = leaf[i];
        for (uint32_t k = 0; k < depth[i]; k++) {
            ck_assert_msg(mt_nodes_valid(&a->nodes, id), "stack %d frame %u", i, k);
            ck_assert_uint_eq(mt_nodes_ip(&a->nodes, id), ips[i][k]);
            id = a->nodes.v[id].parent;
        }
        ck_assert_uint_eq(id, 0); /* and no frame more */
    }
    mt_analysis_free(a);
    mt_lb_free(&b);
}
END_TEST

/* Two stacks whose frames differ only in bit 63 at two places of the same lane: a plain
 * xor-multiply chain cancels such a pair out; this hash must not. */
START_TEST(hash_separates_structured_stacks)
{
    uintptr_t x[6] = {0x401000, 0x402000, 0x403000, 0x404000, 0x405000, 0x406000};
    uintptr_t y[6];
    hashed_t sx = hash_of(x, 6);
    for (int i = 0; i < 6; i++) {
        for (int j = i; j < 6; j++) {
            for (int bit = 0; bit < 64; bit += 9) {
                memcpy(y, x, sizeof y);
                y[i] ^= 1ull << bit;
                y[j] ^= (i == j ? 1ull << ((bit + 1) % 64) : 1ull << bit);
                hashed_t sy = hash_of(y, 6);
                ck_assert_msg(sx.hash != sy.hash || sx.hash2 != sy.hash2,
                              "frames %d and %d, bit %d", i, j, bit);
            }
            memcpy(y, x, sizeof y);
            y[i] ^= 1ull << 63;
            y[j] ^= i == j ? 1ull << 62 : 1ull << 63;
            hashed_t sy = hash_of(y, 6);
            ck_assert(sx.hash != sy.hash || sx.hash2 != sy.hash2);
        }
    }
    /* the depth counts: a prefix is another stack */
    hashed_t s5 = hash_of(x, 5);
    ck_assert(sx.hash != s5.hash || sx.hash2 != s5.hash2);
}
END_TEST

/* Checks that leaf reads back as frames ip[0..n) (innermost first). */
static void assert_stack(const mt_analysis_t *a, uint32_t leaf, const uintptr_t *ip, uint32_t n)
{
    uint32_t id = leaf;
    for (uint32_t k = 0; k < n; k++) {
        ck_assert_msg(mt_nodes_valid(&a->nodes, id), "frame %u", k);
        ck_assert_uint_eq(mt_nodes_ip(&a->nodes, id), ip[k]);
        id = a->nodes.v[id].parent;
    }
    ck_assert_uint_eq(id, 0);
}

/* More edges than the tree keeps: its generations age, stacks interned long ago get new nodes
 * when they come back, and every leaf ever returned still reads back as its frames. */
START_TEST(aging_keeps_every_stack_readable)
{
    enum { N = 40000, DEPTH = 12 };
    static uintptr_t ips[N][DEPTH];
    static uint32_t leaf[N];
    mt_lb_t b;
    mt_lb_init(&b, 1, 1 << 20);
    ck_assert_int_eq(td_init(), 0);
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < DEPTH; k++) /* distinct outer frames: about 12 new edges each */
            ips[i][k] = 0x400000 + (uint64_t)i * 0x1000 + (uint64_t)k * 0x10;
        leaf[i] = td_intern(ips[i], DEPTH, &b.enc);
        ck_assert_uint_ne(leaf[i], 0);
        if (i % 1000 == 0)
            mt_lb_flush(&b);
    }
    /* a new leaf under the first stack's frames, whose edges are long forgotten: new nodes
     * for the whole path (the first stack itself may still be in the leaf cache) */
    uintptr_t cousin[DEPTH];
    memcpy(cousin, ips[0], sizeof cousin);
    cousin[0] = 0x3ff000;
    uint32_t again = td_intern(cousin, DEPTH, &b.enc);
    ck_assert_uint_gt(again, leaf[N - 1] + DEPTH - 1);
    mt_lb_flush(&b);
    mt_analysis_t *a;
    char err[128];
    ck_assert_int_eq(mt_analysis_load_mem(&a, b.file, b.len, "tree", err, sizeof err), 0);
    ck_assert_msg(!a->cut, "%s", a->cut_reason);
    for (int i = 0; i < N; i++)
        assert_stack(a, leaf[i], ips[i], DEPTH);
    assert_stack(a, again, cousin, DEPTH);
    mt_analysis_free(a);
    mt_lb_free(&b);
}
END_TEST

/* After a forget (a dlclose), ids go on from where they were and nothing cached is reused. */
START_TEST(forget_starts_new_ids)
{
    mt_lb_t b;
    mt_lb_init(&b, 1, 0);
    ck_assert_int_eq(td_init(), 0);
    uintptr_t ip[3] = {0x401000, 0x402000, 0x403000};
    uint32_t first = intern(&b, ip, 3);
    uint32_t epoch = td_epoch();
    td_forget();
    ck_assert_uint_ne(td_epoch(), epoch);
    size_t len = b.len;
    uint32_t again = intern(&b, ip, 3);
    ck_assert_uint_gt(again, first);
    ck_assert_uint_gt(b.len, len); /* its nodes were written again */
    mt_lb_free(&b);
}
END_TEST

/* ---- threads sharing the tree: lock-free hits, the definition queue ----
 *
 * Each thread interns without any lock of its own, then, under ct_lock (the writer lock of the
 * recorder), takes the queued definitions only when the queue says some are pending, as the
 * recorder does, and checks that its leaf and every ancestor are defined already, with the
 * frames of its stack: a definition never comes after an event that names it. */

#define CT_THREADS 4
#define CT_MAX_ID (1u << 21)

typedef struct ct_def {
    uint64_t ip;
    uint32_t parent;
    int set;
} ct_def_t;

static ct_def_t ct_defs[CT_MAX_ID];
static pthread_mutex_t ct_lock = PTHREAD_MUTEX_INITIALIZER;
static int ct_twice, ct_missing; /* under ct_lock */

typedef struct ct_work {
    const uintptr_t (*ips)[MAXDEPTH];
    const uint32_t *depth;
    uint32_t n, rounds, seed;
    uint32_t *leaf; /* per stack, as this thread got it the last time */
} ct_work_t;

static void ct_take_all(void)
{
    uint32_t id[64], parent[64], n;
    uint64_t ip[64];
    while ((n = td_take(id, parent, ip, 64)) > 0)
        for (uint32_t i = 0; i < n; i++) {
            if (id[i] >= CT_MAX_ID || ct_defs[id[i]].set) {
                ct_twice++;
                continue;
            }
            ct_defs[id[i]] = (ct_def_t){ip[i], parent[i], 1};
        }
}

static int ct_chain_ok(uint32_t leaf, const uintptr_t *ip, uint32_t n)
{
    uint32_t id = leaf;
    for (uint32_t k = 0; k < n; k++) {
        if (!id || id >= CT_MAX_ID || !ct_defs[id].set || ct_defs[id].ip != ip[k])
            return 0;
        id = ct_defs[id].parent;
    }
    return id == 0;
}

static void *ct_run(void *arg)
{
    ct_work_t *w = arg;
    /* every stack once a round, in an order of the thread's own (7 is prime to NSTACKS) */
    for (uint32_t round = 0; round < w->rounds; round++)
        for (uint32_t k = 0; k < w->n; k++) {
            uint32_t i = (uint32_t)((w->seed + (uint64_t)k * 7) % w->n);
            uint32_t leaf = td_intern_only(w->ips[i], w->depth[i]);
            pthread_mutex_lock(&ct_lock);
            if (td_pending())
                ct_take_all();
            if (!ct_chain_ok(leaf, w->ips[i], w->depth[i]))
                ct_missing++;
            pthread_mutex_unlock(&ct_lock);
            w->leaf[i] = leaf;
        }
    return NULL;
}

/* Runs CT_THREADS threads over the same n stacks; returns the leaves each got. */
static void ct_threads(const uintptr_t (*ips)[MAXDEPTH], const uint32_t *depth, uint32_t n,
                       uint32_t rounds, uint32_t (*leaf)[NSTACKS])
{
    pthread_t t[CT_THREADS];
    ct_work_t w[CT_THREADS];
    memset(ct_defs, 0, sizeof ct_defs);
    ct_twice = ct_missing = 0;
    for (int k = 0; k < CT_THREADS; k++) {
        w[k] = (ct_work_t){ips, depth, n, rounds, 0x9e3779b9u * (uint32_t)(k + 1), leaf[k]};
        ck_assert_int_eq(pthread_create(&t[k], NULL, ct_run, &w[k]), 0);
    }
    for (int k = 0; k < CT_THREADS; k++)
        pthread_join(t[k], NULL);
    ck_assert_int_eq(ct_twice, 0);
    ck_assert_int_eq(ct_missing, 0);
}

/* Few enough edges that nothing ages: every thread gets the same leaf for the same stack. */
START_TEST(threads_share_leaves_and_definitions_come_first)
{
    static uintptr_t ips[NSTACKS][MAXDEPTH];
    static uint32_t depth[NSTACKS], leaf[CT_THREADS][NSTACKS];
    ck_assert_int_eq(td_init(), 0);
    for (int i = 0; i < NSTACKS; i++) {
        depth[i] = 1 + (uint32_t)(next_rand() % 20);
        for (uint32_t k = 0; k < depth[i]; k++)
            ips[i][k] = pool_ip();
    }
    ct_threads((const uintptr_t(*)[MAXDEPTH])ips, depth, NSTACKS, 3, leaf);
    for (int i = 0; i < NSTACKS; i++)
        for (int k = 1; k < CT_THREADS; k++)
            ck_assert_uint_eq(leaf[k][i], leaf[0][i]);
    ck_assert(!td_pending());
}
END_TEST

/* Distinct stacks enough for the generations to age while threads read them lock-free: every
 * leaf still names its own frames, through definitions that came before it. */
START_TEST(threads_across_aging)
{
    static uintptr_t ips[NSTACKS][MAXDEPTH];
    static uint32_t depth[NSTACKS], leaf[CT_THREADS][NSTACKS];
    ck_assert_int_eq(td_init(), 0);
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < NSTACKS; i++) {
            depth[i] = MAXDEPTH;
            for (uint32_t k = 0; k < depth[i]; k++) /* about 40 new edges per stack */
                ips[i][k] = 0x400000 + ((uint64_t)round * NSTACKS + (uint64_t)i) * 0x1000 +
                            (k < 4 ? 0 : (uint64_t)k * 0x10) + (k < 4 ? k : 0);
        }
        ct_threads((const uintptr_t(*)[MAXDEPTH])ips, depth, NSTACKS, 1, leaf);
    }
}
END_TEST

/* ---- the writer lock's holder defines its nodes at once (mt_tree_direct_begin) ---- */

/* Ends b and reads it back; the load must not stop at a node used before its definition,
 * defined twice, or whose parent is unknown. */
static mt_analysis_t *load_back(mt_lb_t *b, uint64_t events)
{
    mt_lb_exit(b, 1, MT_EXIT_NORMAL, 0);
    mt_lb_flush(b);
    mt_analysis_t *a;
    char err[128];
    ck_assert_int_eq(mt_analysis_load_mem(&a, b->file, b->len, "tree", err, sizeof err), 0);
    ck_assert_int_eq(a->truncated, 0);
    ck_assert_uint_eq(a->events, events);
    return a;
}

/* Every stack i's leaf names its frames, and no frame more. */
static void check_leaves(const mt_analysis_t *a, const uintptr_t (*ips)[MAXDEPTH],
                         const uint32_t *depth, const uint32_t *leaf, int n)
{
    for (int i = 0; i < n; i++) {
        uint32_t id = leaf[i];
        for (uint32_t k = 0; k < depth[i]; k++) {
            ck_assert_msg(mt_nodes_valid(&a->nodes, id), "stack %d frame %u", i, k);
            ck_assert_uint_eq(mt_nodes_ip(&a->nodes, id), ips[i][k]);
            id = a->nodes.v[id].parent;
        }
        ck_assert_uint_eq(id, 0);
    }
}

/* A direct intern queues nothing; one whose stack extends nodes another thread queued writes
 * those first (its first miss drains them), so the parents come before the children and the
 * ids stay in order: implicit TRACE_NODEs, as many bytes as the queued path writes. */
START_TEST(direct_intern_queues_nothing_and_parents_come_first)
{
    static uintptr_t ips[4][MAXDEPTH] = {
        {0x401010, 0x401020, 0x401030, 0x401040, 0x401050},
        {0x402010, 0x402020, 0x402030, 0x401010, 0x401020, 0x401030, 0x401040, 0x401050},
        {0x403010, 0x403020, 0x403030},
        {0x401010, 0x401020, 0x401030, 0x401040, 0x401050},
    };
    static const uint32_t depth[4] = {5, 8, 3, 5};
    uint32_t leaf[4];
    mt_lb_t b, q;
    mt_lb_init(&b, 1, 0);
    mt_lb_init(&q, 1, 0);
    ck_assert_int_eq(td_init(), 0);
    /* stack 0 interned by a native path: queued, not taken */
    leaf[0] = td_intern_only(ips[0], depth[0]);
    ck_assert(td_pending());
    /* stack 1 extends it under the writer lock: the queue is drained into b's encoder first */
    size_t before = mt_enc_len(&b.enc);
    leaf[1] = td_intern_direct(ips[1], depth[1], &b.enc);
    ck_assert(!td_pending());
    ck_assert_uint_eq(leaf[1], leaf[0] + 3);
    /* a new stack of its own: defined in place, nothing queued */
    leaf[2] = td_intern_direct(ips[2], depth[2], &b.enc);
    ck_assert(!td_pending());
    ck_assert_uint_eq(leaf[2], leaf[1] + 3);
    size_t direct_bytes = mt_enc_len(&b.enc) - before;
    /* a hit: no byte more */
    leaf[3] = td_intern_direct(ips[3], depth[3], &b.enc);
    ck_assert_uint_eq(leaf[3], leaf[0]);
    ck_assert_uint_eq(mt_enc_len(&b.enc) - before, direct_bytes);
    /* the same 11 definitions through the queue take the same bytes (all implicit ids) */
    size_t qbefore = mt_enc_len(&q.enc);
    for (uint32_t id = 1; id <= leaf[2]; id++) {
        uint32_t i = id <= 5   ? 0
                     : id <= 8 ? 1
                               : 2,
                 k = id <= 5   ? 5 - id
                     : id <= 8 ? 8 - id
                               : 11 - id;
        uint32_t parent = id == 1 || id == 9 ? 0 : id == 6 ? 5 : id - 1;
        mt_enc_trace_node(&q.enc, id, parent, ips[i][k]);
    }
    ck_assert_uint_eq(mt_enc_len(&q.enc) - qbefore, direct_bytes);
    for (int i = 0; i < 4; i++)
        mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1, 16, 0x10000 + (uint64_t)i * 32, leaf[i]);
    mt_analysis_t *a = load_back(&b, 4);
    check_leaves(a, (const uintptr_t(*)[MAXDEPTH])ips, depth, leaf, 4);
    mt_analysis_free(a);
    mt_lb_free(&b);
    mt_lb_free(&q);
}
END_TEST

/*
 * Threads of both kinds on one log: native ones intern lock-free and drain the queue under
 * the writer lock (dt_lock) before their event, Python-like ones intern under it in a direct
 * section; every event is an ALLOC naming its leaf, encoded under dt_lock, and the log must
 * read back whole (a node named or used as a parent before its definition, or defined twice,
 * stops the load), over enough distinct stacks for the generations to age.
 */
#define DT_THREADS 4
static pthread_mutex_t dt_lock = PTHREAD_MUTEX_INITIALIZER;
static mt_lb_t dt_b;
static uint64_t dt_events;

typedef struct dt_work {
    const uintptr_t (*ips)[MAXDEPTH];
    const uint32_t *depth;
    uint32_t n, seed;
    int direct;
    uint32_t *leaf;
} dt_work_t;

static void *dt_run(void *arg)
{
    dt_work_t *w = arg;
    for (uint32_t k = 0; k < w->n; k++) {
        uint32_t i = (uint32_t)((w->seed + (uint64_t)k * 7) % w->n);
        uint32_t leaf = w->direct ? 0 : td_intern_only(w->ips[i], w->depth[i]);
        pthread_mutex_lock(&dt_lock);
        if (w->direct)
            leaf = td_intern_direct(w->ips[i], w->depth[i], &dt_b.enc);
        else if (td_pending())
            td_drain(&dt_b.enc);
        mt_lb_alloc(&dt_b, MT_ALLOC_MALLOC, 1, 16, 0x10000000 + dt_events * 32, leaf);
        dt_events++;
        pthread_mutex_unlock(&dt_lock);
        w->leaf[i] = leaf;
    }
    return NULL;
}

START_TEST(direct_and_queued_threads_share_one_log)
{
    static uintptr_t ips[NSTACKS][MAXDEPTH];
    static uint32_t depth[NSTACKS], leaf[DT_THREADS][NSTACKS];
    ck_assert_int_eq(td_init(), 0);
    mt_lb_init(&dt_b, 1, 0);
    dt_events = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < NSTACKS; i++) {
            depth[i] = MAXDEPTH;
            for (uint32_t k = 0; k < depth[i]; k++) /* shared outer frames, new inner ones */
                ips[i][k] = 0x400000 +
                            (k < 20 ? ((uint64_t)round * NSTACKS + (uint64_t)i) * 0x1000 + k * 0x10
                                    : (uint64_t)(i % 7) * 0x100 + k);
        }
        pthread_t t[DT_THREADS];
        dt_work_t w[DT_THREADS];
        for (int k = 0; k < DT_THREADS; k++) {
            w[k] = (dt_work_t){(const uintptr_t(*)[MAXDEPTH])ips, depth, NSTACKS,
                               0x9e3779b9u * (uint32_t)(k + 1),   k % 2, leaf[k]};
            ck_assert_int_eq(pthread_create(&t[k], NULL, dt_run, &w[k]), 0);
        }
        for (int k = 0; k < DT_THREADS; k++)
            pthread_join(t[k], NULL);
    }
    ck_assert_uint_eq(dt_events, 3u * DT_THREADS * NSTACKS);
    ck_assert(!td_pending());
    /* the last round's stacks, as each thread got them, read back */
    mt_analysis_t *a = load_back(&dt_b, dt_events);
    for (int k = 0; k < DT_THREADS; k++)
        check_leaves(a, (const uintptr_t(*)[MAXDEPTH])ips, depth, leaf[k], NSTACKS);
    mt_analysis_free(a);
    mt_lb_free(&dt_b);
}
END_TEST

MT_SUITE(.name = "trace_tree",
         .tests = MT_TESTS(interned_stacks_read_back, hash_separates_structured_stacks,
                           forget_starts_new_ids, aging_keeps_every_stack_readable,
                           threads_share_leaves_and_definitions_come_first, threads_across_aging,
                           direct_intern_queues_nothing_and_parents_come_first,
                           direct_and_queued_threads_share_one_log));

// SPDX-License-Identifier: MIT
// The trace tree: node ids for stacks, shared by every thread without a lock on the hit path.
// A lookup tries the whole stack's two hashes (stack_hash.h) in a direct-mapped cache of leaf
// ids, then the (parent, ip) edges of the young generation, both read lock-free; only a miss
// takes the tree lock, which makes new ids and queues their TRACE_NODE definitions for the
// writer (mt_tree_defs_take) before publishing them; the writer lock's holder instead encodes
// them itself (mt_tree_direct_begin). Memory comes from mmap only (never malloc,
// which would recurse into the hooks) and stays bounded whatever the number of stacks.
#include "stack/trace_tree.h"

#include <errno.h>
#include <string.h>

#include "base/lock_order.h"

/* Written under the tree lock into an empty slot, id last (release); read without it: an id
 * seen (acquire) comes with its ip and parent. Slots are only emptied by aging or forgetting,
 * inside the tree's sequence window (mt_tree.seq), which lock-free readers check. */
typedef struct mt_edge {
    uint64_t ip;
    uint32_t parent;
    uint32_t id; /* 0: empty slot */
} mt_edge_t;

/*
 * 16 bytes, written and read without a lock, as two words that check each other: check is
 * the hash mixed with the leaf, tail the second hash's low half and the leaf. A reader that
 * sees the two words of different writes (two threads filling the same entry, or a forget
 * clearing it) finds check != hash ^ mix(leaf of tail) and misses: a torn entry never gives a
 * wrong leaf (but for a 2^-96 chance, as a hash collision). The 96 bits of hash kept make a
 * false hit as unlikely as the two full hashes did (the hashes cover the depth).
 */
typedef struct mt_cache_entry {
    uint64_t check; /* hash ^ mt_tree_mix(leaf) */
    uint64_t tail;  /* (uint32_t)hash2 << 32 | leaf; leaf 0: empty */
} mt_cache_entry_t;

static inline uint64_t mt_tree_mix(uint32_t leaf)
{
    return ((uint64_t)leaf + 1) * 0xff51afd7ed558ccdull;
}

#define MT_CACHE_SIZE (1u << 16)

/*
 * The (parent, ip) -> id edges live in two generations of fixed size: a lookup that misses the
 * young one but finds the edge in the old one copies it over, with its id; when the young one
 * is full it becomes the old one and the old one is cleared. Memory stays at 2 x 1 MiB however
 * many nodes a program makes (a clang++ compile makes 2.5 million: the single table of before
 * grew to 128 MiB, resident), and an edge that was used in the last generation keeps its id.
 * A forgotten edge only costs its node again under a new id: 3.1 million nodes on that compile
 * (2.7 million with generations twice as large), each about a third of a byte of the log.
 */
#define MT_GEN_BITS 16
#define MT_GEN_SLOTS (1u << MT_GEN_BITS)
#define MT_GEN_MAX_USED (MT_GEN_SLOTS / 2) /* half full: short probes */

/* A node by id, for a forked child's log under --leak-check, which must describe the nodes
 * its inherited blocks name (trace_tree.h). Kept only then: 16 bytes per node. */
typedef struct mt_node_rec {
    uint64_t ip;
    uint32_t parent;
} mt_node_rec_t;

/* The definition queue: TRACE_NODE records not written yet, oldest first, grown by mmap under
 * the tree lock (a burst of new stacks from many threads between two drains). */
#define MT_DEFQ_INITIAL 4096u

static struct {
    pthread_mutex_t lock; /* misses: new ids, edges, aging, the queue (MT_LOCK_TREE) */
    /* Odd while a generation is being emptied (aging, forget): a lock-free reader that saw it
     * odd, or changed across its lookup, takes the lock instead of trusting what it read. */
    uint32_t seq;
    uint32_t next_id;
    /* next_id when the old generation last changed (aging, forget): a node made since has
     * all its edges in the young one (edges go there only), so a child of it missing there is
     * new, and the old one need not be probed (an import's new stacks are chains of new nodes,
     * and each probe is a cache miss). */
    uint32_t fresh_from;
    mt_node_rec_t *nodes; /* by id; nodes_cap entries; NULL unless kept */
    size_t nodes_cap;
    bool keep_nodes;
    mt_edge_t *gen[2]; /* young, old */
    size_t young_used;
    mt_cache_entry_t *cache;
    uint32_t epoch; /* bumped whenever ids may stop meaning what callers cached */
    mt_tree_def_t *defq;
    size_t defq_head, defq_len, defq_cap; /* [head, len) are queued */
} mt_tree = {.lock = PTHREAD_MUTEX_INITIALIZER, .epoch = 1};

/* Read without the lock by whoever may drain (mt_tree_defs_pending): non-zero when queued. */
size_t mt_tree_defs_queued;

static void mt_tree_lock(void)
{
    MT_LOCK(&mt_tree.lock, MT_LOCK_TREE);
}

static void mt_tree_unlock(void)
{
    MT_UNLOCK(&mt_tree.lock, MT_LOCK_TREE);
}

/*
 * The direct mode of the writer lock's holder (mt_tree_direct_begin): its misses encode their
 * definitions into its encoder instead of queueing them, and the tree lock, once its first
 * miss took it, stays held until mt_tree_direct_end. Thread-local: another thread's miss
 * (which waits for the lock meanwhile) queues as ever.
 */
enum mt_tree_direct_state {
    MT_DIRECT_OFF,    /* not in a direct section: misses take the lock and queue */
    MT_DIRECT_ARMED,  /* in one, no miss yet: the lock is not held */
    MT_DIRECT_LOCKED, /* the lock is held, the queue was drained into mt_tree_direct_enc */
    MT_DIRECT_QUEUED, /* the queue was too long to drain here: misses queue as when off */
};
static __thread unsigned char mt_tree_direct_state __attribute__((tls_model("initial-exec")));
static __thread mt_enc_t *mt_tree_direct_enc __attribute__((tls_model("initial-exec")));

/* The most queued definitions a direct section drains into its encoder (about 64 KiB, well
 * inside the buffer's slack for one locked section, log_writer.h); beyond, it queues. */
#define MT_DIRECT_DRAIN_MAX 2048u

/* Before a miss changes the tree. In a direct section the first miss takes the lock and
 * drains what other threads queued into the encoder, so that a node made here, whose parent
 * may be one of theirs, is written after its parent and ids stay in order. */
static void mt_tree_miss_lock(void)
{
    unsigned char st = mt_tree_direct_state;
    if (MT_LIKELY(st == MT_DIRECT_OFF || st == MT_DIRECT_QUEUED)) {
        mt_tree_lock();
        return;
    }
    if (st == MT_DIRECT_LOCKED)
        return;
    mt_tree_lock();
    size_t n = mt_tree.defq_len - mt_tree.defq_head;
    if (n > MT_DIRECT_DRAIN_MAX) {
        mt_tree_direct_state = MT_DIRECT_QUEUED;
        return;
    }
    for (size_t i = mt_tree.defq_head; i < mt_tree.defq_len; i++)
        mt_enc_trace_node(mt_tree_direct_enc, mt_tree.defq[i].id, mt_tree.defq[i].parent,
                          mt_tree.defq[i].ip);
    mt_tree.defq_head = mt_tree.defq_len = 0;
    __atomic_store_n(&mt_tree_defs_queued, 0, __ATOMIC_RELAXED);
    mt_tree_direct_state = MT_DIRECT_LOCKED;
}

static void mt_tree_miss_unlock(void)
{
    if (MT_LIKELY(mt_tree_direct_state != MT_DIRECT_LOCKED))
        mt_tree_unlock();
}

void mt_tree_direct_begin(mt_enc_t *e)
{
    mt_tree_direct_enc = e;
    mt_tree_direct_state = MT_DIRECT_ARMED;
}

void mt_tree_direct_end(void)
{
    if (mt_tree_direct_state == MT_DIRECT_LOCKED)
        mt_tree_unlock();
    mt_tree_direct_state = MT_DIRECT_OFF;
    mt_tree_direct_enc = NULL;
}

int mt_tree_init(bool keep_nodes)
{
    mt_tree.gen[0] = mt_map(MT_GEN_SLOTS * sizeof(mt_edge_t));
    mt_tree.gen[1] = mt_map(MT_GEN_SLOTS * sizeof(mt_edge_t));
    mt_tree.cache = mt_map(MT_CACHE_SIZE * sizeof(mt_cache_entry_t));
    if (!mt_tree.gen[0] || !mt_tree.gen[1] || !mt_tree.cache)
        return -ENOMEM;
    mt_tree.next_id = mt_tree.fresh_from = 1;
    mt_tree.young_used = 0;
    mt_tree.keep_nodes = keep_nodes;
    mt_tree.defq_cap = MT_DEFQ_INITIAL;
    mt_tree.defq = mt_map(mt_tree.defq_cap * sizeof(mt_tree_def_t));
    if (!mt_tree.defq)
        return -ENOMEM;
    if (!keep_nodes)
        return 0;
    mt_tree.nodes_cap = 1u << 16;
    mt_tree.nodes = mt_map(mt_tree.nodes_cap * sizeof(mt_node_rec_t));
    return mt_tree.nodes ? 0 : -ENOMEM;
}

/* Records id's (parent, ip) when nodes are kept; 0 or -ENOMEM. */
static int mt_tree_note_node(uint32_t id, uint32_t parent, uint64_t ip)
{
    if (!mt_tree.keep_nodes)
        return 0;
    if (id >= mt_tree.nodes_cap) {
        size_t cap = mt_tree.nodes_cap * 2;
        mt_node_rec_t *n = mt_map(cap * sizeof(mt_node_rec_t));
        if (!n)
            return -ENOMEM;
        memcpy(n, mt_tree.nodes, mt_tree.nodes_cap * sizeof(mt_node_rec_t));
        mt_unmap(mt_tree.nodes, mt_tree.nodes_cap * sizeof(mt_node_rec_t));
        mt_tree.nodes = n;
        mt_tree.nodes_cap = cap;
    }
    mt_tree.nodes[id] = (mt_node_rec_t){ip, parent};
    return 0;
}

uint32_t mt_tree_count(void)
{
    return mt_tree.keep_nodes ? mt_tree.next_id - 1 : 0;
}

void mt_tree_node(uint32_t id, uint32_t *parent, uint64_t *ip)
{
    *parent = mt_tree.nodes[id].parent;
    *ip = mt_tree.nodes[id].ip;
}

static size_t mt_tree_slot(uint32_t parent, uint64_t ip)
{
    uint64_t h = (ip ^ ((uint64_t)parent << 32 | parent)) * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> (64 - MT_GEN_BITS));
}

/* The slot of (parent, ip) in a generation: its edge, or the empty slot where it would go.
 * Lock-free readers call it too (inside a sequence window): the table is never more than half
 * full, so the probe ends. */
static mt_edge_t *mt_tree_probe(mt_edge_t *gen, uint32_t parent, uint64_t ip)
{
    for (size_t s = mt_tree_slot(parent, ip);; s = (s + 1) & (MT_GEN_SLOTS - 1)) {
        mt_edge_t *e = &gen[s];
        if (!__atomic_load_n(&e->id, __ATOMIC_ACQUIRE) ||
            (__atomic_load_n(&e->ip, __ATOMIC_RELAXED) == ip &&
             __atomic_load_n(&e->parent, __ATOMIC_RELAXED) == parent))
            return e;
    }
}

/* Tree lock held: brackets a change that empties slots (seqlock writer side). */
static void mt_tree_seq_begin(void)
{
    __atomic_store_n(&mt_tree.seq, mt_tree.seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void mt_tree_seq_end(void)
{
    __atomic_store_n(&mt_tree.seq, mt_tree.seq + 1, __ATOMIC_RELEASE);
}

/* The young generation is full: it becomes the old one, the old one is cleared for reuse. */
static void mt_tree_age(void)
{
    mt_tree_seq_begin();
    mt_edge_t *old = mt_tree.gen[1];
    memset(old, 0, MT_GEN_SLOTS * sizeof(mt_edge_t));
    __atomic_store_n(&mt_tree.gen[1], mt_tree.gen[0], __ATOMIC_RELAXED);
    __atomic_store_n(&mt_tree.gen[0], old, __ATOMIC_RELAXED);
    mt_tree.young_used = 0;
    mt_tree.fresh_from = mt_tree.next_id;
    mt_tree_seq_end();
}

/* Tree lock held: queues id's definition, or in a direct section that took the lock encodes
 * it; false when the queue cannot grow (out of memory). */
static bool mt_tree_def_put(uint32_t id, uint32_t parent, uint64_t ip)
{
    if (mt_tree_direct_state == MT_DIRECT_LOCKED) {
        /* The encoder is the writer lock's holder's, and the id is published below, under
         * the tree lock this thread keeps until its event is encoded: whoever finds the id
         * encodes its own event after this section, so after the definition. */
        mt_enc_trace_node(mt_tree_direct_enc, id, parent, ip);
        return true;
    }
    if (mt_tree.defq_len == mt_tree.defq_cap) {
        size_t live = mt_tree.defq_len - mt_tree.defq_head;
        size_t cap = live * 2 > mt_tree.defq_cap ? mt_tree.defq_cap * 2 : mt_tree.defq_cap;
        mt_tree_def_t *q = cap == mt_tree.defq_cap ? mt_tree.defq : mt_map(cap * sizeof *q);
        if (!q)
            return false;
        memmove(q, mt_tree.defq + mt_tree.defq_head, live * sizeof *q);
        if (q != mt_tree.defq)
            mt_unmap(mt_tree.defq, mt_tree.defq_cap * sizeof *q);
        mt_tree.defq = q;
        mt_tree.defq_cap = cap;
        mt_tree.defq_head = 0;
        mt_tree.defq_len = live;
    }
    mt_tree.defq[mt_tree.defq_len++] = (mt_tree_def_t){ip, parent, id};
    /* Before the id is published (an edge or a cache entry, release): whoever finds the id
     * finds the queue non-empty, or already drained by a writer that encoded it. */
    __atomic_store_n(&mt_tree_defs_queued, mt_tree.defq_len - mt_tree.defq_head, __ATOMIC_RELEASE);
    return true;
}

uint32_t mt_tree_defs_take(mt_tree_def_t *out, uint32_t max)
{
    mt_tree_lock();
    size_t n = mt_tree.defq_len - mt_tree.defq_head;
    if (n > max)
        n = max;
    if (n)
        memcpy(out, mt_tree.defq + mt_tree.defq_head, n * sizeof *out);
    mt_tree.defq_head += n;
    if (mt_tree.defq_head == mt_tree.defq_len)
        mt_tree.defq_head = mt_tree.defq_len = 0;
    __atomic_store_n(&mt_tree_defs_queued, mt_tree.defq_len - mt_tree.defq_head, __ATOMIC_RELAXED);
    mt_tree_unlock();
    return (uint32_t)n;
}

/* Tree lock held. Child of parent for ip, created (and queued) when missing; 0 when out of
 * memory. */
static uint32_t mt_tree_child(uint32_t parent, uint64_t ip)
{
    mt_edge_t *e = mt_tree_probe(mt_tree.gen[0], parent, ip);
    if (e->id)
        return e->id;
    if (mt_tree.young_used >= MT_GEN_MAX_USED) {
        mt_tree_age();
        e = mt_tree_probe(mt_tree.gen[0], parent, ip);
    }
    uint32_t id = parent >= mt_tree.fresh_from ? 0 : mt_tree_probe(mt_tree.gen[1], parent, ip)->id;
    if (!id) {
        if (MT_UNLIKELY(mt_tree.next_id == UINT32_MAX))
            return 0; /* ids exhausted: treated like out of memory */
        id = mt_tree.next_id;
        if (mt_tree_note_node(id, parent, ip) < 0 || !mt_tree_def_put(id, parent, ip))
            return 0;
        mt_tree.next_id++;
    }
    __atomic_store_n(&e->ip, ip, __ATOMIC_RELAXED);
    __atomic_store_n(&e->parent, parent, __ATOMIC_RELAXED);
    __atomic_store_n(&e->id, id, __ATOMIC_RELEASE);
    mt_tree.young_used++;
    return id;
}

/* The last stack the slow path walked, outermost frame first, with the node of each frame. A
 * stack that misses the whole-stack cache usually shares its outer frames with the previous
 * one (the same callers, one level deeper or on the next line: imports nest 50 to 100 frames
 * deep), so only the frames after the first difference are looked up in the edge table, whose
 * probes are cache misses. Valid for one epoch; tree lock held. */
static struct {
    uint64_t ip[MT_STACK_MAX];
    uint32_t node[MT_STACK_MAX];
    uint32_t n, epoch;
} mt_path;

/* How many outer frames st shares with the last path walked. */
static uint32_t mt_path_common(const mt_stack_t *st)
{
    if (mt_path.epoch != mt_tree.epoch)
        return 0;
    uint32_t n = st->n, lim = n < mt_path.n ? n : mt_path.n, k = 0;
    while (k < lim && mt_path.ip[k] == st->ip[n - 1 - k])
        k++;
    return k;
}

static uint32_t mt_tree_walk(const mt_stack_t *st)
{
    uint32_t n = st->n, k = mt_path_common(st);
    uint32_t id = k ? mt_path.node[k - 1] : 0;
    mt_path.epoch = mt_tree.epoch;
    for (uint32_t i = k; i < n; i++) {
        id = mt_tree_child(id, st->ip[n - 1 - i]);
        if (!id) {
            mt_path.n = i;
            return 0;
        }
        mt_path.ip[i] = st->ip[n - 1 - i];
        mt_path.node[i] = id;
    }
    mt_path.n = n;
    return id;
}

static mt_cache_entry_t *mt_tree_cache_at(const mt_stack_t *st)
{
    return &mt_tree.cache[(st->hash ^ st->hash2) & (MT_CACHE_SIZE - 1)];
}

static void mt_tree_cache_put(mt_cache_entry_t *c, const mt_stack_t *st, uint32_t leaf)
{
    __atomic_store_n(&c->check, st->hash ^ mt_tree_mix(leaf), __ATOMIC_RELAXED);
    __atomic_store_n(&c->tail, (uint64_t)(uint32_t)st->hash2 << 32 | leaf, __ATOMIC_RELEASE);
}

/*
 * Lock-free: the leaf of st if every edge of it is in the young generation, else 0. Within a
 * sequence window: an edge read while a generation was emptied (and perhaps refilled) is not
 * trusted. Ids only ever map to one (parent, ip), so an edge read whole is right.
 */
static uint32_t mt_tree_walk_shared(const mt_stack_t *st)
{
    uint32_t seq = __atomic_load_n(&mt_tree.seq, __ATOMIC_ACQUIRE);
    if (seq & 1)
        return 0;
    mt_edge_t *young = __atomic_load_n(&mt_tree.gen[0], __ATOMIC_RELAXED);
    uint32_t id = 0;
    for (uint32_t i = st->n; i-- > 0;) {
        mt_edge_t *e = mt_tree_probe(young, id, st->ip[i]);
        id = __atomic_load_n(&e->id, __ATOMIC_ACQUIRE);
        if (!id)
            return 0;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(&mt_tree.seq, __ATOMIC_RELAXED) == seq ? id : 0;
}

uint32_t mt_tree_intern(const mt_stack_t *st)
{
    if (st->n == 0 || st->n > MT_STACK_MAX)
        return 0;
    /* The hash and the low half of the second equal (both cover the depth): the same stack,
     * but for a 2^-96 chance (stack_hash.c). Walking the leaf's parents to confirm it took 9%
     * of recording churn.c. */
    mt_cache_entry_t *c = mt_tree_cache_at(st);
    uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE);
    uint32_t leaf = (uint32_t)tail;
    if (MT_LIKELY(leaf && tail >> 32 == (uint32_t)st->hash2 &&
                  __atomic_load_n(&c->check, __ATOMIC_RELAXED) == (st->hash ^ mt_tree_mix(leaf))))
        return leaf;
    uint32_t epoch = mt_tree_epoch();
    /* In a direct section the walk under the lock is the cheaper one: it starts where this
     * stack leaves the last one walked (mt_path), where the lock-free walk probes every frame
     * from the outermost (an import's new stacks: 80 probes, nearly all cache misses), and
     * there the lock is the section's anyway. */
    uint32_t id = mt_tree_direct_state == MT_DIRECT_OFF ? mt_tree_walk_shared(st) : 0;
    if (!id) {
        mt_tree_miss_lock();
        id = mt_tree_walk(st);
        mt_tree_miss_unlock();
    }
    if (id) {
        mt_tree_cache_put(c, st, id);
        /* A forget (dlclose) meanwhile must not find an id of before in the cache after it. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (MT_UNLIKELY(mt_tree_epoch() != epoch))
            __atomic_store_n(&c->tail, 0, __ATOMIC_RELAXED);
    }
    return id;
}

uint32_t mt_tree_extend(uint32_t node, const uintptr_t *ip, uint32_t n)
{
    mt_tree_miss_lock();
    for (uint32_t i = n; i-- > 0 && node;)
        node = mt_tree_child(node, ip[i]);
    mt_tree_miss_unlock();
    return node;
}

/* Tree lock held. A lookup racing with this may still find an edge of before (it was
 * valid when the lookup began): an event recorded at the moment of a dlclose. */
static void mt_tree_forget_locked(void)
{
    mt_tree_seq_begin();
    for (int g = 0; g < 2; g++)
        memset(mt_tree.gen[g], 0, MT_GEN_SLOTS * sizeof(mt_edge_t));
    memset(mt_tree.cache, 0, MT_CACHE_SIZE * sizeof(mt_cache_entry_t));
    mt_tree.young_used = 0;
    mt_tree.fresh_from = mt_tree.next_id;
    __atomic_store_n(&mt_tree.epoch, mt_tree.epoch + 1, __ATOMIC_RELAXED);
    mt_tree_seq_end();
}

void mt_tree_forget(void)
{
    mt_tree_lock();
    mt_tree_forget_locked();
    mt_tree_unlock();
}

uint32_t mt_tree_epoch(void)
{
    return __atomic_load_n(&mt_tree.epoch, __ATOMIC_RELAXED);
}

static void mt_tree_defs_clear(void)
{
    mt_tree.defq_head = mt_tree.defq_len = 0;
    __atomic_store_n(&mt_tree_defs_queued, 0, __ATOMIC_RELAXED);
}

void mt_tree_reset(void)
{
    mt_tree_lock();
    mt_tree_forget_locked();
    mt_tree_defs_clear();
    mt_tree.next_id = mt_tree.fresh_from = 1;
    mt_tree_unlock();
}

void mt_tree_fork_prepare(void)
{
    mt_tree_lock();
}

void mt_tree_fork_parent(void)
{
    mt_tree_unlock();
}

void mt_tree_fork_child(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    mt_tree.lock = fresh;
    mt_lock_order_drop(MT_LOCK_TREE);
    /* The child's log starts afresh: it lists the nodes it keeps itself (process.c), and what
     * the parent had queued is the parent's to write. */
    mt_tree_defs_clear();
}

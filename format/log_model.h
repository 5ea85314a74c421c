// SPDX-License-Identifier: MIT
// The prediction model of the log format (version 3): what the encoder (preload/, tests) and
// the reader (src/log/log_reader.c) both remember of the records so far, so that an event can say
// "the address I predicted" or "the block allocated n allocations ago" instead of writing it.
// Both ends must update it identically; everything here is allocation-free, branch-light and
// safe inside a malloc hook. The layout it serves is documented in log_format.h.
#ifndef MT_LOG_MODEL_H
#define MT_LOG_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- varints ---- */

#define MT_VARINT_MAX 10

/* Writes v as LEB128 at p; returns the number of bytes written (1..10). */
static inline size_t mt_varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static inline uint64_t mt_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t mt_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/*
 * Reads a LEB128 varint from [*p, end). Returns 0 and advances *p, or -1 when the input ends
 * inside the varint or the varint is longer than 10 bytes (corrupt input; never reads past end).
 */
static inline int mt_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    const uint8_t *q = *p;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (q >= end)
            return -1;
        uint8_t b = *q++;
        if (shift == 63 && b > 1)
            return -1; /* would overflow 64 bits */
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *p = q;
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* ---- sizes ---- */

/* Size class of the reuse stacks: 16-byte steps of the malloc chunk size, like glibc's
 * tcache; MT_REUSE_NONE for sizes that get no stack. */
#define MT_REUSE_CLASSES 256
#define MT_REUSE_NONE MT_REUSE_CLASSES
static inline uint32_t mt_size_class(uint64_t size)
{
    return size <= 4072 ? (uint32_t)((size + 23) >> 4) : MT_REUSE_NONE;
}

/* The span a glibc chunk of this request takes (header included, 16-byte steps, at least 32):
 * where the next block carved from the same free space starts. Only a prediction: with
 * another allocator it merely misses. */
static inline uint64_t mt_chunk_span(uint64_t size)
{
    uint64_t c = (size + 8 + 15) & ~(uint64_t)15;
    return c < 32 ? 32 : c;
}

/* Requests at least this big are mmapped by glibc: they say nothing about the next block. */
#define MT_NEXT_MAX_SIZE (128u << 10)

/* ---- reuse stacks: the last blocks freed per size class, most recent on top ---- */

#define MT_REUSE_DEPTH 16 /* a power of two */

typedef struct mt_reuse {
    uint64_t addr[MT_REUSE_CLASSES][MT_REUSE_DEPTH];
    uint8_t top[MT_REUSE_CLASSES]; /* index of the top entry */
    uint8_t n[MT_REUSE_CLASSES];   /* entries held, 0..MT_REUSE_DEPTH */
} mt_reuse_t;

static inline void mt_reuse_push(mt_reuse_t *r, uint32_t cls, uint64_t addr)
{
    if (cls >= MT_REUSE_CLASSES)
        return;
    uint8_t t = (uint8_t)((r->top[cls] + 1) & (MT_REUSE_DEPTH - 1));
    r->top[cls] = t;
    r->addr[cls][t] = addr;
    if (r->n[cls] < MT_REUSE_DEPTH)
        r->n[cls]++;
}

static inline uint64_t *mt_reuse_at(mt_reuse_t *r, uint32_t cls, unsigned depth)
{
    return &r->addr[cls][(r->top[cls] - depth) & (MT_REUSE_DEPTH - 1)];
}

/* Depth of addr in cls's stack (0 is the top), or -1. Writer side: at most 16 compares. */
static inline int mt_reuse_find(mt_reuse_t *r, uint32_t cls, uint64_t addr)
{
    if (cls >= MT_REUSE_CLASSES)
        return -1;
    for (unsigned d = 0; d < r->n[cls]; d++)
        if (*mt_reuse_at(r, cls, d) == addr)
            return (int)d;
    return -1;
}

/* Takes the entry at depth (< n) out of cls's stack; the ones above it move down. */
static inline uint64_t mt_reuse_take(mt_reuse_t *r, uint32_t cls, unsigned depth)
{
    uint64_t addr = *mt_reuse_at(r, cls, depth);
    for (unsigned d = depth; d > 0; d--)
        *mt_reuse_at(r, cls, d) = *mt_reuse_at(r, cls, d - 1);
    r->top[cls] = (uint8_t)((r->top[cls] - 1) & (MT_REUSE_DEPTH - 1));
    r->n[cls]--;
    return addr;
}

/* ---- trace nodes: a new node's ip predicted from its parent's ---- */

/* Ips of the last MT_NODE_RING nodes by id (the context of a child made soon after; more
 * rarely helps: 2^16 saves 2% of the ip stream on a clang++ compile). */
#define MT_NODE_RING (1u << 15)
#define MT_NODE_PRED_BITS 14

typedef struct mt_node_model {
    uint64_t ring[MT_NODE_RING];
    /* The last two distinct child ips seen under a parent ip (hashed), most recent first:
     * recursion and repeated call paths make the same caller -> callee step again and again
     * under new parents (91% of clang's nodes). */
    uint64_t pred[1u << MT_NODE_PRED_BITS][2];
} mt_node_model_t;

/* The context of node id with this parent: the parent's ip when the ring still holds it. */
static inline uint64_t mt_node_context(const mt_node_model_t *m, uint64_t id, uint64_t parent)
{
    return parent && parent < id && id - parent <= MT_NODE_RING ? m->ring[parent % MT_NODE_RING]
                                                                : 0;
}

static inline uint64_t *mt_node_pred(mt_node_model_t *m, uint64_t context)
{
    return m->pred[(context * 0x9e3779b97f4a7c15ull) >> (64 - MT_NODE_PRED_BITS)];
}

static inline void mt_node_learn(mt_node_model_t *m, uint64_t *w, uint64_t id, uint64_t ip)
{
    if (w[0] != ip) {
        w[1] = w[0];
        w[0] = ip;
    }
    m->ring[id % MT_NODE_RING] = ip;
}

/* The code of ip in *code: 0 or 1 for a prediction, else 2 + zigzag(ip - context). Returns 0
 * for the two ips that no such code can say (ip - context is +-2^63: only absurd ips), which
 * the caller writes whole instead. Updates the model either way. */
static inline int mt_node_code(mt_node_model_t *m, uint64_t id, uint64_t parent, uint64_t ip,
                               uint64_t *code)
{
    uint64_t ctx = mt_node_context(m, id, parent);
    uint64_t *w = mt_node_pred(m, ctx);
    uint64_t z = mt_zigzag((int64_t)(ip - ctx));
    int predicted = w[0] == ip || w[1] == ip;
    *code = w[0] == ip ? 0 : w[1] == ip ? 1 : 2 + z;
    mt_node_learn(m, w, id, ip);
    return predicted || z < UINT64_MAX - 1;
}

/* The reader's inverse of mt_node_code. */
static inline uint64_t mt_node_decode(mt_node_model_t *m, uint64_t id, uint64_t parent,
                                      uint64_t code)
{
    uint64_t ctx = mt_node_context(m, id, parent);
    uint64_t *w = mt_node_pred(m, ctx);
    uint64_t ip = code == 0 ? w[0] : code == 1 ? w[1] : ctx + (uint64_t)mt_unzigzag(code - 2);
    mt_node_learn(m, w, id, ip);
    return ip;
}

/* A node whose ip was written whole (the reader's side of mt_node_code returning 0). */
static inline void mt_node_whole(mt_node_model_t *m, uint64_t id, uint64_t parent, uint64_t ip)
{
    mt_node_learn(m, mt_node_pred(m, mt_node_context(m, id, parent)), id, ip);
}

/* ---- sites (version 7): an allocation's node and size, from the allocation before ---- */

/* A program allocates in the same orders again and again: the node of an allocation is, in 86%
 * of a g++ compile's allocations, the node that followed the previous allocation's node the last
 * time (8% more: the one before that), and its size is the size its node allocated last time in
 * 74%. Deflate cannot see this, its window is 32 KiB and such sequences recur megabytes apart.
 * Both ends keep, per node (direct-mapped by the id's low bits: ids are dense), the last two
 * distinct nodes that followed it, most recent first, and the size it allocated last. */
#define MT_SITE_BITS 16
#define MT_SITE_SLOTS (1u << MT_SITE_BITS)

/* One slot per node id (low bits): what followed the node, and what the node allocated. An
 * allocation reads its node's slot for the size and the previous node's for the node, and the
 * next allocation's previous node is this one: one cache line a record where three tables
 * took three misses. */
typedef struct mt_site_slot {
    uint32_t succ[2]; /* the last two distinct nodes after this slot's node, most recent first */
    uint32_t node;    /* the node whose size is below */
    uint64_t size;    /* what node allocated last */
} mt_site_slot_t;

typedef struct mt_site_model {
    mt_site_slot_t slot[MT_SITE_SLOTS];
    uint32_t prev; /* node of the previous allocation (0 before the first) */
} mt_site_model_t;

static inline mt_site_slot_t *mt_site_slot(mt_site_model_t *m, uint32_t node)
{
    return &m->slot[node & (MT_SITE_SLOTS - 1)];
}

/* The node code: 0 or 1 for the first or second node that followed the previous allocation's
 * node, else node + 2 (more than 32 bits for the largest ids). */
static inline uint64_t mt_site_node_code(mt_site_model_t *m, uint32_t node)
{
    const uint32_t *w = mt_site_slot(m, m->prev)->succ;
    return w[0] == node ? 0 : w[1] == node ? 1 : (uint64_t)node + 2;
}

/* The size code, for an allocation of node: 0 when node allocated size last time, else size +
 * 1. No allocation has 2^64 - 1 bytes (glibc refuses more than PTRDIFF_MAX); the encoder writes
 * a custom block that claims it (memtrace_alloc) as 2^64 - 2 bytes. */
static inline uint64_t mt_site_size_code(mt_site_model_t *m, uint32_t node, uint64_t size)
{
    const mt_site_slot_t *s = mt_site_slot(m, node);
    return s->node == node && s->size == size ? 0 : size + 1;
}

/* The reader's inverse of mt_site_node_code: 0, or -1 for a code that names no node. */
static inline int mt_site_node_decode(mt_site_model_t *m, uint64_t code, uint32_t *node)
{
    const uint32_t *w = mt_site_slot(m, m->prev)->succ;
    if (code < 2)
        *node = w[code];
    else if (code - 2 > UINT32_MAX)
        return -1;
    else
        *node = (uint32_t)(code - 2);
    return 0;
}

static inline uint64_t mt_site_size_decode(mt_site_model_t *m, uint32_t node, uint64_t code)
{
    /* 0 with another node's entry in the slot: that node's size, which the encoder never
     * writes (a corrupt log gets some size, never a crash) */
    return code ? code - 1 : mt_site_slot(m, node)->size;
}

/* Both ends, after every allocation form (a REPEAT's records too): node follows prev now. */
static inline void mt_site_learn(mt_site_model_t *m, uint32_t node, uint64_t size)
{
    uint32_t *w = mt_site_slot(m, m->prev)->succ;
    if (w[0] != node) {
        w[1] = w[0];
        w[0] = node;
    }
    mt_site_slot_t *s = mt_site_slot(m, node);
    s->node = node;
    s->size = size;
    m->prev = node;
}

/* ---- ALLOC_PREV's base: the number the last one named ---- */

/* Where ALLOC_PREV's field counts from, in base[MT_REUSE_CLASSES + 1]: version 10 keeps one
 * per size class of the new allocation (cls: mt_size_class), version 9 one for all in base[0]
 * (no size has class 0). glibc's small bins hand a class's blocks back in the order they were
 * freed, which is often the order they were allocated in: counted from the class's own last
 * one, the field is 0 or a small step far more often than from the last one of any class,
 * where the other classes' blocks come between (a g++ compile's log 3% smaller, clang++'s 6%,
 * for 2 KiB on each side). */
static inline uint64_t *mt_prev_base(uint64_t *base, unsigned version, uint32_t cls)
{
    return &base[version >= 10 ? cls : 0];
}

/* ---- repeats: the heap records of the chunk so far, as written ---- */

/* A REPEAT reaches this many records back at most (a power of two): the period of a loop's
 * heap events (sqlite3 inserting a row: 6 records; lua5.4 building a table: 5), with room for
 * loops that do more per turn. Both ends keep the last MT_REP_WINDOW of them. */
#define MT_REP_WINDOW 256u
/* Records one REPEAT stands for at most: a reader given a corrupt length stops soon. */
#define MT_REP_LEN_MAX (1u << 20)

/*
 * A heap record as written (log_format.h): its tag and the fields it has, the others 0. a is the
 * zigzag address delta (ALLOC, FREE, REALLOC_RELEASE, REALLOC_FAILED), the back reference
 * (FREE_BACK, REALLOC_RELEASE_BACK) or the reuse depth - 1 (ALLOC_REUSE_AT). The same fields
 * decoded again with the model of their time are the record a REPEAT stands for.
 */
typedef struct mt_rep_rec {
    uint64_t size; /* version 7: the size code (mt_site_size_code) */
    uint64_t a;
    uint64_t node; /* version 7: the node code (mt_site_node_code) */
    uint32_t tag;
} mt_rep_rec_t;

static inline int mt_rep_eq(const mt_rep_rec_t *x, const mt_rep_rec_t *y)
{
    /* one branch: a loop's records differ in any field */
    return ((x->size ^ y->size) | (x->a ^ y->a) | (x->node ^ y->node) | (x->tag ^ y->tag)) == 0;
}

/* True for the tags a REPEAT may stand for (the heap events with fields in S, A, N and B only;
 * FREE_RUN, MMAP and the rest are written as they are). */
static inline int mt_rep_tag(unsigned tag)
{
    return (tag >= 0x10 && tag <= 0x1f) || (tag >= 0x80 && tag <= 0xbf) ||
           (tag >= 0x20 && tag <= 0x24);
}

/* ---- samples: only the fields that changed, as differences ---- */

typedef struct mt_sample {
    uint64_t rss;
    uint64_t arena, ordblks, hblks, hblkhd, uordblks, fordblks, keepcost;
} mt_sample_t;

#define MT_SAMPLE_FIELDS 8
_Static_assert(sizeof(mt_sample_t) == MT_SAMPLE_FIELDS * sizeof(uint64_t), "samples are 8 fields");

static inline void mt_sample_fields(const mt_sample_t *s, uint64_t out[MT_SAMPLE_FIELDS])
{
    memcpy(out, s, sizeof *s);
}

static inline void mt_sample_from_fields(mt_sample_t *s, const uint64_t in[MT_SAMPLE_FIELDS])
{
    memcpy(s, in, sizeof *s);
}

#endif /* MT_LOG_MODEL_H */

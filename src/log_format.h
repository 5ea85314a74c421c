// SPDX-License-Identifier: MIT
// The memtrace log format: constants, record tags and the one encoder both halves share.
// This header is the contract between preload/ (writer) and src/ (reader); docs/log-format.md
// explains it for people. Everything here is allocation-free and safe to call inside a hook.
// Changing a byte layout means bumping MT_LOG_VERSION.
#ifndef MT_LOG_FORMAT_H
#define MT_LOG_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * File layout
 * ===========
 *
 *   +----------------------+  32 bytes, uncompressed, little-endian
 *   | file header          |
 *   +----------------------+
 *   | chunk 0              |  16-byte chunk header + raw deflate stream
 *   +----------------------+
 *   | chunk 1              |
 *   +----------------------+
 *   | ...                  |  a reader stops at the first chunk that is short or whose CRC fails;
 *   +----------------------+  everything before it is intact (crash, SIGKILL, full disk).
 *
 * File header:
 *   0        8        10       12               16                       24       28       32
 *   +--------+--------+--------+----------------+------------------------+--------+--------+
 *   |"MEMTRACE"| version| hdr len|  flags (u32)   | start, CLOCK_REALTIME ns | pid    | 0      |
 *   +--------+--------+--------+----------------+------------------------+--------+--------+
 *
 * Chunk header (version 2: the payload is raw deflate, RFC 1951, without a zlib wrapper):
 *   0            4                8                12               16
 *   +------------+----------------+----------------+----------------+--------------------+
 *   | "MTCK"     | compressed len | raw len        | crc32(raw)     | deflate(raw) ...   |
 *   +------------+----------------+----------------+----------------+--------------------+
 *
 * Raw chunk (version 2): the fields of a chunk's records are split by kind into six streams,
 * so that each stream's bytes look alike and deflate's Huffman codes fit them:
 *
 *   +-----------------------------+------+------+------+------+------+------+
 *   | v len[0] ... v len[5]       | M    | S    | A    | N    | B    | T    |
 *   +-----------------------------+------+------+------+------+------+------+
 *     the six stream lengths        M main: tags and every field not listed below
 *                                   S sizes          ("v size" below)
 *                                   A addresses      ("z da")
 *                                   N trace node ids ("v node")
 *                                   B back references of FREE_BACK ("v back")
 *                                   T time deltas of TIME ("v dt")
 *
 * Records are decoded in the order of their tags in M; each field is taken from the front of
 * its stream. Integers are LEB128 varints ("v"), signed ones zigzag-encoded first ("z"),
 * strings are a varint length and that many bytes ("s"). Every chunk starts from a fresh
 * decoder state: time 0, address base 0, no current thread, no allocations, empty reuse
 * stacks. So a chunk can be decoded on its own, and the writer emits a THREAD record before
 * the first event of each chunk.
 *
 * Times: a TIME record advances the chunk's clock by dt microseconds (the first one of a chunk
 * carries microseconds since the process started recording); every timed record happens at
 * the clock's current value. The writer emits TIME only when the clock moved, so a burst of
 * events in the same microsecond costs no time bytes at all.
 * Addresses ("da") are zigzag deltas from the previous explicit address in the chunk.
 *
 * Allocation model (the writer and the reader keep it identically, per chunk): the chunk's
 * allocations are numbered 0, 1, ... in log order (ALLOC and ALLOC_REUSE, up to
 * MT_CHUNK_ALLOCS_MAX; later ones get no number). A FREE of a block allocated earlier in the
 * same chunk is FREE_BACK: the distance back to that allocation's number (count - 1 - number),
 * about 13 bits for a block that lived for 8000 allocations instead of a 26-bit address delta.
 * Each FREE_BACK of a block whose size class (mt_size_class: (size + 23) / 16, for sizes up to
 * 4072) is known pushes the address on that class's reuse stack (MT_REUSE_DEPTH deep, oldest
 * dropped). An allocation whose address is the top of its class's stack is ALLOC_REUSE and
 * carries no address: the top is popped. Allocators that keep per-size LIFO free lists (glibc's
 * tcache and bins, jemalloc, mimalloc, tcmalloc) hand the last freed block of a size back
 * first, so on churn.c 57% of allocations need no address.
 *
 *   tag  record          fields (stream letter: S, A, N, B, T; others in M)
 *   ---- --------------- -----------------------------------------------------------------
 *   0x01 PROCESS         v pid, v ppid, v page_size, s exe, v argc, argc x s arg
 *   0x02 MODULE_LOAD     v module_id, v bias, s path, s build_id (raw bytes, may be empty),
 *                        v nseg, nseg x (v vaddr, v memsz, v p_flags)   [vaddr is p_vaddr]
 *   0x03 MODULE_UNLOAD   v module_id
 *   0x04 THREAD          v tid                     (events after it belong to this thread)
 *   0x05 TRACE_NODE      v node_id, v parent_id, v ip     (root is node 0; ids start at 1)
 *   0x06 THREAD_NAME     v tid, s name            (thread tid is called name from here on;
 *                                                  written at each thread's first event and
 *                                                  after each rename: docs/log-format.md)
 *   0x07 TIME            T:v dt                    (the clock moved; see above)
 *   0x08 ORIGIN          s run_id, v how (mt_origin), v fork_seq, v flags, s from_log
 *                        how the log began: a program started (from_log ""), a fork of the
 *                        process whose log is from_log, at its FORK record numbered fork_seq
 *                        (flags bit 0: the inherited heap is listed here as ALLOC kind
 *                        INHERITED; else it is the parent's heap at that FORK), or an exec by
 *                        the image whose log is from_log (same pid). After PROCESS and the
 *                        modules, before any event. run_id names the `memtrace run`.
 *   0x09 NEXT_LOG        s path      before EXIT(EXEC): the log the new image will write
 *   0x10+k ALLOC         S:v size, A:z da, N:v node      (k: mt_alloc_kind, 0..15)
 *   0x80+k ALLOC_REUSE   S:v size, N:v node     at the top of size class(size)'s reuse stack
 *   0x20 FREE            A:z da
 *   0x23 FREE_BACK       B:v back               frees allocation number count - 1 - back
 *   0x21 REALLOC_RELEASE A:z da     a realloc(p, n) with p != NULL is about to run: p
 *                                   leaves the heap now. It is followed, from the same
 *                                   thread, by ALLOC(kind REALLOC) on success, by
 *                                   REALLOC_FAILED when p stays valid, or by nothing when
 *                                   realloc freed p (n == 0).
 *   0x22 REALLOC_FAILED  A:z da     p is valid again, with its old size and stack.
 *   0x30 MMAP            S:v size, A:z da, N:v node, v kind (mt_map_kind)
 *   0x31 MUNMAP          S:v size, A:z da      (may cover part of a mapping, or several)
 *   0x40 SAMPLE          v rss, v arena, v ordblks, v hblks, v hblkhd, v uordblks,
 *                        v fordblks, v keepcost          (RSS and mallinfo2, bytes; on the
 *                        timer, before the first free after a new heap high, at exit)
 *   0x50 EXIT            v reason (mt_exit_reason), v status (exit code or signal)
 *   0x51 NOTICE          v code (mt_notice_code), s text   (recording problems)
 *   0x52 FORK            v seq       the process forked here (seq 1, 2, ... in this log): the
 *                                    child's heap is the one replayed up to this record
 *   0x60 LEAK_SCAN       v blocks, v threads_stopped, v threads_missed, v root_bytes
 *                        the leak check ran on the heap as it is at this point of the log;
 *                        LEAK_BLOCK records follow for every block that is not reachable
 *   0x61 LEAK_BLOCK      A:z da, v kind (0 definite, 1 indirect, 2 possible),
 *                        then for definite: v indirect_bytes; for indirect: z leader - addr
 *   0x62 LEAK_SCAN_END   v count (number of LEAK_BLOCK records, a consistency check)
 *                        every block live at LEAK_SCAN and not listed is reachable
 *
 * Every record from 0x10 on is timed (it happens at the chunk clock's value).
 *
 * Version 1 (memtrace before the stream split) carried a dt in every timed record, addresses
 * in every FREE and a zlib-wrapped single stream; this reader refuses it with a message.
 * Tags 0x70-0x7f are Python records (docs/log-format.md, "Python"):
 *   0x70 PY_INTERP       v major, v minor, v flags (bit 0: Python frames recorded),
 *                        v eval_lo, v eval_hi   [absolute text range of the interpreter's
 *                        _PyEval_EvalFrameDefault; 0, 0 when unknown]
 *   0x71 PY_CODE         v code_id, v firstlineno, s qualname, s filename
 *   0x72 PY_LOCATION     v location_id, v code_id, v line
 *                        A TRACE_NODE ip with bit 63 set is a Python frame: the low bits are a
 *                        location id (defined before the node that uses it; ids start at 1).
 *   0x73 PY_SCRIPT_END   v dt    the script finished (first atexit callback to run is ours,
 *                                registered first, so it runs last), before finalization
 *   0x74 PY_ARENA_ALLOC  v dt, v size, z da      a pymalloc arena was mapped
 *   0x75 PY_ARENA_FREE   v dt, v size, z da      and released
 *
 *   PY_INTERP  0x70 | major | minor | flags | eval_lo | eval_hi
 *   PY_CODE    0x71 | code_id | firstlineno | len qualname | bytes | len filename | bytes
 *   PY_LOCATION 0x72 | location_id | code_id | line
 *   PY_SCRIPT_END 0x73 | dt
 *   PY_ARENA_* 0x74/0x75 | dt | size | zigzag(addr - previous event addr)
 */

#define MT_LOG_MAGIC "MEMTRACE"
#define MT_LOG_MAGIC_LEN 8
/* 3: FORK, ORIGIN and NEXT_LOG records (process trees), THREAD_NAME written, the SAMPLE before
 * PY_SCRIPT_END. A version 2 log has none of them and reads the same: both are accepted. */
#define MT_LOG_VERSION 3
#define MT_LOG_MIN_VERSION 2
#define MT_LOG_HEADER_SIZE 32
#define MT_CHUNK_MAGIC 0x4b43544dU /* "MTCK" read as little-endian u32 */
#define MT_CHUNK_HEADER_SIZE 16
#define MT_CHUNK_MAX_RAW (4u << 20) /* a reader refuses larger chunks as corrupt */

enum mt_tag {
    MT_TAG_PROCESS = 0x01,
    MT_TAG_MODULE_LOAD = 0x02,
    MT_TAG_MODULE_UNLOAD = 0x03,
    MT_TAG_THREAD = 0x04,
    MT_TAG_TRACE_NODE = 0x05,
    MT_TAG_THREAD_NAME = 0x06,
    MT_TAG_TIME = 0x07,
    MT_TAG_ORIGIN = 0x08,
    MT_TAG_NEXT_LOG = 0x09,
    MT_TAG_ALLOC = 0x10, /* 0x10..0x1f, low nibble is the mt_alloc_kind */
    MT_TAG_FREE = 0x20,
    MT_TAG_REALLOC_RELEASE = 0x21,
    MT_TAG_REALLOC_FAILED = 0x22,
    MT_TAG_FREE_BACK = 0x23,
    MT_TAG_MMAP = 0x30,
    MT_TAG_MUNMAP = 0x31,
    MT_TAG_SAMPLE = 0x40,
    MT_TAG_EXIT = 0x50,
    MT_TAG_NOTICE = 0x51,
    MT_TAG_FORK = 0x52,
    MT_TAG_LEAK_SCAN = 0x60,
    MT_TAG_LEAK_BLOCK = 0x61,
    MT_TAG_LEAK_SCAN_END = 0x62,
    MT_TAG_PY_INTERP = 0x70,
    MT_TAG_PY_CODE = 0x71,
    MT_TAG_PY_LOCATION = 0x72,
    MT_TAG_PY_SCRIPT_END = 0x73,
    MT_TAG_PY_ARENA_ALLOC = 0x74,
    MT_TAG_PY_ARENA_FREE = 0x75,
    MT_TAG_ALLOC_REUSE = 0x80, /* 0x80..0x8f, low nibble is the mt_alloc_kind */
};

/* A trace-node ip with this bit set is a Python frame; the rest is a PY_LOCATION id. */
#define MT_PY_IP_BIT (1ull << 63)

/* PY_INTERP flags */
#define MT_PY_FRAMES 1u

enum mt_alloc_kind {
    MT_ALLOC_MALLOC = 0,
    MT_ALLOC_CALLOC = 1,
    MT_ALLOC_REALLOC = 2,
    MT_ALLOC_REALLOCARRAY = 3,
    MT_ALLOC_POSIX_MEMALIGN = 4,
    MT_ALLOC_ALIGNED_ALLOC = 5,
    MT_ALLOC_MEMALIGN = 6,
    MT_ALLOC_VALLOC = 7,
    MT_ALLOC_PVALLOC = 8,
    MT_ALLOC_PYMEM = 9,     /* PyMem_Malloc/Calloc/Realloc (Python's MEM domain) */
    MT_ALLOC_PYOBJECT = 10, /* PyObject_Malloc/Calloc/Realloc (OBJ domain, pymalloc) */
    /* Not a call: a block live when a forked child's log began, allocated by its parent
     * before the fork (written at the start of the child's log under --leak-check). */
    MT_ALLOC_INHERITED = 11,
    MT_ALLOC_KIND_COUNT = 12,
};

/* ORIGIN: how a log began. */
enum mt_origin {
    MT_ORIGIN_START = 0, /* a program started (by memtrace run, a shell, posix_spawn, vfork) */
    MT_ORIGIN_FORK = 1,  /* a fork of a recorded process */
    MT_ORIGIN_EXEC = 2,  /* a recorded process replaced its image */
};
/* ORIGIN flags */
#define MT_ORIGIN_HEAP_LISTED 1u /* a fork child's inherited blocks are in this log */

enum mt_map_kind {
    MT_MAP_MMAP = 0,
    MT_MAP_MREMAP = 1,
};

enum mt_exit_reason {
    MT_EXIT_NORMAL = 0, /* exit(), return from main, _exit() seen by the library */
    MT_EXIT_SIGNAL = 1, /* fatal signal caught; status is the signal number */
    MT_EXIT_EXEC = 2,   /* the image was replaced by execve; the new image has its own log */
};

enum mt_notice_code {
    MT_NOTICE_WRITE_FAILED = 1, /* never reaches the file, but reserved for symmetry */
    MT_NOTICE_UNWIND_FAILED = 2,
    MT_NOTICE_OUT_OF_MEMORY = 3, /* recorder could not grow its tables; events were dropped */
    MT_NOTICE_ALLOCATOR = 4,     /* malloc or operator new is another allocator's (text says) */
    MT_NOTICE_EVENTS_LOST = 5,   /* events could not be recorded (text says which and why) */
};

/* ---- little-endian fixed-width helpers (file and chunk headers) ---- */

static inline void mt_put_u16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void mt_put_u32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void mt_put_u64le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t mt_get_u16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t mt_get_u32le(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t mt_get_u64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

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

/* ---- allocation model shared by the encoder and the reader (see the file comment) ---- */

#define MT_STREAMS 6
enum mt_stream {
    MT_STREAM_MAIN = 0,
    MT_STREAM_SIZE = 1,
    MT_STREAM_ADDR = 2,
    MT_STREAM_NODE = 3,
    MT_STREAM_BACK = 4,
    MT_STREAM_TIME = 5,
};

#define MT_CHUNK_ALLOCS_MAX (1u << 17) /* numbered allocations per chunk (FREE_BACK range) */
#define MT_REUSE_CLASSES 256
#define MT_REUSE_DEPTH 4
#define MT_REUSE_NONE MT_REUSE_CLASSES

/* Size class of the reuse stacks: 16-byte steps of the malloc chunk size, like glibc's
 * tcache; MT_REUSE_NONE for sizes that get no stack. */
static inline uint32_t mt_size_class(uint64_t size)
{
    return size <= 4072 ? (uint32_t)((size + 23) >> 4) : MT_REUSE_NONE;
}

typedef struct mt_reuse {
    uint64_t addr[MT_REUSE_CLASSES][MT_REUSE_DEPTH];
    uint8_t top[MT_REUSE_CLASSES]; /* index of the top entry */
    uint8_t n[MT_REUSE_CLASSES];   /* entries held, 0..MT_REUSE_DEPTH */
} mt_reuse_t;

static inline void mt_reuse_reset(mt_reuse_t *r)
{
    memset(r->n, 0, sizeof r->n);
}

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

/* The top of cls's stack, popped; false when empty (reader side). */
static inline int mt_reuse_pop(mt_reuse_t *r, uint32_t cls, uint64_t *addr)
{
    if (cls >= MT_REUSE_CLASSES || !r->n[cls])
        return 0;
    uint8_t t = r->top[cls];
    *addr = r->addr[cls][t];
    r->top[cls] = (uint8_t)((t - 1) & (MT_REUSE_DEPTH - 1));
    r->n[cls]--;
    return 1;
}

/* ---- record encoder ----
 * mt_enc_t is a set of cursors over caller-owned stream buffers plus the per-chunk state. The
 * caller guarantees room: MT_ENC_EVENT_MAX bytes in every stream for any event record, and
 * for variable records (strings, main stream) the size it computes with mt_enc_string_size().
 * No bounds checks on the hot path. The caller may also give the encoder a table of
 * MT_ENC_MAP_SLOTS slots (mt_enc_set_map) to emit FREE_BACK and ALLOC_REUSE; without one every
 * free carries its address (still a valid version 2 log).
 */

#define MT_ENC_EVENT_MAX 64
/* The table holds the chunk's allocations that are still live, at most half full (short
 * probes). 512 KiB stays in the CPU caches, where a table sized for MT_CHUNK_ALLOCS_MAX would
 * miss on every event; a program with more live blocks from one chunk gets FREE by address for
 * the excess, which is only larger. */
#define MT_ENC_MAP_BITS 15
#define MT_ENC_MAP_SLOTS (1u << MT_ENC_MAP_BITS)
#define MT_ENC_MAP_MAX_USED (MT_ENC_MAP_SLOTS / 2)

typedef struct mt_enc_slot {
    uint64_t addr;
    uint32_t num; /* allocation number in the chunk */
    uint16_t cls; /* mt_size_class of the block */
    uint16_t gen; /* slot is in use when gen equals the encoder's */
} mt_enc_slot_t;

typedef struct mt_enc {
    uint8_t *pos;           /* main stream cursor: records other than events write here directly */
    uint8_t *s[MT_STREAMS]; /* cursors of the other streams (s[0] unused: it is pos) */
    uint8_t *base[MT_STREAMS];
    uint64_t last_time_us;
    uint64_t time_step_us; /* TIME only once the clock moved this much (0 or 1: exact times) */
    uint64_t last_addr;
    uint32_t nallocs;   /* allocations numbered in this chunk */
    uint32_t map_used;  /* live slots in map */
    uint16_t gen;       /* generation of the map's live slots (bumped per chunk) */
    mt_enc_slot_t *map; /* NULL: no FREE_BACK / ALLOC_REUSE */
    mt_reuse_t reuse;
    uint8_t hdr[MT_STREAMS * MT_VARINT_MAX];
} mt_enc_t;

/* Resets the per-chunk state: call at the start of every chunk. Stream k's buffer starts at
 * buf + k * stride. */
static inline void mt_enc_reset(mt_enc_t *e, uint8_t *buf, size_t stride)
{
    for (int k = 0; k < MT_STREAMS; k++)
        e->base[k] = e->s[k] = buf + (size_t)k * stride;
    e->pos = buf;
    e->last_time_us = 0;
    e->last_addr = 0;
    e->nallocs = 0;
    e->map_used = 0;
    mt_reuse_reset(&e->reuse);
    if (e->map && ++e->gen == 0) { /* wrapped: old generations could match again */
        memset(e->map, 0, MT_ENC_MAP_SLOTS * sizeof(mt_enc_slot_t));
        e->gen = 1;
    }
}

/* map: MT_ENC_MAP_SLOTS zeroed slots, or NULL. Call before the first mt_enc_reset. */
static inline void mt_enc_set_map(mt_enc_t *e, mt_enc_slot_t *map)
{
    e->map = map;
    e->gen = 0;
}

/* Bytes encoded in the chunk so far, all streams. */
static inline size_t mt_enc_len(const mt_enc_t *e)
{
    size_t n = (size_t)(e->pos - e->base[0]);
    for (int k = 1; k < MT_STREAMS; k++)
        n += (size_t)(e->s[k] - e->base[k]);
    return n;
}

/* True when the chunk should end: no more allocations can be numbered. */
static inline int mt_enc_full(const mt_enc_t *e)
{
    return e->nallocs >= MT_CHUNK_ALLOCS_MAX;
}

static inline size_t mt_enc_stream_len(const mt_enc_t *e, int k)
{
    return (size_t)((k == 0 ? e->pos : e->s[k]) - e->base[k]);
}

/* Writes the raw chunk's stream-length prefix into e->hdr; returns its length. The raw chunk
 * is e->hdr followed by the streams 0..5 (mt_enc_stream_len bytes from e->base[k]). */
static inline size_t mt_enc_finish(mt_enc_t *e)
{
    size_t n = 0;
    for (int k = 0; k < MT_STREAMS; k++)
        n += mt_varint_put(e->hdr + n, mt_enc_stream_len(e, k));
    return n;
}

/* Copies the whole raw chunk (length prefix, then the streams) to out, which has room for
 * mt_enc_len(e) + sizeof e->hdr bytes; returns its length. For tools and tests: the recorder
 * deflates the streams in place instead. */
static inline size_t mt_enc_copy_raw(mt_enc_t *e, uint8_t *out)
{
    size_t n = mt_enc_finish(e);
    memcpy(out, e->hdr, n);
    for (int k = 0; k < MT_STREAMS; k++) {
        size_t len = mt_enc_stream_len(e, k);
        memcpy(out + n, e->base[k], len);
        n += len;
    }
    return n;
}

static inline void mt_enc_u8(mt_enc_t *e, uint8_t v)
{
    *e->pos++ = v;
}

static inline void mt_enc_v(mt_enc_t *e, uint64_t v)
{
    e->pos += mt_varint_put(e->pos, v);
}

static inline void mt_enc_sv(mt_enc_t *e, int k, uint64_t v)
{
    e->s[k] += mt_varint_put(e->s[k], v);
}

/* Sets the time of the record about to be written: call it BEFORE the record's tag, since it
 * may write a TIME record of its own into the main stream. */
static inline void mt_enc_time(mt_enc_t *e, uint64_t now_us)
{
    /* Clocks are per-thread reads taken before the lock, so a later record can carry an
     * earlier time by a few microseconds: it keeps the chunk's clock (times never go back). */
    if (now_us > e->last_time_us && now_us - e->last_time_us >= e->time_step_us) {
        mt_enc_u8(e, MT_TAG_TIME);
        mt_enc_sv(e, MT_STREAM_TIME, now_us - e->last_time_us);
        e->last_time_us = now_us;
    }
}

static inline void mt_enc_addr(mt_enc_t *e, uint64_t addr)
{
    mt_enc_sv(e, MT_STREAM_ADDR, mt_zigzag((int64_t)(addr - e->last_addr)));
    e->last_addr = addr;
}

static inline size_t mt_enc_string_size(size_t len)
{
    return MT_VARINT_MAX + len;
}

static inline void mt_enc_string(mt_enc_t *e, const void *s, size_t len)
{
    mt_enc_v(e, len);
    memcpy(e->pos, s, len);
    e->pos += len;
}

static inline void mt_enc_thread(mt_enc_t *e, uint64_t tid)
{
    mt_enc_u8(e, MT_TAG_THREAD);
    mt_enc_v(e, tid);
}

/* Names longer than this are cut (Python lets a thread be called anything; the kernel's own
 * names are at most 15 bytes). Room: mt_enc_thread_name_size(). */
#define MT_THREAD_NAME_MAX 256u

static inline size_t mt_enc_thread_name_size(size_t len)
{
    return 1 + MT_VARINT_MAX +
           mt_enc_string_size(len < MT_THREAD_NAME_MAX ? len : MT_THREAD_NAME_MAX);
}

static inline void mt_enc_thread_name(mt_enc_t *e, uint64_t tid, const char *name, size_t len)
{
    mt_enc_u8(e, MT_TAG_THREAD_NAME);
    mt_enc_v(e, tid);
    mt_enc_string(e, name, len < MT_THREAD_NAME_MAX ? len : MT_THREAD_NAME_MAX);
}

static inline void mt_enc_trace_node(mt_enc_t *e, uint32_t id, uint32_t parent, uint64_t ip)
{
    mt_enc_u8(e, MT_TAG_TRACE_NODE);
    mt_enc_v(e, id);
    mt_enc_v(e, parent);
    mt_enc_v(e, ip);
}

static inline size_t mt_enc_map_home(uint64_t addr)
{
    return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> (64 - MT_ENC_MAP_BITS));
}

/* Numbers the allocation at addr and remembers it when the table has room (an older entry for
 * addr, whose free was never seen, is replaced). */
static inline void mt_enc_map_put(mt_enc_t *e, uint64_t addr, uint32_t cls)
{
    if (e->nallocs >= MT_CHUNK_ALLOCS_MAX)
        return;
    uint32_t num = e->nallocs++;
    if (!e->map)
        return;
    size_t i = mt_enc_map_home(addr);
    while (e->map[i].gen == e->gen && e->map[i].addr != addr)
        i = (i + 1) & (MT_ENC_MAP_SLOTS - 1);
    if (e->map[i].gen != e->gen) {
        if (e->map_used >= MT_ENC_MAP_MAX_USED)
            return;
        e->map_used++;
    }
    e->map[i] = (mt_enc_slot_t){addr, num, (uint16_t)cls, e->gen};
}

/* Finds and removes addr (linear probing with backward-shift deletion); 0 when absent. */
static inline int mt_enc_map_take(mt_enc_t *e, uint64_t addr, mt_enc_slot_t *out)
{
    if (!e->map)
        return 0;
    const size_t mask = MT_ENC_MAP_SLOTS - 1;
    size_t i = mt_enc_map_home(addr);
    for (;; i = (i + 1) & mask) {
        if (e->map[i].gen != e->gen)
            return 0;
        if (e->map[i].addr == addr)
            break;
    }
    *out = e->map[i];
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        if (e->map[j].gen != e->gen)
            break;
        size_t h = mt_enc_map_home(e->map[j].addr);
        /* j's entry may move to the hole at i unless its home lies cyclically in (i, j] */
        if (((j - h) & mask) >= ((j - i) & mask)) {
            e->map[i] = e->map[j];
            i = j;
        }
    }
    e->map[i].gen = (uint16_t)(e->gen - 1);
    e->map_used--;
    return 1;
}

static inline void mt_enc_alloc(mt_enc_t *e, enum mt_alloc_kind kind, uint64_t now_us,
                                uint64_t size, uint64_t addr, uint32_t node)
{
    mt_enc_time(e, now_us);
    uint32_t cls = mt_size_class(size);
    mt_reuse_t *r = &e->reuse;
    if (cls < MT_REUSE_CLASSES && r->n[cls] && r->addr[cls][r->top[cls]] == addr) {
        uint64_t top;
        (void)mt_reuse_pop(r, cls, &top);
        mt_enc_u8(e, (uint8_t)(MT_TAG_ALLOC_REUSE | kind));
        mt_enc_sv(e, MT_STREAM_SIZE, size);
    } else {
        mt_enc_u8(e, (uint8_t)(MT_TAG_ALLOC | kind));
        mt_enc_sv(e, MT_STREAM_SIZE, size);
        mt_enc_addr(e, addr);
    }
    mt_enc_sv(e, MT_STREAM_NODE, node);
    mt_enc_map_put(e, addr, cls);
}

/* tag is MT_TAG_FREE, MT_TAG_REALLOC_RELEASE or MT_TAG_REALLOC_FAILED */
static inline void mt_enc_free(mt_enc_t *e, enum mt_tag tag, uint64_t now_us, uint64_t addr)
{
    mt_enc_time(e, now_us);
    mt_enc_slot_t s;
    if (tag == MT_TAG_FREE && mt_enc_map_take(e, addr, &s)) {
        mt_enc_u8(e, MT_TAG_FREE_BACK);
        mt_enc_sv(e, MT_STREAM_BACK, e->nallocs - 1 - s.num);
        mt_reuse_push(&e->reuse, s.cls, addr);
        return;
    }
    /* A released block leaves the table: its address comes back only through a new ALLOC
     * (which numbers it again), and a stale entry would only take a slot. */
    if (tag == MT_TAG_REALLOC_RELEASE)
        (void)mt_enc_map_take(e, addr, &s);
    mt_enc_u8(e, (uint8_t)tag);
    mt_enc_addr(e, addr);
}

static inline void mt_enc_mmap(mt_enc_t *e, uint64_t now_us, uint64_t size, uint64_t addr,
                               uint32_t node, enum mt_map_kind kind)
{
    mt_enc_time(e, now_us);
    mt_enc_u8(e, MT_TAG_MMAP);
    mt_enc_sv(e, MT_STREAM_SIZE, size);
    mt_enc_addr(e, addr);
    mt_enc_sv(e, MT_STREAM_NODE, node);
    mt_enc_v(e, kind);
}

static inline void mt_enc_munmap(mt_enc_t *e, uint64_t now_us, uint64_t size, uint64_t addr)
{
    mt_enc_time(e, now_us);
    mt_enc_u8(e, MT_TAG_MUNMAP);
    mt_enc_sv(e, MT_STREAM_SIZE, size);
    mt_enc_addr(e, addr);
}

typedef struct mt_sample {
    uint64_t rss;
    uint64_t arena, ordblks, hblks, hblkhd, uordblks, fordblks, keepcost;
} mt_sample_t;

static inline void mt_enc_sample(mt_enc_t *e, uint64_t now_us, const mt_sample_t *s)
{
    mt_enc_time(e, now_us);
    mt_enc_u8(e, MT_TAG_SAMPLE);
    mt_enc_v(e, s->rss);
    mt_enc_v(e, s->arena);
    mt_enc_v(e, s->ordblks);
    mt_enc_v(e, s->hblks);
    mt_enc_v(e, s->hblkhd);
    mt_enc_v(e, s->uordblks);
    mt_enc_v(e, s->fordblks);
    mt_enc_v(e, s->keepcost);
}

static inline void mt_enc_exit(mt_enc_t *e, uint64_t now_us, enum mt_exit_reason reason,
                               uint64_t status)
{
    mt_enc_time(e, now_us);
    mt_enc_u8(e, MT_TAG_EXIT);
    mt_enc_v(e, reason);
    mt_enc_v(e, status);
}

/* Room: 4 * MT_VARINT_MAX + 1 + both mt_enc_string_size(). */
static inline void mt_enc_origin(mt_enc_t *e, const char *run_id, size_t run_len,
                                 enum mt_origin how, uint64_t fork_seq, unsigned flags,
                                 const char *from, size_t from_len)
{
    mt_enc_u8(e, MT_TAG_ORIGIN);
    mt_enc_string(e, run_id, run_len);
    mt_enc_v(e, how);
    mt_enc_v(e, fork_seq);
    mt_enc_v(e, flags);
    mt_enc_string(e, from, from_len);
}

/* Room: 1 + mt_enc_string_size(len). */
static inline void mt_enc_next_log(mt_enc_t *e, const char *path, size_t len)
{
    mt_enc_u8(e, MT_TAG_NEXT_LOG);
    mt_enc_string(e, path, len);
}

static inline void mt_enc_fork(mt_enc_t *e, uint64_t now_us, uint64_t seq)
{
    mt_enc_time(e, now_us);
    mt_enc_u8(e, MT_TAG_FORK);
    mt_enc_v(e, seq);
}

/* NOTICE's fields after the tag are v code, s text (compose with mt_enc_v/mt_enc_string). */
static inline void mt_enc_notice_begin(mt_enc_t *e, uint64_t now_us)
{
    mt_enc_time(e, now_us);
    mt_enc_u8(e, MT_TAG_NOTICE);
}

static inline void mt_enc_module_unload(mt_enc_t *e, uint32_t module_id)
{
    mt_enc_u8(e, MT_TAG_MODULE_UNLOAD);
    mt_enc_v(e, module_id);
}

static inline void mt_enc_leak_scan(mt_enc_t *e, uint64_t now_us, uint64_t blocks,
                                    uint64_t threads_stopped, uint64_t threads_missed,
                                    uint64_t root_bytes)
{
    mt_enc_time(e, now_us);
    mt_enc_u8(e, MT_TAG_LEAK_SCAN);
    mt_enc_v(e, blocks);
    mt_enc_v(e, threads_stopped);
    mt_enc_v(e, threads_missed);
    mt_enc_v(e, root_bytes);
}

/* kind: 0 definite (extra = indirect bytes), 1 indirect (extra = leader address),
 * 2 possible (extra unused). */
static inline void mt_enc_leak_block(mt_enc_t *e, uint64_t addr, unsigned kind, uint64_t extra)
{
    mt_enc_u8(e, MT_TAG_LEAK_BLOCK);
    mt_enc_addr(e, addr);
    mt_enc_v(e, kind);
    if (kind == 0)
        mt_enc_v(e, extra);
    else if (kind == 1)
        mt_enc_v(e, mt_zigzag((int64_t)(extra - addr)));
}

static inline void mt_enc_leak_scan_end(mt_enc_t *e, uint64_t count)
{
    mt_enc_u8(e, MT_TAG_LEAK_SCAN_END);
    mt_enc_v(e, count);
}

/* ---- Python records (see the table at the top) ---- */

static inline void mt_enc_py_interp(mt_enc_t *e, unsigned major, unsigned minor, unsigned flags,
                                    uint64_t eval_lo, uint64_t eval_hi)
{
    mt_enc_u8(e, MT_TAG_PY_INTERP);
    mt_enc_v(e, major);
    mt_enc_v(e, minor);
    mt_enc_v(e, flags);
    mt_enc_v(e, eval_lo);
    mt_enc_v(e, eval_hi);
}

/* Room: 2 * MT_VARINT_MAX + 1 + both mt_enc_string_size(). */
static inline void mt_enc_py_code(mt_enc_t *e, uint32_t id, uint32_t firstlineno,
                                  const char *qualname, size_t qlen, const char *file, size_t flen)
{
    mt_enc_u8(e, MT_TAG_PY_CODE);
    mt_enc_v(e, id);
    mt_enc_v(e, firstlineno);
    mt_enc_string(e, qualname, qlen);
    mt_enc_string(e, file, flen);
}

static inline void mt_enc_py_location(mt_enc_t *e, uint32_t id, uint32_t code_id, uint32_t line)
{
    mt_enc_u8(e, MT_TAG_PY_LOCATION);
    mt_enc_v(e, id);
    mt_enc_v(e, code_id);
    mt_enc_v(e, line);
}

static inline void mt_enc_py_script_end(mt_enc_t *e, uint64_t now_us)
{
    mt_enc_time(e, now_us);
    mt_enc_u8(e, MT_TAG_PY_SCRIPT_END);
}

/* tag is MT_TAG_PY_ARENA_ALLOC or MT_TAG_PY_ARENA_FREE */
static inline void mt_enc_py_arena(mt_enc_t *e, enum mt_tag tag, uint64_t now_us, uint64_t size,
                                   uint64_t addr)
{
    mt_enc_time(e, now_us);
    mt_enc_u8(e, (uint8_t)tag);
    mt_enc_sv(e, MT_STREAM_SIZE, size);
    mt_enc_addr(e, addr);
}

/* Writes the 32-byte file header. */
static inline void mt_log_header_put(uint8_t out[MT_LOG_HEADER_SIZE], uint64_t start_realtime_ns,
                                     uint32_t pid)
{
    memset(out, 0, MT_LOG_HEADER_SIZE);
    memcpy(out, MT_LOG_MAGIC, MT_LOG_MAGIC_LEN);
    mt_put_u16le(out + 8, MT_LOG_VERSION);
    mt_put_u16le(out + 10, MT_LOG_HEADER_SIZE);
    mt_put_u32le(out + 12, 0);
    mt_put_u64le(out + 16, start_realtime_ns);
    mt_put_u32le(out + 24, pid);
}

/* Writes a 16-byte chunk header. */
static inline void mt_chunk_header_put(uint8_t out[MT_CHUNK_HEADER_SIZE], uint32_t compressed,
                                       uint32_t raw, uint32_t crc)
{
    mt_put_u32le(out, MT_CHUNK_MAGIC);
    mt_put_u32le(out + 4, compressed);
    mt_put_u32le(out + 8, raw);
    mt_put_u32le(out + 12, crc);
}

#endif /* MT_LOG_FORMAT_H */

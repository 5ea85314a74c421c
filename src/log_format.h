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
 *   | chunk 0              |  16-byte chunk header + zlib stream
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
 * Chunk header:
 *   0            4                8                12               16
 *   +------------+----------------+----------------+----------------+--------------------+
 *   | "MTCK"     | compressed len | raw len        | crc32(raw)     | zlib(raw) ...      |
 *   +------------+----------------+----------------+----------------+--------------------+
 *
 * The raw bytes of a chunk are a sequence of records, each a one-byte tag followed by fields.
 * Integers are LEB128 varints ("v"), signed ones zigzag-encoded first ("z"), strings are a
 * varint length and that many bytes ("s"). Every chunk starts from a fresh decoder state:
 * time base 0, address base 0, no current thread. So a chunk can be decoded on its own, and the
 * writer emits a THREAD record before the first event of each chunk.
 *
 * Times ("dt") are microseconds since the previous timed record in the chunk (the first timed
 * record of a chunk therefore carries microseconds since the process started recording).
 * Addresses in events ("da") are zigzag deltas from the previous event address in the chunk.
 *
 *   tag  record          fields
 *   ---- --------------- -----------------------------------------------------------------
 *   0x01 PROCESS         v pid, v ppid, v page_size, s exe, v argc, argc x s arg
 *   0x02 MODULE_LOAD     v module_id, v bias, s path, s build_id (raw bytes, may be empty),
 *                        v nseg, nseg x (v vaddr, v memsz, v p_flags)   [vaddr is p_vaddr]
 *   0x03 MODULE_UNLOAD   v module_id
 *   0x04 THREAD          v tid                     (events after it belong to this thread)
 *   0x05 TRACE_NODE      v node_id, v parent_id, v ip     (root is node 0; ids start at 1)
 *   0x06 THREAD_NAME     v tid, s name
 *   0x10+k ALLOC         v dt, v size, z da, v node_id    (k: mt_alloc_kind, 0..15)
 *   0x20 FREE            v dt, z da
 *   0x21 REALLOC_RELEASE v dt, z da     a realloc(p, n) with p != NULL is about to run: p
 *                                       leaves the heap now. It is followed, from the same
 *                                       thread, by ALLOC(kind REALLOC) on success, by
 *                                       REALLOC_FAILED when p stays valid, or by nothing when
 *                                       realloc freed p (n == 0).
 *   0x22 REALLOC_FAILED  v dt, z da     p is valid again, with its old size and stack.
 *   0x30 MMAP            v dt, v size, z da, v node_id, v kind (mt_map_kind)
 *   0x31 MUNMAP          v dt, v size, z da      (may cover part of a mapping, or several)
 *   0x40 SAMPLE          v dt, v rss, v arena, v ordblks, v hblks, v hblkhd, v uordblks,
 *                        v fordblks, v keepcost          (RSS and mallinfo2, bytes)
 *   0x50 EXIT            v dt, v reason (mt_exit_reason), v status (exit code or signal)
 *   0x51 NOTICE          v dt, v code (mt_notice_code), s text   (recording problems)
 *   0x60 LEAK_SCAN       v dt, v blocks, v threads_stopped, v threads_missed, v root_bytes
 *                        the leak check ran on the heap as it is at this point of the log;
 *                        LEAK_BLOCK records follow for every block that is not reachable
 *   0x61 LEAK_BLOCK      z da, v kind (0 definite, 1 indirect, 2 possible),
 *                        then for definite: v indirect_bytes; for indirect: z leader - addr
 *   0x62 LEAK_SCAN_END   v count (number of LEAK_BLOCK records, a consistency check)
 *                        every block live at LEAK_SCAN and not listed is reachable
 *
 * Tags 0x70-0x7f are reserved for Python frames.
 */

#define MT_LOG_MAGIC "MEMTRACE"
#define MT_LOG_MAGIC_LEN 8
#define MT_LOG_VERSION 1
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
    MT_TAG_ALLOC = 0x10, /* 0x10..0x1f, low nibble is the mt_alloc_kind */
    MT_TAG_FREE = 0x20,
    MT_TAG_REALLOC_RELEASE = 0x21,
    MT_TAG_REALLOC_FAILED = 0x22,
    MT_TAG_MMAP = 0x30,
    MT_TAG_MUNMAP = 0x31,
    MT_TAG_SAMPLE = 0x40,
    MT_TAG_EXIT = 0x50,
    MT_TAG_NOTICE = 0x51,
    MT_TAG_LEAK_SCAN = 0x60,
    MT_TAG_LEAK_BLOCK = 0x61,
    MT_TAG_LEAK_SCAN_END = 0x62,
};

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
    MT_ALLOC_KIND_COUNT = 9,
};

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

/* ---- record encoder ----
 * mt_enc_t is a cursor over a caller-owned buffer plus the per-chunk delta state. The caller
 * guarantees room: MT_ENC_EVENT_MAX bytes for any event record, and for variable records
 * (strings) the size it computes with mt_enc_string_size(). No bounds checks on the hot path.
 */

#define MT_ENC_EVENT_MAX 64

typedef struct mt_enc {
    uint8_t *pos;
    uint64_t last_time_us;
    uint64_t last_addr;
} mt_enc_t;

/* Resets the delta state: call at the start of every chunk. */
static inline void mt_enc_reset(mt_enc_t *e, uint8_t *buf)
{
    e->pos = buf;
    e->last_time_us = 0;
    e->last_addr = 0;
}

static inline void mt_enc_u8(mt_enc_t *e, uint8_t v)
{
    *e->pos++ = v;
}

static inline void mt_enc_v(mt_enc_t *e, uint64_t v)
{
    e->pos += mt_varint_put(e->pos, v);
}

static inline void mt_enc_time(mt_enc_t *e, uint64_t now_us)
{
    /* Clocks are per-thread reads of CLOCK_MONOTONIC taken before the lock, so a later record
     * can carry an earlier time by a few microseconds; clamp so deltas stay unsigned. */
    uint64_t dt = now_us > e->last_time_us ? now_us - e->last_time_us : 0;
    e->last_time_us += dt;
    mt_enc_v(e, dt);
}

static inline void mt_enc_addr(mt_enc_t *e, uint64_t addr)
{
    mt_enc_v(e, mt_zigzag((int64_t)(addr - e->last_addr)));
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

static inline void mt_enc_trace_node(mt_enc_t *e, uint32_t id, uint32_t parent, uint64_t ip)
{
    mt_enc_u8(e, MT_TAG_TRACE_NODE);
    mt_enc_v(e, id);
    mt_enc_v(e, parent);
    mt_enc_v(e, ip);
}

static inline void mt_enc_alloc(mt_enc_t *e, enum mt_alloc_kind kind, uint64_t now_us,
                                uint64_t size, uint64_t addr, uint32_t node)
{
    mt_enc_u8(e, (uint8_t)(MT_TAG_ALLOC | kind));
    mt_enc_time(e, now_us);
    mt_enc_v(e, size);
    mt_enc_addr(e, addr);
    mt_enc_v(e, node);
}

/* tag is MT_TAG_FREE, MT_TAG_REALLOC_RELEASE or MT_TAG_REALLOC_FAILED */
static inline void mt_enc_free(mt_enc_t *e, enum mt_tag tag, uint64_t now_us, uint64_t addr)
{
    mt_enc_u8(e, (uint8_t)tag);
    mt_enc_time(e, now_us);
    mt_enc_addr(e, addr);
}

static inline void mt_enc_mmap(mt_enc_t *e, uint64_t now_us, uint64_t size, uint64_t addr,
                               uint32_t node, enum mt_map_kind kind)
{
    mt_enc_u8(e, MT_TAG_MMAP);
    mt_enc_time(e, now_us);
    mt_enc_v(e, size);
    mt_enc_addr(e, addr);
    mt_enc_v(e, node);
    mt_enc_v(e, kind);
}

static inline void mt_enc_munmap(mt_enc_t *e, uint64_t now_us, uint64_t size, uint64_t addr)
{
    mt_enc_u8(e, MT_TAG_MUNMAP);
    mt_enc_time(e, now_us);
    mt_enc_v(e, size);
    mt_enc_addr(e, addr);
}

typedef struct mt_sample {
    uint64_t rss;
    uint64_t arena, ordblks, hblks, hblkhd, uordblks, fordblks, keepcost;
} mt_sample_t;

static inline void mt_enc_sample(mt_enc_t *e, uint64_t now_us, const mt_sample_t *s)
{
    mt_enc_u8(e, MT_TAG_SAMPLE);
    mt_enc_time(e, now_us);
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
    mt_enc_u8(e, MT_TAG_EXIT);
    mt_enc_time(e, now_us);
    mt_enc_v(e, reason);
    mt_enc_v(e, status);
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
    mt_enc_u8(e, MT_TAG_LEAK_SCAN);
    mt_enc_time(e, now_us);
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

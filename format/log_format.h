// SPDX-License-Identifier: MIT
// The memtrace log format: constants, record tags and the one encoder both halves share.
// This header is the contract between preload/ (writer) and src/ (reader); docs/log-format.md
// explains it for people. Everything here is allocation-free and safe to call inside a hook.
// Changing a byte layout means bumping MT_LOG_VERSION.
#ifndef MT_LOG_FORMAT_H
#define MT_LOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log_model.h"

/*
 * File layout (version 10)
 * ========================
 *
 *   +----------------------+  32 bytes, uncompressed, little-endian
 *   | file header          |
 *   +----------------------+
 *   | chunk 0              |  16-byte chunk header + zstd blocks (or raw deflate)
 *   +----------------------+
 *   | chunk 1              |
 *   +----------------------+
 *   | ...                  |  a reader stops at the first chunk that is short or whose CRC fails;
 *   +----------------------+  everything before it is intact (crash, SIGKILL, full disk).
 *
 * File header:
 *   0          8        10       12         16                         24     28          32
 *   +----------+--------+--------+----------+--------------------------+------+-----------+
 *   |"MEMTRACE"| version| hdr len| flags    | start, CLOCK_REALTIME ns | pid  | time unit |
 *   +----------+--------+--------+----------+--------------------------+------+-----------+
 *   time unit: microseconds per tick of the record clock (the recorder's is 1000: 1 ms)
 *
 * Chunk header; the magic says how the payload is compressed:
 *   0            4                8                12               16
 *   +------------+----------------+----------------+----------------+--------------------+
 *   | magic      | compressed len | raw len        | crc32(raw)     | payload ...        |
 *   +------------+----------------+----------------+----------------+--------------------+
 *   "MTCK": raw deflate (RFC 1951, no zlib wrapper) of the raw chunk alone;
 *   "MTZF": version 8: a zstd frame begins (its header, then blocks); "MTZC": version 8: more
 *   blocks of the frame of the chunks before. A zstd chunk's blocks end at the end of each of
 *   its streams (a flush): the chunk decodes after the ones before it, whole, and a frame
 *   reaches megabytes back, where deflate's window is 32 KiB (docs/log-format.md, Chunks).
 *
 * Raw chunk: the fields of a chunk's records are split by kind into nine streams, so that each
 * stream's bytes look alike and deflate's matches and Huffman codes fit them:
 *
 *   +----------------------+---+---+---+---+---+---+---+---+---+
 *   | v len[0] ... len[8]  | M | S | A | N | B | T | P | I | R |
 *   +----------------------+---+---+---+---+---+---+---+---+---+
 *     M main: tags and every field not listed below      B back references, reuse depths
 *     S sizes                                            T the clock (see Time)
 *     A explicit addresses (zigzag deltas)               P trace node parents
 *     N trace node ids of events                         I trace node ips
 *     R address gaps of FREE_RUN, ALLOC_PREV's numbers
 *
 * Records are decoded in the order of their tags in M; each field is taken from the front of
 * its stream. Integers are LEB128 varints ("v"), signed ones zigzag-encoded first ("z"),
 * strings are a varint length and that many bytes ("s").
 *
 * State runs through the whole file (version 2 restarted it in every chunk): the clock, the
 * current thread, the explicit-address base, the allocation numbers, the reuse stacks and the
 * trace-node model all carry over chunk boundaries, so a chunk is decoded after the ones before
 * it. A reader still stops cleanly at the first bad chunk: what came before is complete.
 *
 * Time: the clock counts ticks of the header's time unit. Records from tag 0x10 on are timed
 * (except 0x61, 0x62 and 0x70-0x72). T holds pairs (v n, v dt): "the next n timed records
 * happen at the current clock, then it advances by dt ticks". A reader takes the next pair
 * when the current one is used up (n may be 0: a pure advance). Every chunk closes its last
 * period with (n, 0), so T and the clock stay in step across chunk boundaries.
 *
 * Addresses ("da"): zigzag deltas in A from the previous explicit address of the file.
 *
 * Allocation model (encoder and reader keep it identically):
 *  - allocations (every ALLOC variant) are numbered 0, 1, 2, ... from the start of the file;
 *    a free of one of the last MT_BACK_WINDOW allocations may say "back": the distance
 *    (count - 1 - number). Its address and size class are known to the reader.
 *  - every free by back reference pushes the block on the reuse stack of its size class
 *    (mt_size_class), MT_REUSE_DEPTH deep. An allocation whose address is on its class's stack
 *    is ALLOC_REUSE (the top) or ALLOC_REUSE_AT (deeper), and carries no address: per-size LIFO
 *    free lists (glibc's tcache and bins, jemalloc, mimalloc) hand recent blocks back first.
 *  - the next address: after an allocation with an explicit or predicted-next address of under
 *    MT_NEXT_MAX_SIZE bytes, next = address + mt_chunk_span(size). An allocation at next is
 *    ALLOC_NEXT: the block carved right after the previous one (glibc's top chunk and its last
 *    remainder). Reuse allocations leave next alone.
 *  - version 9: an allocation at the address of one of the last MT_BACK_WINDOW allocations may
 *    be ALLOC_PREV: that allocation's number, as z (number - (p + 1)) in R, p the number the
 *    previous ALLOC_PREV named (0 before the first); version 10: the previous ALLOC_PREV of
 *    the same size class (mt_size_class of the new allocation's size; all sizes over 4072 are
 *    one class), mt_prev_base. Otherwise an ALLOC (next follows it; the explicit-address base
 *    stays): glibc's bins hand back blocks that fell off the reuse stacks, in the order they
 *    were freed, often in the order they were allocated, class by class.
 *  The model is only a prediction: when it misses, the event carries its address.
 *
 *   tag   record               fields (stream letter; others in M)
 *   ----- -------------------- ---------------------------------------------------------------
 *   0x01  PROCESS              v pid, v ppid, v page_size, s exe, v argc, argc x s arg
 *   0x02  MODULE_LOAD          v module_id, v bias, s path, s build_id (raw bytes, may be
 *                              empty), v nseg, nseg x (v vaddr, v memsz, v p_flags)
 *   0x03  MODULE_UNLOAD        v module_id
 *   0x04  THREAD               v tid                   (events after it belong to this thread)
 *   0x05  TRACE_NODE           P:z (id - parent), I:v ipcode      id = previous node id + 1
 *   0x0a  TRACE_NODE_AT        v id, P:z (id - parent), I:v ipcode   (any id; the next is id+1)
 *   0x0b  TRACE_NODE_IP        v id, v ip, P:z (id - parent)   (an ip no ipcode can say)
 *                              ipcode: 0, 1 = the prediction (log_model.h), else 2 + zigzag(ip -
 *                              context). The root is node 0; ids start at 1.
 *   0x06  THREAD_NAME          v tid, s name     (thread tid is called name from here on;
 *                                                 written at each thread's first event and
 *                                                 after each rename: docs/log-format.md)
 *   0x08  ORIGIN               s run_id, v how (mt_origin), v fork_seq, v flags, s from_log
 *                              how the log began: a program started (from_log ""), a fork of
 *                              the process whose log is from_log, at its FORK record numbered
 *                              fork_seq (flags bit 0: the inherited heap is listed here as
 *                              ALLOC kind INHERITED; else it is the parent's heap at that
 *                              FORK), or an exec by the image whose log is from_log (same pid).
 *                              After PROCESS and the modules, before any event. run_id names
 *                              the `memtrace run`.
 *   0x09  NEXT_LOG             s path      before EXIT(EXEC): the log the new image will write
 *   0x10+k ALLOC               S:v size, A:z da, N:v node      (k: mt_alloc_kind, 0..15)
 *   0x80+k ALLOC_REUSE         S:v size, N:v node      address: top of class(size)'s stack
 *   0x90+k ALLOC_NEXT          S:v size, N:v node      address: next (above)
 *   0xa0+k ALLOC_REUSE_AT      S:v size, B:v depth-1, N:v node   address: at depth 1..15
 *   0xb0+k ALLOC_PREV          S:v size, R:z number - (p + 1), N:v node   address: that of
 *                              allocation number (version 9; p per size class: version 10)
 *                              Version 7: size and node are codes of the site model
 *                              (log_model.h), decoded node first: node code 0 or 1 = the first
 *                              or second node that followed the previous allocation's node,
 *                              else node + 2; size code 0 = the size the node allocated last,
 *                              else size + 1. Both ends then learn the pair (mt_site_learn).
 *   0x20  FREE                 A:z da
 *   0x23  FREE_BACK            B:v back
 *   0x25  FREE_RUN             v nb, v (na << 1 | a16); B: nb back references in increasing
 *                              order (the first v back, then v (back - previous - 1)); R: na
 *                              addresses in increasing order (the first z da, then v gap,
 *                              gap = addr - previous, shifted right by 4 when a16 = 1: every
 *                              address of the run is a multiple of 16). nb + na frees of one
 *                              thread at one time, in this order. The recorder holds a run of
 *                              frees with nothing between them but SAMPLEs and writes the
 *                              first one on its own (its order matters: temporary
 *                              allocations), the others sorted, which makes them far smaller
 *                              (mass frees at exit); a run keeps the time of its first free,
 *                              and a SAMPLE taken during it comes after it.
 *
 *                              M: 25 | v nb | v na<<1|a16      B: v back0 | v d1 | v d2 ...
 *                              R: z (addr0 - last address) | v gap1>>4*a16 | v gap2 ...
 *   0x27  REPEAT               v dist, v len      the chunk's heap records (ALLOC forms, 0x20 to
 *                              0x24) dist back, written again len times in turn: each the same
 *                              tag and fields as the record dist before it, decoded with the
 *                              model of its own time (repeats, below). Version 6.
 *   0x21  REALLOC_RELEASE      A:z da    a realloc(p, n) with p != NULL is about to run: p
 *   0x24  REALLOC_RELEASE_BACK B:v back  leaves the heap now. Followed, from the same thread,
 *                                        by ALLOC(kind REALLOC) on success, REALLOC_FAILED when
 *                                        p stays valid, or nothing when realloc freed p.
 *   0x22  REALLOC_FAILED       A:z da    p is valid again, with its old size and stack.
 *   0x26  CUSTOM_FREE          A:z da    memtrace_free(p): the block of kind CUSTOM at p ends
 *                                        (a FREE at p is of a malloc-family block there, such
 *                                        as the pool's own slab). Touches no model state.
 *   0x30  MMAP                 S:v size, A:z da, N:v node, v kind (mt_map_kind)
 *   0x31  MUNMAP               S:v size, A:z da      (may cover part of a mapping, or several)
 *   0x40  SAMPLE               v mask, then for each set bit i (0 rss, 1 arena, 2 ordblks,
 *                              3 hblks, 4 hblkhd, 5 uordblks, 6 fordblks, 7 keepcost) z (value -
 *                              the field's value in the previous SAMPLE, 0 before the first)
 *   0x50  EXIT                 v reason (mt_exit_reason), v status (exit code or signal)
 *   0x51  NOTICE               v code (mt_notice_code), s text   (recording problems; code
 *                              MARK is no problem: memtrace_mark(text), a point in time)
 *   0x52  FORK                 v seq     the process forked here (seq 1, 2, ... in this log):
 *                                        the child's heap is the one replayed up to this record
 *   Aggregated logs (file header flag MT_LOG_FLAG_AGGREGATED, `memtrace run --aggregate`) have
 *   no heap events: the recorder keeps the figures and writes them once, before LEAK_SCAN and
 *   EXIT, as AGG_HEAP, then one AGG_SITE per trace node that allocated, then one AGG_LIVE per
 *   block live at the end (enum mt_agg_heap_field, docs/log-format.md "Aggregated logs"):
 *   0x53  AGG_HEAP             s values: a string of varints, one per value in enum
 *                              mt_agg_heap_field order (a reader ignores values past the
 *                              ones it knows, and takes missing ones as 0)
 *   0x54  AGG_SITE             N:v node, v allocations, S:v bytes allocated, v bytes held at
 *                              the peak, v blocks held at the peak, v temporary allocations
 *   0x55  AGG_LIVE             S:v size, A:z da, N:v node, v kind (mt_alloc_kind)
 *   0x60  LEAK_SCAN            v blocks, v threads_stopped, v threads_missed, v root_bytes
 *   0x61  LEAK_BLOCK           A:z da, v kind (0 definite, 1 indirect, 2 possible),
 *                              then for definite: v indirect_bytes; for indirect: z leader - addr
 *   0x62  LEAK_SCAN_END        v count (number of LEAK_BLOCK records, a consistency check)
 *   0x70  PY_INTERP            v major, v minor, v flags (bit 0: Python frames recorded),
 *                              v eval_lo, v eval_hi  [absolute text range of the interpreter's
 *                              _PyEval_EvalFrameDefault; 0, 0 when unknown]
 *   0x71  PY_CODE              v code_id, v firstlineno, s qualname, s filename
 *   0x72  PY_LOCATION          v location_id, v code_id, v line
 *                              A TRACE_NODE ip with bit 63 set is a Python frame: the low bits
 *                              are a location id (defined before the node that uses it); with
 *                              bit 62 set too, the low 32 bits count Python frames left out
 *                              there (a stack deeper than the recorder keeps).
 *   0x73  PY_SCRIPT_END        (timed, no fields) the script finished, before finalization
 *   0x74  PY_ARENA_ALLOC       S:v size, A:z da      a pymalloc arena was mapped
 *   0x75  PY_ARENA_FREE        S:v size, A:z da      and released
 *
 * Versions 1 to 3 (memtrace before this format) are refused with a message that says so.
 */

#define MT_LOG_MAGIC "MEMTRACE"
#define MT_LOG_MAGIC_LEN 8
/* 4: the model of the records runs through the file (docs/log-format.md, "Versioning"). 5: a
 * FREE_RUN's address gaps in 16-byte units when it can. 6: REPEAT, and aggregated logs (the
 * header flag, AGG_HEAP, AGG_SITE, AGG_LIVE). 7: the ALLOC forms' node and size are codes of the
 * site model (log_model.h). 8: chunks compressed with zstd, one frame across chunks (the same
 * records). 9: ALLOC_PREV, an allocation at the address of one of the last MT_BACK_WINDOW
 * allocations. 10: ALLOC_PREV's number counted from the last one of its size class. Older logs
 * have another layout: a reader refuses them with a line that says so. */
#define MT_LOG_VERSION 10
#define MT_LOG_MIN_VERSION 4
#define MT_LOG_HEADER_SIZE 32
/* File header flags (offset 12). AGGREGATED: `memtrace run --aggregate` wrote the log: no heap
 * events, only what the recorder aggregated (AGG_* records), written when the process ended. */
#define MT_LOG_FLAG_AGGREGATED 1u
/* STOPPED: recording stopped when a write to the log failed (a full disk, a file size limit):
 * the log ends early, and says so here, rewritten in place (no new block is needed). Readers
 * older than this flag ignore it and see a truncated log. */
#define MT_LOG_FLAG_STOPPED 2u
#define MT_LOG_HEADER_FLAGS_AT 12  /* the flags' offset in the file header */
#define MT_CHUNK_MAGIC 0x4b43544dU /* "MTCK" read as little-endian u32: raw deflate */
/* Version 8: zstd. "MTZF": the payload starts a zstd frame (the reader starts a new stream);
 * "MTZC": it continues the frame of the last MTZF chunk (an MTCK chunk may come between). */
#define MT_CHUNK_MAGIC_ZSTD_FRAME 0x465a544dU /* "MTZF" */
#define MT_CHUNK_MAGIC_ZSTD 0x435a544dU       /* "MTZC" */
/* The recorder's zstd parameters (the reader takes any): level 7 with a 512 KiB window and
 * smaller tables than its own. With a 1 MiB window, hashLog 18 and chainLog 16 (3.3 MiB of
 * compressor state, against level 6's 5.9 MiB) the same raw chunks of a g++ compile take
 * 9.80 MB (level 6 with its own tables 9.73 MB, libdeflate 6 13.40 MB); these take 10.05 MB
 * (re-encoding one cc1plus log: 9,579,927 B against 10,050,145 B) for 1.5 MiB less memory:
 * the recorder's RSS over plain with 8 threads (bench.sh --threads) was +9.6 MiB with those,
 * +9.0 with these, +7.4 with libdeflate. Compressing churn.c's log takes about 20% less CPU
 * than libdeflate 6 (docs/log-format.md, Where the bytes go). */
#define MT_ZSTD_LEVEL 7
#define MT_ZSTD_WINDOW_LOG 19
#define MT_ZSTD_HASH_LOG 17
#define MT_ZSTD_CHAIN_LOG 15
#define MT_CHUNK_HEADER_SIZE 16
#define MT_CHUNK_MAX_RAW (4u << 20) /* a reader refuses larger chunks as corrupt */

/* The recorder's clock resolution. A tick per millisecond keeps the clock's share of the log
 * near nothing (heaptrack's is 10 ms); the heap series of the analysis starts at 1 ms too. */
#define MT_TIME_UNIT_US 1000u

enum mt_tag {
    MT_TAG_PROCESS = 0x01,
    MT_TAG_MODULE_LOAD = 0x02,
    MT_TAG_MODULE_UNLOAD = 0x03,
    MT_TAG_THREAD = 0x04,
    MT_TAG_TRACE_NODE = 0x05,
    MT_TAG_THREAD_NAME = 0x06,
    MT_TAG_ORIGIN = 0x08,
    MT_TAG_NEXT_LOG = 0x09,
    MT_TAG_TRACE_NODE_AT = 0x0a,
    MT_TAG_TRACE_NODE_IP = 0x0b,
    MT_TAG_ALLOC = 0x10, /* 0x10..0x1f, low nibble is the mt_alloc_kind */
    MT_TAG_FREE = 0x20,
    MT_TAG_REALLOC_RELEASE = 0x21,
    MT_TAG_REALLOC_FAILED = 0x22,
    MT_TAG_FREE_BACK = 0x23,
    MT_TAG_REALLOC_RELEASE_BACK = 0x24,
    MT_TAG_FREE_RUN = 0x25,
    MT_TAG_MMAP = 0x30,
    MT_TAG_MUNMAP = 0x31,
    MT_TAG_SAMPLE = 0x40,
    MT_TAG_EXIT = 0x50,
    MT_TAG_NOTICE = 0x51,
    MT_TAG_FORK = 0x52,
    MT_TAG_AGG_HEAP = 0x53, /* an aggregated log's totals (--aggregate): before its sites */
    MT_TAG_AGG_SITE = 0x54, /* an aggregated log's figures of one trace node */
    MT_TAG_AGG_LIVE = 0x55, /* an aggregated log's block live at its end */
    MT_TAG_LEAK_SCAN = 0x60,
    MT_TAG_LEAK_BLOCK = 0x61,
    MT_TAG_LEAK_SCAN_END = 0x62,
    MT_TAG_PY_INTERP = 0x70,
    MT_TAG_PY_CODE = 0x71,
    MT_TAG_PY_LOCATION = 0x72,
    MT_TAG_PY_SCRIPT_END = 0x73,
    MT_TAG_PY_ARENA_ALLOC = 0x74,
    MT_TAG_PY_ARENA_FREE = 0x75,
    MT_TAG_ALLOC_REUSE = 0x80,    /* 0x80..0x8f, low nibble is the mt_alloc_kind */
    MT_TAG_ALLOC_NEXT = 0x90,     /* 0x90..0x9f */
    MT_TAG_ALLOC_REUSE_AT = 0xa0, /* 0xa0..0xaf */
    MT_TAG_ALLOC_PREV = 0xb0,     /* 0xb0..0xbf, version 9: at a recent allocation's address */
    MT_TAG_CUSTOM_FREE = 0x26,    /* memtrace_free: the end of an ALLOC of kind CUSTOM */
    MT_TAG_REPEAT = 0x27,         /* the heap records dist back again, len of them */
};

/* A trace-node ip with this bit set is a Python frame; the rest is a PY_LOCATION id. */
#define MT_PY_IP_BIT (1ull << 63)
/* With MT_PY_IP_BIT: not a location but Python frames the recorder left out of a stack deeper
 * than it keeps (the innermost and outermost frames are kept around it); the low 32 bits say
 * how many. */
#define MT_PY_IP_GAP (1ull << 62)

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
    /* A block the program reported itself through memtrace.h (memtrace_alloc): an object of its
     * own pool, usually inside a glibc chunk of its own (the pool's slab), so no glibc chunk.
     * Freed by CUSTOM_FREE only, never by FREE: the slab may start at the same address. */
    MT_ALLOC_CUSTOM = 12,
    MT_ALLOC_KIND_COUNT = 13,
};

/* ORIGIN: how a log began. */
enum mt_origin {
    MT_ORIGIN_START = 0, /* a program started (by memtrace run, a shell, posix_spawn, vfork) */
    MT_ORIGIN_FORK = 1,  /* a fork of a recorded process */
    MT_ORIGIN_EXEC = 2,  /* a recorded process replaced its image */
    /* `memtrace attach`: recording began in a running process; blocks it allocated before
     * are unknown, and their frees are expected (the reader counts them apart) */
    MT_ORIGIN_ATTACH = 3,
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
    MT_EXIT_DETACH = 3, /* `memtrace attach` stopped recording; the process runs on */
};

enum mt_notice_code {
    MT_NOTICE_WRITE_FAILED = 1, /* never reaches the file, but reserved for symmetry */
    MT_NOTICE_UNWIND_FAILED = 2,
    MT_NOTICE_OUT_OF_MEMORY = 3, /* recorder could not grow its tables; events were dropped */
    MT_NOTICE_ALLOCATOR = 4,     /* malloc or operator new is another allocator's (text says) */
    MT_NOTICE_EVENTS_LOST = 5,   /* events could not be recorded (text says which and why) */
    MT_NOTICE_MARK = 6,          /* not a problem: memtrace_mark(text) was called here */
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

/* ---- streams ---- */

#define MT_STREAMS 9
enum mt_stream {
    MT_STREAM_MAIN = 0,
    MT_STREAM_SIZE = 1,
    MT_STREAM_ADDR = 2,
    MT_STREAM_NODE = 3,
    MT_STREAM_BACK = 4,
    MT_STREAM_TIME = 5,
    MT_STREAM_PARENT = 6,
    MT_STREAM_IP = 7,
    MT_STREAM_RUN = 8,
};

/* FREE_BACK reaches this many allocations back (a power of two). The reader keeps their
 * addresses; the writer a table of those still live. Mass frees of older blocks go by address,
 * sorted in a FREE_RUN, where they cost less than a long back reference would. */
#define MT_BACK_WINDOW (1u << 16)

/* ---- record encoder ----
 * mt_enc_t is a set of cursors over caller-owned stream buffers plus the model state. The
 * caller guarantees room: MT_ENC_EVENT_MAX bytes in every stream for any event record beyond
 * mt_enc_len() (which counts the held frees at their largest), and for variable records
 * (strings, main stream) the size it computes with mt_enc_string_size(). No bounds checks on
 * the hot path. The tables (mt_enc_tables_t, about 5 MiB) come from the caller, zeroed; their
 * pages are touched only as they are used.
 */

#define MT_ENC_EVENT_MAX 64

/* Frees held for one FREE_RUN, at most. The mass frees at a program's exit are in the order of
 * its own data structures (perl's hash buckets), random against the addresses: each run costs
 * every free in it about log2(runs) bits to say which run it was in, so runs should be long.
 * The buffer's pages are touched only by runs that long. */
#define MT_RUN_MAX (1u << 18)
/* Runs shorter than this are written one record per free, in their order (the reuse stacks
 * follow it); longer ones are sorted. */
#define MT_RUN_SORT_MIN 4
/* A run ends once the clock moved this far since its first free: no free is written more than
 * this much earlier than it happened. */
#define MT_RUN_SPAN_US 64000u
/* Bytes a held free may take when written (tag + varint). */
#define MT_RUN_ENTRY_MAX (1 + MT_VARINT_MAX)
/* Bytes a FREE_RUN's header, its first free written alone and their clock pairs may take. */
#define MT_RUN_FIXED_MAX (6 * MT_VARINT_MAX + 4)
/* Bytes a held SAMPLE may take when written: tag, mask, 8 fields, a clock pair. */
#define MT_SAMPLE_MAX (2 + 10 * MT_VARINT_MAX)
/* Timer samples a run may hold: a run spans 64 ms, the timer ticks every 10 ms by default. */
#define MT_SAMPLE_HOLD 8
/* Repeats shorter than this are written as the records they are: a REPEAT takes 3 bytes or
 * more of the main stream, where the records it would stand for compress to less. */
#define MT_REP_MIN 4
#define MT_REP_HASH 1024u /* entries of the table that finds a repeat's distance */
#define MT_REP_EVERY 4    /* records per lookup in that table (a power of two) */
/* Records after the last match of MT_REP_MIN or more during which every record is looked at;
 * after them, the first MT_REP_PROBE of every MT_REP_PROBE_EVERY (powers of two). A chunk
 * starts looking. */
#define MT_REP_QUIET 4096u
#define MT_REP_PROBE 2048u
#define MT_REP_PROBE_EVERY 32768u
/* Entries of the freed-address hint table (mt_enc_tables_t.freed), a power of two. */
#define MT_FREED_BITS 16
#define MT_FREED_SLOTS (1u << MT_FREED_BITS)

typedef struct mt_enc_tables {
    /* The last MT_BACK_WINDOW allocations by number % MT_BACK_WINDOW: address and size class
     * (0 for none: mt_size_class never gives 0). Those not freed yet are in the index. */
    uint64_t recent_addr[MT_BACK_WINDOW];
    uint8_t recent_cls[MT_BACK_WINDOW];
    /* Bit per slot, clear when the slot is surely not in the index (its block was freed):
     * the slot's next allocation then skips the index lookup, a cache miss (the index is
     * 512 KiB) that was a third of the encoder's time on churn.c. */
    uint64_t recent_indexed[MT_BACK_WINDOW / 64];
    /* Address hash -> the address and its recent slot: address << 17 | (slot + 1), 0 empty
     * (mt_enc_index_entry). The address in the entry makes a lookup one cache miss, not two
     * (index, then recent_addr), and lets a deletion shift entries without reading
     * recent_addr: those misses were a third of the ring merge's time on churn.c. */
    uint64_t index[2 * MT_BACK_WINDOW];
    /* Version 9 (ALLOC_PREV): address hash -> the recent slot of the last block freed by back
     * reference there, overwritten on collision. Only a hint: an allocation at addr names slot s
     * only when recent_addr[s] is addr, which the reader's table has too. A free pays one
     * store, an allocation whose address no other model predicts one load (no probing, no
     * deletion). 2 bytes an entry; 2^16 of them (128 KiB): 2^18 (512 KiB) kept more of the
     * blocks freed in the last 65,536 allocations (cc1plus re-encoded 8,319,863 B against
     * 8,468,093, clang++ 11,467,791 against 11,755,627) but cost churn.c 2 to 5% more CPU
     * (bench/ab.sh, load 5 to 7) where this one is within the noise. */
    uint16_t freed[MT_FREED_SLOTS];
    mt_reuse_t reuse;
    mt_node_model_t nodes;
    mt_site_model_t sites; /* version 7: allocations' nodes and sizes predicted */
    /* Held frees of the current run: back references from the front, addresses from the end. */
    uint64_t run[MT_RUN_MAX];
    uint64_t run_sorted[MT_RUN_MAX]; /* mt_sort_run's other half (pages touched as used) */
    /* The chunk's last heap records by number % MT_REP_WINDOW (REPEAT), and where each record
     * hash was seen last (its number + 1, low 32 bits): 10 KiB, hot in the cache. */
    mt_rep_rec_t rep_hist[MT_REP_WINDOW];
    uint32_t rep_last[MT_REP_HASH];
} mt_enc_tables_t;

typedef struct mt_enc {
    uint8_t *pos;           /* main stream cursor: records other than events write here directly */
    uint8_t *s[MT_STREAMS]; /* cursors of the other streams (s[0] unused: it is pos) */
    uint8_t *base[MT_STREAMS];
    mt_enc_tables_t *t;
    uint64_t unit_us;        /* microseconds per clock tick */
    uint64_t clock;          /* ticks */
    uint64_t tick_end_us;    /* where the clock's current tick ends */
    uint64_t nper;           /* timed records at the current clock not yet counted in T */
    uint64_t last_addr;      /* base of the next explicit address */
    uint64_t next_addr;      /* ALLOC_NEXT's prediction, 0: none */
    uint64_t nallocs;        /* allocations numbered so far */
    uint64_t next_node;      /* the id an implicit TRACE_NODE gets */
    uint32_t run_back;       /* held back references */
    uint32_t run_addr;       /* held addresses */
    uint32_t run_order;      /* bit i: the i-th held free is a back reference (short runs) */
    uint64_t run_us;         /* time of the run's first free */
    uint64_t run_lo, run_hi; /* lowest and highest held address */
    uint64_t run_bits;       /* the held addresses OR'ed: their alignment */
    uint32_t samples_held;   /* timer SAMPLEs taken during the run, written after it */
    uint64_t rep_n;          /* heap records of the chunk so far (REPEAT) */
    uint64_t rep_from;       /* the first of them in the history (the others were not looked at) */
    uint64_t rep_busy;       /* every record is looked at until this one (mt_enc_rec) */
    uint32_t rep_dist;       /* the distance the last records repeat at, 0: none */
    uint32_t rep_len;        /* records of the current match */
    int rep_off;             /* write no REPEAT (tests and comparisons: MEMTRACE_LOG_REPEAT=0) */
    unsigned version;        /* the log version written: MT_LOG_VERSION, or 6 to 9 */
    uint8_t *rep_at[MT_STREAMS]; /* where the current match began in M, S, A, N, B and R */
    /* The allocation number the last ALLOC_PREV named: version 10, per size class of the
     * allocation (mt_size_class, MT_REUSE_NONE for the large ones); version 9, one for all, in
     * [0] (no size has class 0). mt_enc_prev_base. */
    uint64_t prev_named[MT_REUSE_CLASSES + 1];
    uint64_t sample_us[MT_SAMPLE_HOLD];
    mt_sample_t sample[MT_SAMPLE_HOLD];
    mt_sample_t last_sample;
    uint8_t hdr[MT_STREAMS * MT_VARINT_MAX];
} mt_enc_t;

/* Starts a log: state from scratch. t: zeroed tables; unit_us: the header's time unit. */
static inline void mt_enc_init(mt_enc_t *e, mt_enc_tables_t *t, uint32_t unit_us)
{
    memset(e, 0, sizeof *e);
    e->t = t;
    e->unit_us = unit_us ? unit_us : 1;
    e->tick_end_us = e->unit_us;
    e->next_node = 1;
    e->version = MT_LOG_VERSION;
}

/* Writes the records of an older log version from the start (6: no site codes; 8: no
 * ALLOC_PREV; 9: one ALLOC_PREV base for all sizes), for tools and tests that check that this
 * memtrace still reads them; the caller writes the version into the file header. */
static inline void mt_enc_version(mt_enc_t *e, unsigned version)
{
    e->version = version;
}

/* Starts a chunk: stream k's buffer begins at buf + k * stride. The model carries over. */
static inline void mt_enc_chunk(mt_enc_t *e, uint8_t *buf, size_t stride)
{
    for (int k = 0; k < MT_STREAMS; k++)
        e->base[k] = e->s[k] = buf + (size_t)k * stride;
    e->pos = buf;
}

static inline size_t mt_enc_stream_len(const mt_enc_t *e, int k)
{
    return (size_t)((k == 0 ? e->pos : e->s[k]) - e->base[k]);
}

/*
 * The most bytes the held frees (and a held sample) take when written. Sorted, a run is small:
 * a varint is 1 byte plus one per 7 bits over the first 7, and the gaps between sorted values
 * add up to their range, so at most range / 127 gaps take more than a byte (and never more
 * than 10 bytes each). Back references lie within MT_BACK_WINDOW. This lets a chunk hold a
 * run of a few hundred thousand frees instead of 95,000 at 11 bytes each: the run ends with
 * the chunk. On the hot path: a few shifts and a division by a constant.
 */
static inline size_t mt_enc_run_bound(const mt_enc_t *e)
{
    size_t n = (size_t)e->samples_held * MT_SAMPLE_MAX;
    if (e->run_back + e->run_addr < MT_RUN_SORT_MIN)
        return n + (size_t)(e->run_back + e->run_addr) * MT_RUN_ENTRY_MAX;
    n += MT_RUN_FIXED_MAX;
    if (e->run_back)
        n += e->run_back + MT_BACK_WINDOW / 127 + 3;
    if (e->run_addr) {
        uint64_t g = (e->run_hi - e->run_lo) >> (e->run_bits & 15 ? 0 : 4);
        uint64_t more = g / 127 + 2;
        n += e->run_addr + MT_VARINT_MAX +
             (size_t)(more < 9ull * e->run_addr ? more : 9ull * e->run_addr);
    }
    return n;
}

/* Bytes a REPEAT takes at most: the current match's, written when it ends. */
#define MT_REP_PUT_MAX (1 + 2 * MT_VARINT_MAX)

/* Bytes encoded in the chunk so far, all streams, with the held frees at their largest and the
 * current repeat's REPEAT. */
static inline size_t mt_enc_len(const mt_enc_t *e)
{
    size_t n = (e->run_back | e->run_addr) ? mt_enc_run_bound(e) : 0;
    n += e->rep_len ? MT_REP_PUT_MAX : 0;
    for (int k = 0; k < MT_STREAMS; k++)
        n += mt_enc_stream_len(e, k);
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

/* Sets the time of the timed record about to be written (call it before the record). */
static inline void mt_enc_time(mt_enc_t *e, uint64_t now_us)
{
    /* Clocks are per-thread reads taken before the lock, so a later record can carry an
     * earlier time by a few microseconds: it keeps the clock (times never go back). Most
     * records fall in the current tick: one compare, no division. */
    if (now_us >= e->tick_end_us) {
        uint64_t q = now_us / e->unit_us;
        mt_enc_sv(e, MT_STREAM_TIME, e->nper);
        mt_enc_sv(e, MT_STREAM_TIME, q - e->clock);
        e->clock = q;
        e->tick_end_us = (q + 1) * e->unit_us;
        e->nper = 0;
    }
    e->nper++;
}

/* The explicit address field of addr ("da"), which becomes the base of the next one. */
static inline uint64_t mt_enc_da(mt_enc_t *e, uint64_t addr)
{
    uint64_t z = mt_zigzag((int64_t)(addr - e->last_addr));
    e->last_addr = addr;
    return z;
}

static inline void mt_enc_addr(mt_enc_t *e, uint64_t addr)
{
    mt_enc_sv(e, MT_STREAM_ADDR, mt_enc_da(e, addr));
}

/* ---- repeats ----
 * A loop's heap events are the same records turn after turn: the same tags, sizes and stacks,
 * and, relative to the model (reuse stacks, next address, back references), the same fields.
 * Deflate says a long repeat in 2 to 3 bytes per 258 and the clock and the samples break its
 * matches; a REPEAT says "the last len records dist back, again" in a few bytes. Every heap
 * record is written as it is; when it is the record rep_dist back again it is also counted in
 * the current match, and once the match holds MT_REP_MIN records the streams are set back to
 * where it began: its records are then the REPEAT written when it ends. So the hot path never
 * writes a record twice, and a short match costs nothing. A repeat never leaves its chunk: the
 * history starts empty in every chunk, so a chunk still reads whole or not at all.
 */

static inline void mt_enc_repeat_put(mt_enc_t *e)
{
    mt_enc_u8(e, MT_TAG_REPEAT);
    mt_enc_v(e, e->rep_dist);
    mt_enc_v(e, e->rep_len);
}

/* The match ends before a record that is not a heap record (the streams stand where it
 * began when it is long: its REPEAT goes there). Out of line: once per match. */
static __attribute__((unused, noinline)) void mt_enc_rep_write(mt_enc_t *e)
{
    if (e->rep_len >= MT_REP_MIN)
        mt_enc_repeat_put(e);
    e->rep_len = 0;
}

static inline void mt_enc_rep_end(mt_enc_t *e)
{
    if (e->rep_len)
        mt_enc_rep_write(e);
}

/* The match ends at a heap record just written where it began: its tag, the only byte it has
 * in M, moves behind the REPEAT. Out of line: once per long match. */
static __attribute__((unused, noinline)) void mt_enc_rep_cut(mt_enc_t *e)
{
    uint8_t tag = *--e->pos;
    mt_enc_repeat_put(e);
    mt_enc_u8(e, tag);
}

static inline size_t mt_varint_len(uint64_t v)
{
    return 1 + (size_t)(63 - __builtin_clzll(v | 1)) / 7;
}

/* A match begins with r, just written: it began where r did. Computed back from r's fields
 * rather than saved at every record, which churn.c paid for without ever repeating. Out of
 * line: once per match. */
static __attribute__((unused, noinline)) void mt_enc_rep_start(mt_enc_t *e, const mt_rep_rec_t *r)
{
    unsigned form = r->tag & 0xf0;
    uint8_t **at = e->rep_at;
    at[MT_STREAM_MAIN] = e->pos - 1;
    for (int k = MT_STREAM_SIZE; k <= MT_STREAM_BACK; k++)
        at[k] = e->s[k];
    at[MT_STREAM_RUN] = e->s[MT_STREAM_RUN];
    if (form == 0x20) { /* FREE, REALLOC_RELEASE, REALLOC_FAILED: da; the _BACKs: back */
        at[r->tag >= MT_TAG_FREE_BACK ? MT_STREAM_BACK : MT_STREAM_ADDR] -= mt_varint_len(r->a);
        return;
    }
    at[MT_STREAM_SIZE] -= mt_varint_len(r->size);
    at[MT_STREAM_NODE] -= mt_varint_len(r->node);
    if (form == MT_TAG_ALLOC)
        at[MT_STREAM_ADDR] -= mt_varint_len(r->a);
    else if (form == MT_TAG_ALLOC_REUSE_AT)
        at[MT_STREAM_BACK] -= mt_varint_len(r->a);
    else if (form == MT_TAG_ALLOC_PREV)
        at[MT_STREAM_RUN] -= mt_varint_len(r->a);
}

/* The streams go back to where the match began: its records are its REPEAT now. */
static inline void mt_enc_rep_seek(mt_enc_t *e)
{
    e->pos = e->rep_at[MT_STREAM_MAIN];
    for (int k = MT_STREAM_SIZE; k <= MT_STREAM_BACK; k++)
        e->s[k] = e->rep_at[k];
    e->s[MT_STREAM_RUN] = e->rep_at[MT_STREAM_RUN]; /* ALLOC_PREV's field (a FREE_RUN's gaps
                                                      end a match) */
}

static inline uint64_t mt_rep_hash(const mt_rep_rec_t *r)
{
    return (r->size * 0x9e3779b97f4a7c15ull) ^ (r->a * 0xc2b2ae3d27d4eb4full) ^
           ((uint64_t)r->node << 8 | r->tag);
}

/* Where the last two records (n - 1 and n) were last seen as a pair at a place like n's
 * (MT_REP_EVERY): their distance becomes rep_dist, or 0. */
static inline void mt_enc_rep_find(mt_enc_t *e, uint64_t n)
{
    mt_enc_tables_t *t = e->t;
    uint64_t h = mt_rep_hash(&t->rep_hist[(n - 1) & (MT_REP_WINDOW - 1)]) * 0xff51afd7ed558ccdull ^
                 mt_rep_hash(&t->rep_hist[n & (MT_REP_WINDOW - 1)]);
    uint32_t i = (uint32_t)(h * 0x165667b19e3779f9ull >> 54);
    uint32_t dist = (uint32_t)n + 1 - t->rep_last[i];
    t->rep_last[i] = (uint32_t)n + 1;
    /* entries from earlier chunks may claim anything: only those within this one count */
    e->rep_dist = dist - 1 < MT_REP_WINDOW && dist <= n - e->rep_from && !e->rep_off ? dist : 0;
}

/*
 * A heap record r, just written. When it is the record rep_dist back again it joins the match
 * (and the streams go back to where the match began once it is long enough); else it ends the
 * match. Every MT_REP_EVERY records the last two are looked up (mt_enc_rep_find): in a loop,
 * the pair a turn back (or a few turns: only places n % MT_REP_EVERY == MT_REP_EVERY - 1 are
 * remembered, so the distance is a multiple of the turn that is one of MT_REP_EVERY as well)
 * gives the distance at which the next records repeat. Pairs, not single records: churn.c
 * frees its temporary block right after allocating it, and FREE_BACK 0 alone, every 4
 * records, began a match of one record at 18% of its records. Looked up at every record, the
 * pairs cost churn.c 5 ns a record (cachegrind: 70 instructions, from 590); on the hot path
 * now: a store and a compare, and the lookup every fourth record.
 */
static __attribute__((unused, noinline)) void mt_enc_rep_rec(mt_enc_t *e, const mt_rep_rec_t *r,
                                                             uint64_t n)
{
    mt_enc_tables_t *t = e->t;
    mt_rep_rec_t *slot = &t->rep_hist[n & (MT_REP_WINDOW - 1)];
    if (e->rep_dist && mt_rep_eq(&t->rep_hist[(n - e->rep_dist) & (MT_REP_WINDOW - 1)], r)) {
        *slot = *r;
        if (!e->rep_len)
            mt_enc_rep_start(e, r);
        if (++e->rep_len >= MT_REP_MIN) {
            e->rep_busy = n + MT_REP_QUIET;
            mt_enc_rep_seek(e);
            if (e->rep_len == MT_REP_LEN_MAX) {
                mt_enc_repeat_put(e);
                e->rep_len = 0;
            }
        }
        return;
    }
    *slot = *r;
    if (e->rep_len) {
        if (e->rep_len >= MT_REP_MIN)
            mt_enc_rep_cut(e);
        e->rep_len = 0;
    }
    if ((n & (MT_REP_EVERY - 1)) == MT_REP_EVERY - 1)
        mt_enc_rep_find(e, n);
}

/* A heap record r, just written: mt_enc_rep_rec, unless nothing repeated in the last
 * MT_REP_QUIET records of the chunk; then only MT_REP_PROBE records in MT_REP_PROBE_EVERY are
 * looked at, and the others leave no history (mt_enc_rep_find takes no distance that reaches
 * over them). churn.c, whose records never repeat, paid 5% of its CPU for the lookups. */
static inline void mt_enc_rec(mt_enc_t *e, const mt_rep_rec_t *r)
{
    uint64_t n = e->rep_n++;
    if (n >= e->rep_busy && (n & (MT_REP_PROBE_EVERY - 1)) >= MT_REP_PROBE) {
        e->rep_from = n + 1;
        e->rep_len = 0; /* a match shorter than MT_REP_MIN: its records are written */
        e->rep_dist = 0;
        return;
    }
    mt_enc_rep_rec(e, r, n);
}
_Static_assert(MT_REP_HASH == 1u << 10, "mt_enc_rec's hash has 10 bits");

/* ---- the table of recent allocations (writer side of the back references) ---- */

static inline size_t mt_enc_index_home(uint64_t addr)
{
    return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> (64 - 17));
}
_Static_assert(2 * MT_BACK_WINDOW == 1u << 17, "the index has 2^17 slots");

/* Addresses the index can hold: below 2^47, user space without 5-level paging's high half.
 * Others are freed by address (no back reference), which the reader takes alike. */
#define MT_ENC_INDEX_ADDR_BITS 47
static inline bool mt_enc_indexable(uint64_t addr)
{
    return addr >> MT_ENC_INDEX_ADDR_BITS == 0;
}

static inline uint64_t mt_enc_index_entry(uint64_t addr, uint32_t slot)
{
    return addr << 17 | (slot + 1);
}

static inline uint64_t mt_enc_index_addr(uint64_t entry)
{
    return entry >> 17;
}

static inline uint32_t mt_enc_index_slot(uint64_t entry)
{
    return (uint32_t)(entry & ((1u << 17) - 1)) - 1;
}

/* Slot of addr in the index (its entry, or the empty slot where it would go). */
static inline size_t mt_enc_index_find(const mt_enc_tables_t *t, uint64_t addr)
{
    size_t i = mt_enc_index_home(addr);
    while (t->index[i] && mt_enc_index_addr(t->index[i]) != addr)
        i = (i + 1) & (2 * MT_BACK_WINDOW - 1);
    return i;
}

static inline size_t mt_enc_freed_home(uint64_t addr)
{
    return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> (64 - MT_FREED_BITS));
}

/* A recorder that knows an address it will encode soon asks for its index line ahead of time,
 * and for its line of the freed-address hints (version 9: a free stores there, an allocation
 * that no other model predicts loads from there). A prefetch never faults: tables being
 * replaced are harmless. */
static inline void mt_enc_index_prefetch(const mt_enc_tables_t *t, uint64_t addr)
{
    __builtin_prefetch(&t->index[mt_enc_index_home(addr)], 1);
    __builtin_prefetch(&t->freed[mt_enc_freed_home(addr)], 1);
}

/* Empties index slot i (backward-shift deletion: no tombstones). */
static inline void mt_enc_index_remove(mt_enc_tables_t *t, size_t i)
{
    const size_t mask = 2 * MT_BACK_WINDOW - 1;
    for (size_t j = (i + 1) & mask; t->index[j]; j = (j + 1) & mask) {
        size_t h = mt_enc_index_home(mt_enc_index_addr(t->index[j]));
        /* j's entry may move to the hole at i unless its home lies cyclically in (i, j] */
        if (((j - h) & mask) >= ((j - i) & mask)) {
            t->index[i] = t->index[j];
            i = j;
        }
    }
    t->index[i] = 0;
}

#define MT_ENC_EVICT_AHEAD 8

/* Numbers the allocation at addr. The slot it takes held the allocation MT_BACK_WINDOW ago,
 * which leaves the index if it is still live (its free will go by address). An older block at
 * addr whose free was never seen leaves it too: the index names the new one. */
static inline void mt_enc_recent_put(mt_enc_t *e, uint64_t addr, uint32_t cls)
{
    mt_enc_tables_t *t = e->t;
    uint32_t slot = (uint32_t)(e->nallocs++ & (MT_BACK_WINDOW - 1));
    uint64_t bit = 1ull << (slot & 63);
    /* The slot MT_ENC_EVICT_AHEAD allocations on will evict a block that may still be
     * indexed (a program that keeps most of its blocks: Python's objects); its index line is
     * asked for now, a miss that was a third of this function's time on pyalloc.py. */
    uint32_t ahead = (slot + MT_ENC_EVICT_AHEAD) & (MT_BACK_WINDOW - 1);
    if (t->recent_indexed[ahead >> 6] & (1ull << (ahead & 63)))
        mt_enc_index_prefetch(t, t->recent_addr[ahead]);
    if (t->recent_indexed[slot >> 6] & bit) {
        size_t i = mt_enc_index_find(t, t->recent_addr[slot]);
        if (t->index[i] && mt_enc_index_slot(t->index[i]) == slot)
            mt_enc_index_remove(t, i);
        t->recent_indexed[slot >> 6] &= ~bit;
    }
    t->recent_addr[slot] = addr;
    t->recent_cls[slot] = (uint8_t)(cls < MT_REUSE_CLASSES ? cls : 0);
    if (__builtin_expect(!mt_enc_indexable(addr), 0))
        return;
    t->recent_indexed[slot >> 6] |= bit;
    t->index[mt_enc_index_find(t, addr)] = mt_enc_index_entry(addr, slot);
}

/* Version 9: the back reference of a recent allocation at addr (its block freed since, by back
 * reference, most likely), or -1. The reader takes the address from its own table of the last
 * MT_BACK_WINDOW allocations, so any slot that holds addr names it. */
static inline int64_t mt_enc_prev_find(const mt_enc_t *e, uint64_t addr)
{
    const mt_enc_tables_t *t = e->t;
    uint32_t slot = t->freed[mt_enc_freed_home(addr)];
    uint64_t back = (e->nallocs - 1 - slot) & (MT_BACK_WINDOW - 1);
    return t->recent_addr[slot] == addr && back < e->nallocs ? (int64_t)back : -1;
}

/* Takes addr out of the table: its back reference, or -1 when it is not among the recent. */
static inline int64_t mt_enc_recent_take(mt_enc_t *e, uint64_t addr)
{
    mt_enc_tables_t *t = e->t;
    if (__builtin_expect(!mt_enc_indexable(addr), 0))
        return -1;
    size_t i = mt_enc_index_find(t, addr);
    if (!t->index[i])
        return -1;
    uint32_t slot = mt_enc_index_slot(t->index[i]);
    mt_enc_index_remove(t, i);
    t->recent_indexed[slot >> 6] &= ~(1ull << (slot & 63));
    t->freed[mt_enc_freed_home(addr)] = (uint16_t)slot; /* ALLOC_PREV may name it */
    return (int64_t)((e->nallocs - 1 - slot) & (MT_BACK_WINDOW - 1));
}

/* ---- free runs ---- */

static inline void mt_sort_sift(uint64_t *a, size_t root, size_t n)
{
    for (size_t c; (c = 2 * root + 1) < n; root = c) {
        if (c + 1 < n && a[c + 1] > a[c])
            c++;
        if (a[root] >= a[c])
            return;
        uint64_t tmp = a[root];
        a[root] = a[c];
        a[c] = tmp;
    }
}

/* Sorts a[0..n) increasingly: heapsort, no allocation, no recursion (inside a hook). */
static inline void mt_sort_u64(uint64_t *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        mt_sort_sift(a, i, n);
    for (size_t end = n; end-- > 1;) {
        uint64_t tmp = a[0];
        a[0] = a[end];
        a[end] = tmp;
        mt_sort_sift(a, 0, end);
    }
}

/* Below this many keys a run is heapsorted in place: radix passes cost more. */
#define MT_SORT_RADIX_MIN 64

/*
 * Sorts a[0..n) increasingly, through tmp (room for n keys): least significant digit first,
 * 8 bits a pass, over the keys' span only (max - min: a run's addresses span megabytes, not
 * the address space, so 3 or 4 passes; back references 2). A long run of frees was sorted by
 * heapsort, whose scattered compares were 8% of the program's thread on pyalloc.py. No
 * allocation, no recursion, 2 KiB of stack (inside a hook).
 */
static inline void mt_sort_run(uint64_t *a, uint64_t *tmp, size_t n)
{
    if (n < MT_SORT_RADIX_MIN) {
        mt_sort_u64(a, n);
        return;
    }
    uint64_t lo = a[0], hi = a[0];
    for (size_t i = 1; i < n; i++) {
        lo = a[i] < lo ? a[i] : lo;
        hi = a[i] > hi ? a[i] : hi;
    }
    uint64_t *src = a, *dst = tmp;
    for (unsigned shift = 0; shift < 64 && (hi - lo) >> shift; shift += 8) {
        size_t at[257] = {0};
        for (size_t i = 0; i < n; i++)
            at[((src[i] - lo) >> shift & 0xff) + 1]++;
        for (int d = 0; d < 256; d++)
            at[d + 1] += at[d];
        for (size_t i = 0; i < n; i++)
            dst[at[(src[i] - lo) >> shift & 0xff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

/* A back reference's block goes on its reuse stack (its slot is intact until the next
 * allocation). */
static inline void mt_enc_free_back(mt_enc_t *e, uint64_t back)
{
    uint32_t slot = (uint32_t)((e->nallocs - 1 - back) & (MT_BACK_WINDOW - 1));
    uint8_t cls = e->t->recent_cls[slot];
    mt_reuse_push(&e->t->reuse, cls ? cls : MT_REUSE_NONE, e->t->recent_addr[slot]);
}

/* Writes one held free as its own record: a back reference (FREE_BACK) or an address. */
static inline void mt_enc_run_one(mt_enc_t *e, int back, uint64_t v)
{
    mt_enc_time(e, e->run_us);
    mt_rep_rec_t r = {0};
    if (back) {
        r.tag = MT_TAG_FREE_BACK;
        r.a = v;
        mt_enc_u8(e, MT_TAG_FREE_BACK);
        mt_enc_sv(e, MT_STREAM_BACK, v);
        mt_enc_free_back(e, v);
    } else {
        r.tag = MT_TAG_FREE;
        r.a = mt_enc_da(e, v);
        mt_enc_u8(e, MT_TAG_FREE);
        mt_enc_sv(e, MT_STREAM_ADDR, r.a);
    }
    mt_enc_rec(e, &r);
}

/*
 * Writes the held frees: in their order when there are few, else the first one on its own and
 * the others as one sorted FREE_RUN. Which free comes first matters to the analysis: a block
 * freed before its thread did anything else after allocating it is a temporary allocation;
 * among the others the order says nothing (no allocation came between them). Out of line: the
 * free ahead of most allocations comes through here.
 */
static inline void mt_enc_run_put(mt_enc_t *e)
{
    uint32_t nb = e->run_back, na = e->run_addr, n = nb + na;
    uint64_t *backs = e->t->run, *addrs = e->t->run + MT_RUN_MAX - na;
    e->run_back = e->run_addr = 0;
    if (n < MT_RUN_SORT_MIN) {
        uint32_t ib = 0, ia = na;
        for (uint32_t i = 0; i < n; i++) {
            if (e->run_order >> i & 1)
                mt_enc_run_one(e, 1, backs[ib++]);
            else
                mt_enc_run_one(e, 0, addrs[--ia]); /* stored from the end down */
        }
        return;
    }
    if (e->run_order & 1) {
        mt_enc_run_one(e, 1, backs[0]);
        backs++;
        nb--;
    } else {
        mt_enc_run_one(e, 0, addrs[na - 1]);
        na--;
    }
    mt_enc_rep_end(e);
    mt_enc_time(e, e->run_us);
    mt_enc_u8(e, MT_TAG_FREE_RUN);
    mt_enc_v(e, nb);
    mt_sort_run(backs, e->t->run_sorted, nb);
    for (uint32_t i = 0; i < nb; i++) {
        mt_enc_sv(e, MT_STREAM_BACK, i ? backs[i] - backs[i - 1] - 1 : backs[0]);
        mt_enc_free_back(e, backs[i]);
    }
    mt_sort_run(addrs, e->t->run_sorted, na);
    /* glibc's blocks are 16-byte aligned: their gaps lose 4 bits that are always 0 (perl's
     * exit: a tenth of the run stream) */
    unsigned shift = 0;
    for (uint32_t i = 0; i < na; i++)
        if (addrs[i] & 15)
            goto unaligned;
    shift = 4;
unaligned:
    mt_enc_v(e, (uint64_t)na << 1 | (shift != 0));
    for (uint32_t i = 0; i < na; i++) {
        if (i == 0)
            mt_enc_sv(e, MT_STREAM_RUN, mt_zigzag((int64_t)(addrs[0] - e->last_addr)));
        else
            mt_enc_sv(e, MT_STREAM_RUN, (addrs[i] - addrs[i - 1]) >> shift);
    }
    if (na)
        e->last_addr = addrs[na - 1];
}

/* The SAMPLE record (after mt_enc_run_end, or for one held during a run). */
static inline void mt_enc_sample_put(mt_enc_t *e, uint64_t now_us, const mt_sample_t *s)
{
    mt_enc_rep_end(e); /* after the held frees, which may repeat */
    mt_enc_time(e, now_us);
    mt_enc_u8(e, MT_TAG_SAMPLE);
    uint64_t v[MT_SAMPLE_FIELDS], prev[MT_SAMPLE_FIELDS];
    mt_sample_fields(s, v);
    mt_sample_fields(&e->last_sample, prev);
    unsigned mask = 0;
    for (unsigned i = 0; i < MT_SAMPLE_FIELDS; i++)
        mask |= (unsigned)(v[i] != prev[i]) << i;
    mt_enc_v(e, mask);
    for (unsigned i = 0; i < MT_SAMPLE_FIELDS; i++)
        if (mask >> i & 1)
            mt_enc_v(e, mt_zigzag((int64_t)(v[i] - prev[i])));
    e->last_sample = *s;
}

/* Writes the held frees, then the sample taken while they were held. Out of line: the free
 * ahead of most allocations comes through here. */
static __attribute__((unused, noinline)) void mt_enc_run_write(mt_enc_t *e)
{
    mt_enc_run_put(e);
    for (uint32_t i = 0; i < e->samples_held; i++)
        mt_enc_sample_put(e, e->sample_us[i], &e->sample[i]);
    e->samples_held = 0;
}

/* A heap record (mt_enc_rec) ends the run of frees before it. */
static inline void mt_enc_run_only_end(mt_enc_t *e)
{
    if (e->run_back | e->run_addr)
        mt_enc_run_write(e);
}

/* Every record but a free ends the run of frees before it, and any other but a heap record
 * the repeat. */
static inline void mt_enc_run_end(mt_enc_t *e)
{
    mt_enc_run_only_end(e);
    mt_enc_rep_end(e);
}

/* Holds a FREE for the current run. */
static inline void mt_enc_run_add(mt_enc_t *e, uint64_t now_us, uint64_t addr)
{
    uint32_t n = e->run_back + e->run_addr;
    if (n && (n == MT_RUN_MAX || (now_us > e->run_us && now_us - e->run_us >= MT_RUN_SPAN_US))) {
        mt_enc_run_write(e);
        n = 0;
    }
    if (!n) {
        e->run_us = now_us;
        e->run_order = 0;
        e->run_lo = UINT64_MAX;
        e->run_hi = e->run_bits = 0;
    }
    int64_t back = mt_enc_recent_take(e, addr);
    if (back >= 0) {
        if (n < 32)
            e->run_order |= 1u << n;
        e->t->run[e->run_back++] = (uint64_t)back;
    } else {
        e->t->run[MT_RUN_MAX - 1 - e->run_addr++] = addr;
        e->run_lo = addr < e->run_lo ? addr : e->run_lo;
        e->run_hi = addr > e->run_hi ? addr : e->run_hi;
        e->run_bits |= addr;
    }
}

/* Ends the chunk's records: writes the held frees and repeat, closes the clock's period, and
 * empties the history of repeats (a chunk's REPEATs name records of the chunk only). */
static inline void mt_enc_close(mt_enc_t *e)
{
    mt_enc_run_end(e);
    e->rep_n = e->rep_from = e->rep_busy = 0;
    e->rep_dist = 0;
    if (e->nper) {
        mt_enc_sv(e, MT_STREAM_TIME, e->nper);
        mt_enc_sv(e, MT_STREAM_TIME, 0);
        e->nper = 0;
    }
}

/* Writes the raw chunk's stream-length prefix into e->hdr; returns its length. The raw chunk
 * is e->hdr followed by the streams 0..8 (mt_enc_stream_len bytes from e->base[k]). Call
 * mt_enc_close first. */
static inline size_t mt_enc_finish(mt_enc_t *e)
{
    size_t n = 0;
    for (int k = 0; k < MT_STREAMS; k++)
        n += mt_varint_put(e->hdr + n, mt_enc_stream_len(e, k));
    return n;
}

/* Closes the chunk and copies it whole (length prefix, then the streams) to out, which has
 * room for mt_enc_len(e) + sizeof e->hdr bytes; returns its length. For tools and tests: the
 * recorder deflates the streams in place instead. */
static inline size_t mt_enc_copy_raw(mt_enc_t *e, uint8_t *out)
{
    mt_enc_close(e);
    size_t n = mt_enc_finish(e);
    memcpy(out, e->hdr, n);
    for (int k = 0; k < MT_STREAMS; k++) {
        size_t len = mt_enc_stream_len(e, k);
        memcpy(out + n, e->base[k], len);
        n += len;
    }
    return n;
}

/* The tag of a record composed by the caller (PROCESS, MODULE_LOAD, THREAD_NAME). */
static inline void mt_enc_tag(mt_enc_t *e, enum mt_tag tag)
{
    mt_enc_run_end(e);
    mt_enc_u8(e, (uint8_t)tag);
}

/* The start of a timed record other than a heap event: a run of frees held so far ends first,
 * then the time and the tag. */
static inline void mt_enc_timed_tag(mt_enc_t *e, uint64_t now_us, uint8_t tag)
{
    mt_enc_run_end(e);
    mt_enc_time(e, now_us);
    mt_enc_u8(e, tag);
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
    mt_enc_tag(e, MT_TAG_THREAD);
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
    mt_enc_tag(e, MT_TAG_THREAD_NAME);
    mt_enc_v(e, tid);
    mt_enc_string(e, name, len < MT_THREAD_NAME_MAX ? len : MT_THREAD_NAME_MAX);
}

/* Bytes a TRACE_NODE takes at most. */
#define MT_ENC_NODE_MAX (2 + 2 * MT_VARINT_MAX + MT_VARINT_MAX)

static inline void mt_enc_trace_node(mt_enc_t *e, uint64_t id, uint64_t parent, uint64_t ip)
{
    uint64_t code;
    int coded = mt_node_code(&e->t->nodes, id, parent, ip, &code);
    if (!coded) {
        mt_enc_tag(e, MT_TAG_TRACE_NODE_IP);
        mt_enc_v(e, id);
        mt_enc_v(e, ip);
    } else if (id == e->next_node) {
        mt_enc_tag(e, MT_TAG_TRACE_NODE);
    } else {
        mt_enc_tag(e, MT_TAG_TRACE_NODE_AT);
        mt_enc_v(e, id);
    }
    mt_enc_sv(e, MT_STREAM_PARENT, mt_zigzag((int64_t)(id - parent)));
    if (coded)
        mt_enc_sv(e, MT_STREAM_IP, code);
    e->next_node = id + 1;
}

static inline void mt_enc_alloc(mt_enc_t *e, enum mt_alloc_kind kind, uint64_t now_us,
                                uint64_t size, uint64_t addr, uint32_t node)
{
    mt_enc_run_only_end(e);
    mt_enc_time(e, now_us);
    if (size == UINT64_MAX && e->version >= 7) /* no code says it (mt_site_size_code) */
        size--;
    uint32_t cls = mt_size_class(size);
    int depth = mt_reuse_find(&e->t->reuse, cls, addr);
    mt_rep_rec_t r = {.size = size, .a = 0, .node = node, .tag = 0};
    if (e->version >= 7) {
        mt_site_model_t *m = &e->t->sites;
        r.size = mt_site_size_code(m, node, size);
        r.node = mt_site_node_code(m, node);
        mt_site_learn(m, node, size);
    }
    mt_enc_sv(e, MT_STREAM_SIZE, r.size);
    if (depth == 0) {
        r.tag = MT_TAG_ALLOC_REUSE | kind;
        (void)mt_reuse_take(&e->t->reuse, cls, 0);
    } else if (depth > 0) {
        r.tag = MT_TAG_ALLOC_REUSE_AT | kind;
        r.a = (uint64_t)depth - 1;
        mt_enc_sv(e, MT_STREAM_BACK, r.a);
        (void)mt_reuse_take(&e->t->reuse, cls, (unsigned)depth);
    } else {
        int64_t back;
        if (addr == e->next_addr && addr) {
            r.tag = MT_TAG_ALLOC_NEXT | kind;
        } else if (e->version >= 9 && addr && (back = mt_enc_prev_find(e, addr)) >= 0) {
            r.tag = MT_TAG_ALLOC_PREV | kind;
            uint64_t num = e->nallocs - 1 - (uint64_t)back;
            uint64_t *p = mt_prev_base(e->prev_named, e->version, cls);
            r.a = mt_zigzag((int64_t)(num - *p - 1));
            *p = num;
            mt_enc_sv(e, MT_STREAM_RUN, r.a);
        } else {
            r.tag = MT_TAG_ALLOC | kind;
            r.a = mt_enc_da(e, addr);
            mt_enc_sv(e, MT_STREAM_ADDR, r.a);
        }
        if (size < MT_NEXT_MAX_SIZE)
            e->next_addr = addr + mt_chunk_span(size);
    }
    mt_enc_u8(e, (uint8_t)r.tag);
    mt_enc_sv(e, MT_STREAM_NODE, r.node);
    mt_enc_rec(e, &r);
    mt_enc_recent_put(e, addr, cls);
}

/* tag is MT_TAG_FREE, MT_TAG_REALLOC_RELEASE, MT_TAG_REALLOC_FAILED or MT_TAG_CUSTOM_FREE. A
 * FREE is held for a FREE_RUN and written by the next record that is not one (or at the end of
 * the chunk). */
static inline void mt_enc_free(mt_enc_t *e, enum mt_tag tag, uint64_t now_us, uint64_t addr)
{
    if (tag == MT_TAG_FREE) {
        mt_enc_run_add(e, now_us, addr);
        return;
    }
    mt_enc_run_only_end(e);
    mt_enc_time(e, now_us);
    if (tag == MT_TAG_CUSTOM_FREE) { /* no heap record: no REPEAT names it */
        mt_enc_rep_end(e);
        mt_enc_u8(e, MT_TAG_CUSTOM_FREE);
        mt_enc_addr(e, addr);
        return;
    }
    int64_t back = tag == MT_TAG_REALLOC_RELEASE ? mt_enc_recent_take(e, addr) : -1;
    mt_rep_rec_t r = {0};
    if (back >= 0) {
        r.tag = MT_TAG_REALLOC_RELEASE_BACK;
        r.a = (uint64_t)back;
        mt_enc_u8(e, MT_TAG_REALLOC_RELEASE_BACK);
        mt_enc_sv(e, MT_STREAM_BACK, r.a);
        mt_enc_free_back(e, (uint64_t)back);
    } else {
        r.tag = tag;
        r.a = mt_enc_da(e, addr);
        mt_enc_u8(e, (uint8_t)tag);
        mt_enc_sv(e, MT_STREAM_ADDR, r.a);
    }
    mt_enc_rec(e, &r);
}

/* A timed record of a block with its stack: size, address, node, then a kind (MMAP, AGG_LIVE). */
static inline void mt_enc_block_rec(mt_enc_t *e, uint8_t tag, uint64_t now_us, uint64_t size,
                                    uint64_t addr, uint32_t node, uint64_t kind)
{
    mt_enc_timed_tag(e, now_us, tag);
    mt_enc_sv(e, MT_STREAM_SIZE, size);
    mt_enc_addr(e, addr);
    mt_enc_sv(e, MT_STREAM_NODE, node);
    mt_enc_v(e, kind);
}

static inline void mt_enc_mmap(mt_enc_t *e, uint64_t now_us, uint64_t size, uint64_t addr,
                               uint32_t node, enum mt_map_kind kind)
{
    mt_enc_block_rec(e, MT_TAG_MMAP, now_us, size, addr, node, kind);
}

static inline void mt_enc_munmap(mt_enc_t *e, uint64_t now_us, uint64_t size, uint64_t addr)
{
    mt_enc_timed_tag(e, now_us, MT_TAG_MUNMAP);
    mt_enc_sv(e, MT_STREAM_SIZE, size);
    mt_enc_addr(e, addr);
}

/* True when s is the last sample taken: a timer tick that changed nothing writes none. */
static inline int mt_enc_sample_same(const mt_enc_t *e, const mt_sample_t *s)
{
    const mt_sample_t *last = e->samples_held ? &e->sample[e->samples_held - 1] : &e->last_sample;
    return memcmp(last, s, sizeof *s) == 0;
}

/* A SAMPLE at this point of the log: it ends a run of frees (a peak's sample must come before
 * the free that ends the peak). */
static inline void mt_enc_sample(mt_enc_t *e, uint64_t now_us, const mt_sample_t *s)
{
    mt_enc_run_end(e);
    mt_enc_sample_put(e, now_us, s);
}

/* The timer's SAMPLE, which needs no place among the frees: taken while frees are held, it
 * waits for their run instead of ending it (up to MT_SAMPLE_HOLD of them). The timer cut
 * perl's exit into a run per 10 ms tick, and every run costs each of its frees bits
 * (MT_RUN_MAX). Its time stays exact; the frees, as always, take their first's. */
static inline void mt_enc_sample_tick(mt_enc_t *e, uint64_t now_us, const mt_sample_t *s)
{
    if ((e->run_back | e->run_addr) && e->samples_held < MT_SAMPLE_HOLD) {
        e->sample_us[e->samples_held] = now_us;
        e->sample[e->samples_held++] = *s;
        return;
    }
    mt_enc_sample(e, now_us, s);
}

static inline void mt_enc_exit(mt_enc_t *e, uint64_t now_us, enum mt_exit_reason reason,
                               uint64_t status)
{
    mt_enc_timed_tag(e, now_us, MT_TAG_EXIT);
    mt_enc_v(e, reason);
    mt_enc_v(e, status);
}

/* Room: 4 * MT_VARINT_MAX + 1 + both mt_enc_string_size(). */
static inline void mt_enc_origin(mt_enc_t *e, const char *run_id, size_t run_len,
                                 enum mt_origin how, uint64_t fork_seq, unsigned flags,
                                 const char *from, size_t from_len)
{
    mt_enc_tag(e, MT_TAG_ORIGIN);
    mt_enc_string(e, run_id, run_len);
    mt_enc_v(e, how);
    mt_enc_v(e, fork_seq);
    mt_enc_v(e, flags);
    mt_enc_string(e, from, from_len);
}

/* Room: 1 + mt_enc_string_size(len). */
static inline void mt_enc_next_log(mt_enc_t *e, const char *path, size_t len)
{
    mt_enc_tag(e, MT_TAG_NEXT_LOG);
    mt_enc_string(e, path, len);
}

static inline void mt_enc_fork(mt_enc_t *e, uint64_t now_us, uint64_t seq)
{
    mt_enc_timed_tag(e, now_us, MT_TAG_FORK);
    mt_enc_v(e, seq);
}

/* AGG_HEAP's values, in this order. A writer may add values at the end; a reader takes the
 * ones it knows and ignores the rest (MT_AGG_HEAP_MAX at most). */
enum mt_agg_heap_field {
    MT_AGG_ALLOCATIONS = 0,  /* allocation calls, every kind (realloc included) */
    MT_AGG_FREES,            /* blocks that left the heap (free, realloc's release) */
    MT_AGG_BYTES_ALLOCATED,  /* requested bytes of those calls */
    MT_AGG_BYTES_FREED,      /* requested bytes of the blocks that left */
    MT_AGG_PEAK_BYTES,       /* the heap's highest total of requested bytes */
    MT_AGG_PEAK_BLOCKS,      /* blocks live at that moment */
    MT_AGG_PEAK_US,          /* when, microseconds from the start of recording */
    MT_AGG_TEMPORARY,        /* blocks freed before their thread allocated again */
    MT_AGG_FREE_CALLS,       /* free calls, of known blocks or not */
    MT_AGG_UNKNOWN_FREES,    /* frees of an address not live */
    MT_AGG_REALLOC_FAILURES, /* failed reallocs that gave their block back */
    MT_AGG_REPLACED,         /* allocations at an address still live (a free not seen) */
    MT_AGG_BY_KIND,          /* 16 values: allocation calls by mt_alloc_kind */
    MT_AGG_BY_SIZE_BITS = MT_AGG_BY_KIND + 16, /* 65: calls by bit length of their size */
    MT_AGG_HEAP_FIELDS = MT_AGG_BY_SIZE_BITS + 65,
};
#define MT_AGG_HEAP_MAX 256u /* values a writer may write at most */

/* AGG_HEAP's values travel as one string of n varints (s values): a reader hands a string on
 * as it is, however many values a later writer adds. Room: 1 + mt_enc_string_size(n * 10). */
static inline void mt_enc_agg_heap(mt_enc_t *e, uint64_t now_us, const uint64_t *v, unsigned n)
{
    uint8_t buf[MT_AGG_HEAP_MAX * MT_VARINT_MAX];
    size_t len = 0;
    for (unsigned i = 0; i < n && i < MT_AGG_HEAP_MAX; i++)
        len += mt_varint_put(buf + len, v[i]);
    mt_enc_timed_tag(e, now_us, MT_TAG_AGG_HEAP);
    mt_enc_string(e, buf, len);
}

static inline void mt_enc_agg_site(mt_enc_t *e, uint64_t now_us, uint32_t node,
                                   uint64_t allocations, uint64_t bytes, uint64_t peak_bytes,
                                   uint64_t peak_blocks, uint64_t temporary)
{
    mt_enc_timed_tag(e, now_us, MT_TAG_AGG_SITE);
    mt_enc_sv(e, MT_STREAM_NODE, node);
    mt_enc_v(e, allocations);
    mt_enc_sv(e, MT_STREAM_SIZE, bytes);
    mt_enc_v(e, peak_bytes);
    mt_enc_v(e, peak_blocks);
    mt_enc_v(e, temporary);
}

static inline void mt_enc_agg_live(mt_enc_t *e, uint64_t now_us, uint64_t size, uint64_t addr,
                                   uint32_t node, enum mt_alloc_kind kind)
{
    mt_enc_block_rec(e, MT_TAG_AGG_LIVE, now_us, size, addr, node, kind);
}

/* NOTICE's fields after the tag are v code, s text (compose with mt_enc_v/mt_enc_string). */
static inline void mt_enc_notice_begin(mt_enc_t *e, uint64_t now_us)
{
    mt_enc_timed_tag(e, now_us, MT_TAG_NOTICE);
}

static inline void mt_enc_module_unload(mt_enc_t *e, uint32_t module_id)
{
    mt_enc_tag(e, MT_TAG_MODULE_UNLOAD);
    mt_enc_v(e, module_id);
}

static inline void mt_enc_leak_scan(mt_enc_t *e, uint64_t now_us, uint64_t blocks,
                                    uint64_t threads_stopped, uint64_t threads_missed,
                                    uint64_t root_bytes)
{
    mt_enc_timed_tag(e, now_us, MT_TAG_LEAK_SCAN);
    mt_enc_v(e, blocks);
    mt_enc_v(e, threads_stopped);
    mt_enc_v(e, threads_missed);
    mt_enc_v(e, root_bytes);
}

/* kind: 0 definite (extra = indirect bytes), 1 indirect (extra = leader address),
 * 2 possible (extra unused). */
static inline void mt_enc_leak_block(mt_enc_t *e, uint64_t addr, unsigned kind, uint64_t extra)
{
    mt_enc_tag(e, MT_TAG_LEAK_BLOCK);
    mt_enc_addr(e, addr);
    mt_enc_v(e, kind);
    if (kind == 0)
        mt_enc_v(e, extra);
    else if (kind == 1)
        mt_enc_v(e, mt_zigzag((int64_t)(extra - addr)));
}

static inline void mt_enc_leak_scan_end(mt_enc_t *e, uint64_t count)
{
    mt_enc_tag(e, MT_TAG_LEAK_SCAN_END);
    mt_enc_v(e, count);
}

/* ---- Python records (see the table at the top) ---- */

static inline void mt_enc_py_interp(mt_enc_t *e, unsigned major, unsigned minor, unsigned flags,
                                    uint64_t eval_lo, uint64_t eval_hi)
{
    mt_enc_tag(e, MT_TAG_PY_INTERP);
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
    mt_enc_tag(e, MT_TAG_PY_CODE);
    mt_enc_v(e, id);
    mt_enc_v(e, firstlineno);
    mt_enc_string(e, qualname, qlen);
    mt_enc_string(e, file, flen);
}

static inline void mt_enc_py_location(mt_enc_t *e, uint32_t id, uint32_t code_id, uint32_t line)
{
    mt_enc_tag(e, MT_TAG_PY_LOCATION);
    mt_enc_v(e, id);
    mt_enc_v(e, code_id);
    mt_enc_v(e, line);
}

static inline void mt_enc_py_script_end(mt_enc_t *e, uint64_t now_us)
{
    mt_enc_timed_tag(e, now_us, MT_TAG_PY_SCRIPT_END);
}

/* tag is MT_TAG_PY_ARENA_ALLOC or MT_TAG_PY_ARENA_FREE */
static inline void mt_enc_py_arena(mt_enc_t *e, enum mt_tag tag, uint64_t now_us, uint64_t size,
                                   uint64_t addr)
{
    mt_enc_timed_tag(e, now_us, tag);
    mt_enc_sv(e, MT_STREAM_SIZE, size);
    mt_enc_addr(e, addr);
}

/* Writes the 32-byte file header. */
static inline void mt_log_header_put(uint8_t out[MT_LOG_HEADER_SIZE], uint64_t start_realtime_ns,
                                     uint32_t pid, uint32_t unit_us)
{
    memset(out, 0, MT_LOG_HEADER_SIZE);
    memcpy(out, MT_LOG_MAGIC, MT_LOG_MAGIC_LEN);
    mt_put_u16le(out + 8, MT_LOG_VERSION);
    mt_put_u16le(out + 10, MT_LOG_HEADER_SIZE);
    mt_put_u32le(out + 12, 0);
    mt_put_u64le(out + 16, start_realtime_ns);
    mt_put_u32le(out + 24, pid);
    mt_put_u32le(out + 28, unit_us);
}

/* Sets the file header's flags (MT_LOG_FLAG_*) after mt_log_header_put. */
static inline void mt_log_header_set_flags(uint8_t out[MT_LOG_HEADER_SIZE], uint32_t flags)
{
    mt_put_u32le(out + MT_LOG_HEADER_FLAGS_AT, flags);
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

/* The same with another magic (MT_CHUNK_MAGIC_ZSTD_FRAME, MT_CHUNK_MAGIC_ZSTD). */
static inline void mt_chunk_header_put_magic(uint8_t out[MT_CHUNK_HEADER_SIZE], uint32_t magic,
                                             uint32_t compressed, uint32_t raw, uint32_t crc)
{
    mt_put_u32le(out, magic);
    mt_put_u32le(out + 4, compressed);
    mt_put_u32le(out + 8, raw);
    mt_put_u32le(out + 12, crc);
}

#endif /* MT_LOG_FORMAT_H */

// SPDX-License-Identifier: MIT
// Streaming reader of memtrace logs: validates the file header, inflates one chunk at a time,
// checks its CRC and decodes records into mt_record_t with absolute times and addresses.
// It must never crash, hang, read out of bounds or allocate more than one chunk's worth of
// memory whatever the input is: a bad chunk ends the stream in the "truncated" state.
#ifndef MT_LOG_READER_H
#define MT_LOG_READER_H

#include <stddef.h>
#include <stdint.h>

#include "follow.h"
#include "log_format.h"

#define MT_WUR __attribute__((warn_unused_result))

typedef struct mt_reader mt_reader_t;

/* A byte string inside the reader's current chunk: valid until the next mt_reader_next(). */
typedef struct mt_str {
    const char *ptr;
    size_t len;
} mt_str_t;

typedef struct mt_segment {
    uint64_t vaddr, memsz, flags;
} mt_segment_t;

/*
 * One decoded record. Only the fields of its tag are meaningful; the rest keep stale values
 * (the reader does not clear them, to keep the hot loop short).
 * tag is an enum mt_tag with every ALLOC variant folded into MT_TAG_ALLOC (kind in alloc_kind).
 * Leak records: LEAK_SCAN a, b, c = blocks, threads stopped, threads missed, size = root bytes;
 * LEAK_BLOCK addr, a = kind (0..2), b = indirect bytes (definite) or the leader's absolute
 * address (indirect); LEAK_SCAN_END a = count.
 * Aggregated logs: AGG_HEAP str = its values (varints, enum mt_agg_heap_field order); AGG_SITE
 * node, a = allocations, size = bytes allocated, b, c = bytes and blocks held at the peak,
 * id = temporary allocations; AGG_LIVE addr, size, node, alloc_kind.
 * Processes: ORIGIN str = run id, a = how (mt_origin), b = fork seq, c = flags, str2 = the
 * log it came from; NEXT_LOG str = path; FORK a = seq.
 * Python: PY_INTERP a, b, c = major, minor, flags, addr = eval_lo, size = eval_hi; PY_CODE
 * id, a = firstlineno, str = qualname, str2 = filename; PY_LOCATION id, parent = code id,
 * a = line; PY_SCRIPT_END time only; PY_ARENA_ALLOC/FREE addr, size.
 */
typedef struct mt_record {
    uint8_t tag;
    uint8_t alloc_kind;  /* ALLOC: enum mt_alloc_kind; MMAP: enum mt_map_kind */
    uint64_t time_us;    /* timed records: microseconds since recording started */
    uint64_t tid;        /* thread of the current chunk position (0 before any THREAD) */
    uint64_t addr, size; /* ALLOC, FREE, REALLOC_*, MMAP, MUNMAP */
    uint32_t node;       /* ALLOC, MMAP: trace node id */
    uint64_t id, parent; /* TRACE_NODE: node id, parent; MODULE_*: module id */
    uint64_t ip;         /* TRACE_NODE: instruction pointer; MODULE_LOAD: bias */
    uint64_t a, b, c;    /* PROCESS: pid, ppid, page size; EXIT: reason, status; NOTICE: code */
    mt_str_t str;        /* PROCESS: exe; MODULE_LOAD: path; THREAD_NAME: name; NOTICE: text */
    mt_str_t build_id;   /* MODULE_LOAD: raw bytes */
    mt_str_t str2;       /* PY_CODE: filename */
    const mt_segment_t *segs; /* MODULE_LOAD */
    size_t nsegs;
    const mt_str_t *argv; /* PROCESS */
    size_t argc;
    mt_sample_t sample; /* SAMPLE */
} mt_record_t;

enum mt_reader_state {
    MT_READER_OK = 0,        /* records may follow */
    MT_READER_END = 1,       /* clean end of file at a chunk boundary */
    MT_READER_TRUNCATED = 2, /* a short chunk, a bad CRC or a corrupt record ended the stream */
};

/* Opens a file. On failure returns a negative errno and writes one line to err (no prefix),
 * e.g. "app.mtr: not a memtrace log". */
int mt_reader_open(mt_reader_t **out, const char *path, char *err, size_t errlen) MT_WUR;

/* Reads from a caller-owned buffer that must outlive the reader (unit tests, fuzzing). name is
 * used in messages. Never reads outside [buf, buf+len). */
int mt_reader_open_mem(mt_reader_t **out, const void *buf, size_t len, const char *name, char *err,
                       size_t errlen) MT_WUR;

/* mt_reader_open for a file that grows while it is read: wherever a read comes up short
 * (header, chunk), follow(arg) decides whether to wait for more. */
int mt_reader_open_follow(mt_reader_t **out, const char *path, mt_follow_fn follow,
                          void *follow_arg, char *err, size_t errlen) MT_WUR;
/* mt_reader_open_follow (follow may be NULL) decoding on the caller's thread, for a pass whose
 * work per record is small (the run's summary): there a decoder thread costs more in hand-overs
 * than it saves (one sleep and wake-up per chunk when chunks are small). */
int mt_reader_open_light(mt_reader_t **out, const char *path, mt_follow_fn follow, void *follow_arg,
                         char *err, size_t errlen) MT_WUR;

void mt_reader_close(mt_reader_t *r);

/* Decodes the next record. Returns 1 with *rec filled, 0 at the end of the stream (see
 * mt_reader_state), or a negative errno for an I/O error (also ends the stream). */
int mt_reader_next(mt_reader_t *r, mt_record_t *rec) MT_WUR;

/* The records a decoder thread decoded ahead, read where they lie, for a loop that replays
 * heap events without copying each (the analysis's: mt_reader_next's copy and checks were a
 * sixth of its thread's instructions on churn.c's log). Returns what mt_reader_next would
 * (1, or 0 / -errno at the stream's end); with 1, *n records (at least one, 0 when the reader
 * decodes on the caller's thread) start at *heads, MT_READER_HEAD_STRIDE bytes apart. Of each
 * only the head is there: the fields of mt_record_t before id, all a heap event (ALLOC, FREE)
 * has; any other record must be read with mt_reader_next. The caller takes the first k of
 * them, heap events only, with mt_reader_skip(r, k) before any other call on the reader. */
#define MT_READER_HEAD_STRIDE 48
int mt_reader_peek(mt_reader_t *r, const unsigned char **heads, size_t *n) MT_WUR;
void mt_reader_skip(mt_reader_t *r, size_t k);

/* Whether a decoder thread decodes ahead of the caller (tests). */
int mt_reader_threaded(const mt_reader_t *r);
/* How many times that thread waited for the caller to be done with a chunk's strings before
 * it could reuse the chunk's memory (tests: a chunk without strings never makes it wait). */
uint64_t mt_reader_slot_waits(mt_reader_t *r);

/* A hint for prefetching: the address of the heap event (ALLOC or FREE) k records after the
 * last one delivered, when it is already decoded (a threaded reader decodes ahead); else 0. */
uint64_t mt_reader_ahead(const mt_reader_t *r, unsigned k);

/* Ends the stream as truncated from outside (a layer above found a corrupt id): the reader
 * keeps the first reason it was given. */
void mt_reader_fail(mt_reader_t *r, const char *why);

enum mt_reader_state mt_reader_state(const mt_reader_t *r);
/* Why the stream was cut, e.g. "bad CRC in chunk 12 at offset 40960"; "" otherwise. */
const char *mt_reader_reason(const mt_reader_t *r);
/* Event records (allocation, free, realloc, mmap, munmap) delivered so far. */
uint64_t mt_reader_events(const mt_reader_t *r);
/* Progress: the file offset just past the chunk being decoded, and the file's size when it
 * was opened (0 when unknown, e.g. a pipe). */
uint64_t mt_reader_bytes_done(const mt_reader_t *r);
uint64_t mt_reader_size(const mt_reader_t *r);
/* Time of the last timed record delivered, microseconds. */
uint64_t mt_reader_last_time_us(const mt_reader_t *r);
const char *mt_reader_name(const mt_reader_t *r);
/* File header fields. */
uint64_t mt_reader_start_realtime_ns(const mt_reader_t *r);
uint32_t mt_reader_pid(const mt_reader_t *r);
/* The file header's flags (MT_LOG_FLAG_*; bits this memtrace does not know are kept). */
uint32_t mt_reader_flags(const mt_reader_t *r);

/* "truncated after 1234 events; report covers up to 00:12.4" (no file name, no newline). */
void mt_reader_describe_truncation(const mt_reader_t *r, char *buf, size_t len);

/* Where a log's bytes go (memtrace logstats): per stream its raw bytes and the compressed
 * bytes that inflated to them (to within a few bytes a chunk: deflate does not mark where a
 * stream ends), per record type (by the tag as written) its records and raw bytes in all
 * streams. A FREE_RUN counts once as a record; the clock's pairs belong to no record (stream
 * T). */
typedef struct mt_log_stats {
    uint64_t version; /* of the file header */
    uint64_t chunks, chunk_header_bytes, compressed_bytes, raw_bytes, raw_header_bytes;
    uint64_t stream_raw[MT_STREAMS], stream_compressed[MT_STREAMS];
    uint64_t tag_records[256], tag_bytes[256];
} mt_log_stats_t;

/* mt_reader_open that also counts into stats (zeroed by the caller; valid after
 * mt_reader_close). Slower: every chunk is inflated stream by stream. */
int mt_reader_open_stats(mt_reader_t **out, const char *path, mt_log_stats_t *stats, char *err,
                         size_t errlen) MT_WUR;

#endif

// SPDX-License-Identifier: MIT
// Test helper that writes memtrace logs with the real encoder (log_format.h) and real zlib
// or zstd chunks, so unit tests can craft any log, valid or broken. Test-only: aborts on
// failure.
#ifndef MT_LOG_BUILDER_H
#define MT_LOG_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "log_format.h"

typedef struct mt_lb {
    uint8_t *file; /* header + chunks written so far */
    size_t len, cap;
    uint8_t *raw;            /* the chunk being built: MT_STREAMS streams, MT_LB_RAW_CAP apart */
    uint8_t *flat;           /* the chunk as written (length prefix and streams) */
    mt_enc_tables_t *tables; /* the encoder's model */
    size_t chunk_limit;
    mt_enc_t enc;
    uint64_t tid; /* current thread, announced before the first event after mt_lb_thread */
    int tid_sent;
    int zstd;               /* chunks from now on: 1 zstd (version 8), 0 raw deflate */
    struct ZSTD_CCtx_s *zc; /* the log's zstd frame, made at the first zstd chunk */
    int zc_frame;           /* zc's frame goes on (0: the next zstd chunk starts one) */
} mt_lb_t;

/* chunk_limit: raw bytes after which a chunk is flushed (0: 64 KiB). Times are kept to the
 * microsecond (the header's time unit is 1 us; the recorder's is MT_TIME_UNIT_US). */
void mt_lb_init(mt_lb_t *b, uint32_t pid, size_t chunk_limit);
void mt_lb_free(mt_lb_t *b);
/* Ends the current chunk (no-op when empty): raw deflate, or with b->zstd set the next blocks
 * of the log's zstd frame as the recorder writes them (bench/chunk_out.h); set b->zc_frame to
 * 0 for a chunk that starts a new frame. */
void mt_lb_flush(mt_lb_t *b);
/* Flushes and writes the file; returns its length. */
size_t mt_lb_write(mt_lb_t *b, const char *path);

void mt_lb_process(mt_lb_t *b, uint64_t pid, uint64_t ppid, const char *exe, int argc,
                   const char *const *argv);
void mt_lb_module(mt_lb_t *b, uint64_t id, uint64_t bias, const char *path, const void *build_id,
                  size_t build_id_len, size_t nseg, const uint64_t (*segs)[3]);
void mt_lb_unload(mt_lb_t *b, uint64_t id);
void mt_lb_thread(mt_lb_t *b, uint64_t tid);
void mt_lb_thread_name(mt_lb_t *b, uint64_t tid, const char *name);
void mt_lb_node(mt_lb_t *b, uint32_t id, uint32_t parent, uint64_t ip);
void mt_lb_alloc(mt_lb_t *b, enum mt_alloc_kind kind, uint64_t t, uint64_t size, uint64_t addr,
                 uint32_t node);
void mt_lb_free_(mt_lb_t *b, enum mt_tag tag, uint64_t t, uint64_t addr);
void mt_lb_mmap(mt_lb_t *b, uint64_t t, uint64_t size, uint64_t addr, uint32_t node,
                enum mt_map_kind kind);
void mt_lb_munmap(mt_lb_t *b, uint64_t t, uint64_t size, uint64_t addr);
void mt_lb_sample(mt_lb_t *b, uint64_t t, const mt_sample_t *s);
/* The timer's sample: held back while a run of frees is (mt_enc_sample_tick). */
void mt_lb_sample_tick(mt_lb_t *b, uint64_t t, const mt_sample_t *s);
void mt_lb_exit(mt_lb_t *b, uint64_t t, enum mt_exit_reason reason, uint64_t status);
void mt_lb_notice(mt_lb_t *b, uint64_t t, uint64_t code, const char *text);
/* The leak check's records (kind: 0 definite, extra = indirect bytes; 1 indirect, extra = the
 * leader's address; 2 possible). */
void mt_lb_leak_scan(mt_lb_t *b, uint64_t t, uint64_t blocks, uint64_t stopped, uint64_t missed,
                     uint64_t root_bytes);
void mt_lb_leak_block(mt_lb_t *b, uint64_t addr, unsigned kind, uint64_t extra);
void mt_lb_leak_scan_end(mt_lb_t *b, uint64_t count);
/* A log of an older version the reader still reads (6: no site codes), before any record. */
void mt_lb_version(mt_lb_t *b, unsigned version);
/* An aggregated log (`memtrace run --aggregate`): the header's flag, and its records. */
void mt_lb_aggregated(mt_lb_t *b);
void mt_lb_agg_heap(mt_lb_t *b, uint64_t t, const uint64_t *values, unsigned n);
void mt_lb_agg_site(mt_lb_t *b, uint64_t t, uint32_t node, uint64_t allocations, uint64_t bytes,
                    uint64_t peak_bytes, uint64_t peak_blocks, uint64_t temporary);
void mt_lb_agg_live(mt_lb_t *b, uint64_t t, uint64_t size, uint64_t addr, uint32_t node,
                    enum mt_alloc_kind kind);
/* Python records (log_format.h, tags 0x70-0x75). */
void mt_lb_py_interp(mt_lb_t *b, unsigned major, unsigned minor, unsigned flags, uint64_t lo,
                     uint64_t hi);
void mt_lb_py_code(mt_lb_t *b, uint32_t id, uint32_t firstlineno, const char *qualname,
                   const char *file);
void mt_lb_py_location(mt_lb_t *b, uint32_t id, uint32_t code, uint32_t line);
void mt_lb_py_script_end(mt_lb_t *b, uint64_t t);
void mt_lb_py_arena(mt_lb_t *b, enum mt_tag tag, uint64_t t, uint64_t size, uint64_t addr);
/* Process records (log_format.h, ORIGIN, NEXT_LOG, FORK). */
void mt_lb_origin(mt_lb_t *b, const char *run_id, enum mt_origin how, uint64_t fork_seq,
                  unsigned flags, const char *from);
void mt_lb_next_log(mt_lb_t *b, const char *path);
void mt_lb_fork(mt_lb_t *b, uint64_t t, uint64_t seq);
/* Appends raw bytes to the current chunk (for corrupt records). */
void mt_lb_raw(mt_lb_t *b, const void *bytes, size_t n);
/* Appends raw bytes to stream k (enum mt_stream) of the current chunk. */
void mt_lb_raw_stream(mt_lb_t *b, int k, const void *bytes, size_t n);

#endif

/* Emits MODULE_LOAD records for every object loaded in this process (dl_iterate_phdr: real
 * paths, biases, PT_LOAD segments and build-ids), so tests can symbolize their own code.
 * Module ids start at first_id; returns the number of modules. */
int mt_lb_self_modules(mt_lb_t *b, uint64_t first_id);

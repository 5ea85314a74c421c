// SPDX-License-Identifier: MIT
// Compresses one raw chunk (its stream-length prefix, then its streams) and computes its
// CRC-32: the log's main deflater continues one zstd frame from chunk to chunk (log version
// 8); a helper's, or one whose zstd state could not be made, writes raw deflate alone (with
// libdeflate or zlib). Never allocates from the program's heap; one caller at a time per
// deflater.
#ifndef MT_DEFLATER_H
#define MT_DEFLATER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "base/mt_libc.h"
#include "format/log_format.h"
#include "mt_config.h"

typedef struct mt_deflater {
    struct libdeflate_compressor *ld;       /* level 6; NULL: zlib */
    struct libdeflate_compressor *ld_dense; /* level 9, for dense logs; NULL: level 6 only */
    uint8_t *stage;                         /* libdeflate: the chunk made contiguous */
    size_t stage_cap;
    z_stream zs; /* zlib: one stream, its parameters changed per stream of the chunk */
    bool zs_ready;
    struct ZSTD_CCtx_s *zc; /* the log's zstd stream; NULL: deflate chunks */
    bool zc_frame;          /* zc's frame goes on: every chunk it compressed is in the file */
    void *zc_ws;            /* zc's workspace (ZSTD_initStaticCCtx), mapped once */
    size_t zc_ws_size;
} mt_deflater_t;

/* Sets d up for chunks of at most raw_cap bytes. zstd: compress with one zstd frame across
 * chunks (its state in memtrace's own pages); without it, or when that state cannot be made,
 * raw deflate. try_libdeflate: the program's malloc reaches memtrace's hooks (not `memtrace
 * attach`), so libdeflate's state can be made in the early buffer; otherwise, or when that
 * fails, zlib. A deflater keeps what it has (after a fork too). 0 or -ENOMEM. */
MT_WUR int mt_deflater_init(mt_deflater_t *d, size_t raw_cap, bool try_libdeflate, bool zstd);

/* The next chunk starts a new zstd frame: a chunk compressed into the frame was not written
 * (another copy was, or it was cut off the file), or a new file begins. */
void mt_deflater_restart(mt_deflater_t *d);

/* A chunk of raw bytes deflated to clen this well or better (16:1), or whose timed records
 * take 2 bits each or less, makes the log's next chunk dense: deflated at level 9
 * (io/deflater.c). The records: a loop's records said by REPEATs (log version 6) leave few raw
 * bytes, and perl's chunk of frees at exit, after its hash's chunks, lost level 9 (222 KB
 * instead of 178 KB) when only raw bytes counted. */
static inline bool mt_deflater_dense(size_t raw, size_t clen, uint64_t records)
{
    return raw >= 16 * clen || records >= 4 * (uint64_t)clen;
}

/* A fork child: a thread of the parent may have been inside zlib's deflate or zstd; start
 * zlib and zstd anew (libdeflate holds nothing between chunks). */
void mt_deflater_after_fork(mt_deflater_t *d);

/* Room the output of a chunk of raw_cap bytes may need. */
size_t mt_deflater_bound(size_t raw_cap);

/* Compresses hdr[0..hlen) then streams[k][0..lens[k]) for each of the MT_STREAMS streams into
 * out; *clen the compressed length, *crc the CRC-32 of the raw bytes, *magic the chunk's
 * (MT_CHUNK_MAGIC*). dense: the log's previous chunk was (mt_deflater_dense; deflate only).
 * 0 or -EIO (then the next zstd chunk starts a new frame). */
MT_WUR int mt_deflater_chunk(mt_deflater_t *d, bool dense, uint8_t *out, size_t out_cap,
                             const uint8_t *hdr, size_t hlen,
                             const uint8_t *const streams[MT_STREAMS],
                             const size_t lens[MT_STREAMS], size_t *clen, uint32_t *crc,
                             uint32_t *magic);

#endif

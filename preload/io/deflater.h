// SPDX-License-Identifier: MIT
// Deflates one raw chunk (its stream-length prefix, then its streams) into one raw deflate
// stream and computes its CRC-32: with libdeflate where the build has it and its state could be
// made in memtrace's own memory, else with zlib. Both write the same format. Never allocates
// from the program's heap; one caller at a time per deflater.
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
} mt_deflater_t;

/* Sets d up for chunks of at most raw_cap bytes. try_libdeflate: the program's malloc reaches
 * memtrace's hooks (not `memtrace attach`), so libdeflate's state can be made in the early
 * buffer; otherwise, or when that fails, zlib. A deflater that has libdeflate keeps it (after a
 * fork too: it holds no state between chunks). 0 or -ENOMEM. */
MT_WUR int mt_deflater_init(mt_deflater_t *d, size_t raw_cap, bool try_libdeflate);

/* A chunk of raw bytes deflated to clen this well or better (16:1), or whose timed records
 * take 2 bits each or less, makes the log's next chunk dense: deflated at level 9
 * (io/deflater.c). The records: a loop's records said by REPEATs (log version 6) leave few raw
 * bytes, and perl's chunk of frees at exit, after its hash's chunks, lost level 9 (222 KB
 * instead of 178 KB) when only raw bytes counted. */
static inline bool mt_deflater_dense(size_t raw, size_t clen, uint64_t records)
{
    return raw >= 16 * clen || records >= 4 * (uint64_t)clen;
}

/* A fork child: a thread of the parent may have been inside zlib's deflate; start zlib anew
 * (libdeflate holds nothing between chunks). */
void mt_deflater_after_fork(mt_deflater_t *d);

/* Room the output of a chunk of raw_cap bytes may need. */
size_t mt_deflater_bound(size_t raw_cap);

/* Deflates hdr[0..hlen) then streams[k][0..lens[k]) for each of the MT_STREAMS streams into
 * out; *clen the deflated length, *crc the CRC-32 of the raw bytes. dense: the log's previous
 * chunk was (mt_deflater_dense). 0 or -EIO. */
MT_WUR int mt_deflater_chunk(mt_deflater_t *d, bool dense, uint8_t *out, size_t out_cap,
                             const uint8_t *hdr, size_t hlen,
                             const uint8_t *const streams[MT_STREAMS],
                             const size_t lens[MT_STREAMS], size_t *clen, uint32_t *crc);

#endif

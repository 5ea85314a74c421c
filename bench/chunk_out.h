// SPDX-License-Identifier: MIT
// One deflated chunk of a memtrace log, written by the bench tools that make logs without the
// recorder (gen_log.c, log_reencode.c): header (format/log_format.h), raw deflate, CRC-32.
#ifndef MT_BENCH_CHUNK_OUT_H
#define MT_BENCH_CHUNK_OUT_H

#include <stdio.h>
#include <zlib.h>

#include "log_format.h"

/* Deflates the raw chunk flat[0..rlen) with zs (a raw deflate stream, reset here) into comp
 * (comp_cap bytes, chunk header included) and appends it to out. 0, or -1 with what failed in
 * *what. */
static inline int bench_chunk_write(FILE *out, z_stream *zs, const uint8_t *flat, size_t rlen,
                                    uint8_t *comp, size_t comp_cap, const char **what)
{
    *what = "deflate";
    if (deflateReset(zs) != Z_OK)
        return -1;
    zs->next_in = (Bytef *)flat;
    zs->avail_in = (uInt)rlen;
    zs->next_out = comp + MT_CHUNK_HEADER_SIZE;
    zs->avail_out = (uInt)(comp_cap - MT_CHUNK_HEADER_SIZE);
    if (deflate(zs, Z_FINISH) != Z_STREAM_END)
        return -1;
    size_t clen = zs->total_out;
    mt_chunk_header_put(comp, (uint32_t)clen, (uint32_t)rlen, (uint32_t)crc32(0L, flat, rlen));
    *what = "write";
    return fwrite(comp, 1, MT_CHUNK_HEADER_SIZE + clen, out) == MT_CHUNK_HEADER_SIZE + clen ? 0
                                                                                            : -1;
}

#endif

// SPDX-License-Identifier: MIT
// One chunk of a memtrace log, written by the tools that make logs without the recorder
// (gen_log.c, log_reencode.c, the unit tests' log builder): header (format/log_format.h), raw
// deflate or the log's zstd frame as the recorder writes it (preload/io/deflater.c), CRC-32.
#ifndef MT_BENCH_CHUNK_OUT_H
#define MT_BENCH_CHUNK_OUT_H

#include <stdio.h>
#include <zlib.h>
#include <zstd.h>

#include "log_format.h"

/* A zstd frame through a log's chunks, as the recorder makes it: MT_ZSTD_* parameters, no
 * checksum, no content size. NULL when zstd cannot make it. */
static inline ZSTD_CCtx *bench_zstd_new(void)
{
    ZSTD_CCtx *zc = ZSTD_createCCtx();
    if (zc && (ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_compressionLevel, MT_ZSTD_LEVEL)) ||
               ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_windowLog, MT_ZSTD_WINDOW_LOG)) ||
               ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_hashLog, MT_ZSTD_HASH_LOG)) ||
               ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_chainLog, MT_ZSTD_CHAIN_LOG)) ||
               ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_checksumFlag, 0)) ||
               ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_contentSizeFlag, 0)))) {
        ZSTD_freeCCtx(zc);
        zc = NULL;
    }
    return zc;
}

/* Compresses the raw chunk flat[0..rlen) (stream lengths, then the streams) into zc's frame,
 * a new one when *frame is 0, into comp + MT_CHUNK_HEADER_SIZE, and puts the chunk header
 * before it: a block ends at every stream's end, as the recorder's. The chunk's length, or 0
 * (then *frame is 0: the next chunk starts a frame). */
static inline size_t bench_chunk_zstd(ZSTD_CCtx *zc, int *frame, const uint8_t *flat, size_t rlen,
                                      uint8_t *comp, size_t comp_cap)
{
    int go_on = *frame;
    *frame = 0;
    if (!go_on && ZSTD_isError(ZSTD_CCtx_reset(zc, ZSTD_reset_session_only)))
        return 0;
    const uint8_t *p = flat, *end = flat + rlen;
    uint64_t lens[MT_STREAMS];
    for (int k = 0; k < MT_STREAMS; k++)
        if (mt_varint_get(&p, end, &lens[k]) < 0)
            return 0;
    ZSTD_outBuffer o = {comp + MT_CHUNK_HEADER_SIZE, comp_cap - MT_CHUNK_HEADER_SIZE, 0};
    for (int k = -1; k < MT_STREAMS; k++) {
        size_t n = k < 0 ? (size_t)(p - flat) : (size_t)lens[k];
        const uint8_t *src = k < 0 ? flat : p;
        if (k >= 0)
            p += n;
        if (p > end)
            return 0;
        if (n == 0 && k < MT_STREAMS - 1)
            continue;
        ZSTD_EndDirective how = k < 0 ? ZSTD_e_continue : ZSTD_e_flush;
        ZSTD_inBuffer in = {src, n, 0};
        size_t left;
        do {
            left = ZSTD_compressStream2(zc, &o, &in, how);
            if (ZSTD_isError(left) || (o.pos == o.size && (left || in.pos < in.size)))
                return 0;
        } while (how == ZSTD_e_flush ? left != 0 : in.pos < in.size);
    }
    mt_chunk_header_put_magic(comp, go_on ? MT_CHUNK_MAGIC_ZSTD : MT_CHUNK_MAGIC_ZSTD_FRAME,
                              (uint32_t)o.pos, (uint32_t)rlen, (uint32_t)crc32(0L, flat, rlen));
    *frame = 1;
    return MT_CHUNK_HEADER_SIZE + o.pos;
}

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

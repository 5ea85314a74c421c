// SPDX-License-Identifier: MIT
// libFuzzer harness: the whole analyzer path (reader, tables, replay, reports, renderers) on
// arbitrary bytes. Built with -Dfuzzing=true and clang; it must never crash, hang or leak on
// any input. Crash inputs go to tests/fuzz/regressions/, which test_fuzz_regressions replays.
//
// Chunks are deflated and CRC-checked, so byte-level mutations of a real log almost never get
// past the chunk layer. The custom mutator below mostly inflates one chunk, lets libFuzzer
// mutate its records, and deflates it again with a fresh CRC; one time in eight it mutates the
// raw file bytes (headers, lengths, truncation) instead.
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_driver.h"
#include "log_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    (void)mt_fuzz_one(data, size, err, sizeof err);
    return 0;
}

#define MT_FUZZ_RAW_MAX (1u << 20)
#define MT_FUZZ_FILE_HEADER 32

/* Start offsets of the chunks that inflate, up to max; returns how many. */
static size_t mt_fuzz_chunks(const uint8_t *d, size_t size, size_t *off, size_t max)
{
    size_t n = 0, at = MT_FUZZ_FILE_HEADER;
    while (n < max && at + MT_CHUNK_HEADER_SIZE <= size) {
        if (mt_get_u32le(d + at) != MT_CHUNK_MAGIC)
            break;
        uint32_t clen = mt_get_u32le(d + at + 4), rlen = mt_get_u32le(d + at + 8);
        if (rlen > MT_FUZZ_RAW_MAX || clen > size - at - MT_CHUNK_HEADER_SIZE)
            break;
        off[n++] = at;
        at += MT_CHUNK_HEADER_SIZE + clen;
    }
    return n;
}

/* Chunks are raw deflate (no zlib header), as the writer makes them. */
/* Chunks are raw deflate (no zlib header), as the writer makes them. */
static int mt_fuzz_inflate(uint8_t *out, uLongf *outlen, const uint8_t *in, size_t inlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return -1;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)inlen;
    z.next_out = out;
    z.avail_out = (uInt)*outlen;
    int rc = inflate(&z, Z_FINISH);
    *outlen = z.total_out;
    inflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

static int mt_fuzz_deflate(uint8_t *out, uLongf *outlen, const uint8_t *in, size_t inlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)inlen;
    z.next_out = out;
    z.avail_out = (uInt)*outlen;
    int rc = deflate(&z, Z_FINISH);
    *outlen = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    static uint8_t raw[MT_FUZZ_RAW_MAX], comp[MT_FUZZ_RAW_MAX + 4096], out[4 * MT_FUZZ_RAW_MAX];
    size_t off[256];
    size_t n = seed % 8 == 0 ? 0 : mt_fuzz_chunks(data, size, off, 256);
    if (n == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    size_t at = off[(seed >> 3) % n];
    uint32_t clen = mt_get_u32le(data + at + 4);
    uLongf rlen = MT_FUZZ_RAW_MAX;
    if (mt_fuzz_inflate(raw, &rlen, data + at + MT_CHUNK_HEADER_SIZE, clen) < 0)
        return LLVMFuzzerMutate(data, size, max_size);
    size_t nraw = LLVMFuzzerMutate(raw, rlen, MT_FUZZ_RAW_MAX);
    uLongf ncomp = sizeof comp;
    if (mt_fuzz_deflate(comp, &ncomp, raw, nraw) < 0)
        return LLVMFuzzerMutate(data, size, max_size);
    /* Replace the chunk, or (one time in 16) insert the mutated copy after the original. */
    int insert = (seed >> 12) % 16 == 0;
    size_t tail = at + MT_CHUNK_HEADER_SIZE + clen;
    if (insert)
        at = tail;
    size_t total = at + MT_CHUNK_HEADER_SIZE + ncomp + (size - tail);
    if (total > max_size || total > sizeof out)
        return LLVMFuzzerMutate(data, size, max_size);
    memcpy(out, data, at);
    mt_chunk_header_put(out + at, (uint32_t)ncomp, (uint32_t)nraw,
                        (uint32_t)crc32(0L, raw, (uInt)nraw));
    memcpy(out + at + MT_CHUNK_HEADER_SIZE, comp, ncomp);
    memcpy(out + at + MT_CHUNK_HEADER_SIZE + ncomp, data + tail, size - tail);
    memcpy(data, out, total);
    return total;
}

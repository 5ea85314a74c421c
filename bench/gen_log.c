// SPDX-License-Identifier: MIT
// Writes a synthetic memtrace log of N heap events with the real encoder (format/log_format.h),
// for measuring the analyzer at scale: a bounded live set (LIVE blocks, freed and replaced at
// random), a bounded number of distinct stacks (STACKS leaves of depth 8..15), sizes like
// churn.c's, addresses from a LIFO-per-size allocator, a clock that advances 1 us per 4 events
// (the log's time unit is 1 us). Memory use is constant. CHUNK_EVENTS > 0 ends a chunk every
// that many events instead of every MiB: the log of a long idle run, which the recorder flushes
// every second (20 events a chunk: a daemon's 10 timer ticks a second).
//
//   gen_log EVENTS OUT.mtr [LIVE] [STACKS] [CHUNK_EVENTS]
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "chunk_out.h"
#include "log_format.h"

#define CHUNK_CAP (3u << 19)       /* per stream: room for a chunk and its largest record */
#define CHUNK_THRESHOLD (1u << 20) /* raw bytes per chunk */
#define FREE_CLASSES 4096          /* 16-byte size classes up to 64 KiB */
#define FREE_DEPTH 64

static uint64_t rng = 88172645463325252ull;

static inline uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static FILE *out;
static uint8_t *bufs, *flat, *comp;
static size_t comp_cap;
static z_stream zs;

static void die(const char *what)
{
    fprintf(stderr, "gen_log: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void flush_chunk(mt_enc_t *e)
{
    if (mt_enc_len(e) == 0)
        return;
    const char *what;
    if (bench_chunk_write(out, &zs, flat, mt_enc_copy_raw(e, flat), comp, comp_cap, &what) < 0)
        die(what);
    mt_enc_chunk(e, bufs, CHUNK_CAP);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: gen_log EVENTS OUT.mtr [LIVE] [STACKS] [CHUNK_EVENTS]\n");
        return 2;
    }
    unsigned long long events = strtoull(argv[1], NULL, 10);
    size_t live_n = argc > 3 ? strtoul(argv[3], NULL, 10) : 100000;
    unsigned stacks = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 1000;
    unsigned long long chunk_events = argc > 5 ? strtoull(argv[5], NULL, 10) : 0;
    if (live_n == 0 || stacks == 0) {
        fprintf(stderr, "gen_log: LIVE and STACKS must be positive\n");
        return 2;
    }
    out = fopen(argv[2], "wb");
    if (!out)
        die(argv[2]);
    bufs = malloc((size_t)CHUNK_CAP * MT_STREAMS);
    flat = malloc(CHUNK_CAP + MT_STREAMS * MT_VARINT_MAX);
    comp_cap = MT_CHUNK_HEADER_SIZE + compressBound(CHUNK_CAP + MT_STREAMS * MT_VARINT_MAX);
    comp = malloc(comp_cap);
    uint64_t *live_addr = calloc(live_n, sizeof *live_addr);
    uint64_t *live_size = calloc(live_n, sizeof *live_size);
    uint64_t(*freel)[FREE_DEPTH] = calloc(FREE_CLASSES, sizeof *freel);
    unsigned *nfree = calloc(FREE_CLASSES, sizeof *nfree);
    mt_enc_tables_t *tables = calloc(1, sizeof *tables);
    if (!bufs || !flat || !comp || !live_addr || !live_size || !freel || !nfree || !tables)
        die("out of memory");
    /* Huffman-only: the generator must outrun the analyzer it feeds; the format is the same. */
    if (deflateInit2(&zs, 1, Z_DEFLATED, -15, 8, Z_HUFFMAN_ONLY) != Z_OK)
        die("deflateInit2");

    uint8_t hdr[MT_LOG_HEADER_SIZE];
    mt_log_header_put(hdr, 1700000000000000000ull, 4242, 1);
    if (fwrite(hdr, 1, sizeof hdr, out) != sizeof hdr)
        die("write");

    mt_enc_t e;
    mt_enc_init(&e, tables, 1);
    mt_enc_chunk(&e, bufs, CHUNK_CAP);
    mt_enc_tag(&e, MT_TAG_PROCESS);
    mt_enc_v(&e, 4242);
    mt_enc_v(&e, 1);
    mt_enc_v(&e, 4096);
    mt_enc_string(&e, "/synthetic/app", 14);
    mt_enc_v(&e, 1);
    mt_enc_string(&e, "app", 3);
    /* STACKS leaves of depth 8..15 sharing their outer frames: node ids 1.. */
    uint32_t *leaf = malloc(stacks * sizeof *leaf);
    if (!leaf)
        die("out of memory");
    uint32_t next_id = 1;
    for (unsigned s = 0; s < stacks; s++) {
        uint32_t parent = 0;
        unsigned depth = 8 + s % 8;
        for (unsigned d = 0; d < depth; d++) {
            if (mt_enc_len(&e) > CHUNK_THRESHOLD)
                flush_chunk(&e);
            /* the outer four frames are common to all stacks, as main() and its callers */
            uint64_t ip = d < 4 ? 0x401000 + d * 0x40 : 0x500000 + (uint64_t)s * 0x100 + d;
            if (d < 4 && s > 0) {
                parent = d + 1; /* ids 1..4 are the shared frames of stack 0 */
                continue;
            }
            mt_enc_trace_node(&e, next_id, parent, ip);
            parent = next_id++;
        }
        leaf[s] = parent;
    }
    mt_enc_thread(&e, 1);

    uint64_t bump = 0x10000000, t = 0;
    unsigned long long done = 0;
    while (done < events) {
        uint64_t r = next();
        size_t slot = (size_t)(r % live_n);
        if (live_addr[slot]) {
            uint64_t a = live_addr[slot];
            unsigned c = (unsigned)((live_size[slot] + 23) >> 4);
            mt_enc_free(&e, MT_TAG_FREE, t, a);
            if (c < FREE_CLASSES && nfree[c] < FREE_DEPTH)
                freel[c][nfree[c]++] = a;
            live_addr[slot] = 0;
            done++;
        } else {
            uint64_t size = (r >> 20) % 4 == 0 ? 4096 + (r >> 24) % 60000 : 16 + (r >> 24) % 256;
            unsigned c = (unsigned)((size + 23) >> 4);
            uint64_t a;
            if (c < FREE_CLASSES && nfree[c])
                a = freel[c][--nfree[c]];
            else
                a = bump, bump += mt_chunk_span(size);
            mt_enc_alloc(&e, MT_ALLOC_MALLOC, t, size, a, leaf[(r >> 40) % stacks]);
            live_addr[slot] = a;
            live_size[slot] = size;
            done++;
        }
        if ((done & 3) == 0)
            t++;
        if (chunk_events ? done % chunk_events == 0 : mt_enc_len(&e) >= CHUNK_THRESHOLD)
            flush_chunk(&e);
    }
    mt_enc_exit(&e, t, MT_EXIT_NORMAL, 0);
    flush_chunk(&e);
    if (fclose(out) != 0)
        die("close");
    fprintf(stderr, "gen_log: %llu events, %u stacks (%u nodes), %zu live slots\n", done, stacks,
            next_id - 1, live_n);
    return 0;
}

// SPDX-License-Identifier: MIT
// Streaming reader of memtrace logs (see log_format.h for the byte layout).
// Memory is one compressed chunk and MT_READER_SLOTS inflated ones, each capped by
// MT_CHUNK_MAX_RAW (a length field is checked against that cap before anything is allocated or
// read), plus MT_READER_BATCHES batches of decoded records. Nothing here may trust the input:
// every varint and string is bounds-checked against the inflated chunk.
//
// Two cores (the default for a file): a decoder thread reads, inflates and decodes chunks into
// batches of records, handed to the caller's thread through a bounded queue, so that decoding
// runs beside the replay. A batch never spans two chunks (its strings point into its chunk,
// which is not reused before the caller is done with the chunk's last batch; a chunk without
// strings, a long idle run's one-second chunk of heap events, is reused at once: the threads
// then hand over work every half queue of batches, not at every chunk). The records and
// every state the caller sees (end, truncation, counts) are exactly the single-threaded
// decoder's: MEMTRACE_ANALYSIS_THREADS=1, memory logs and statistics decode on the caller's
// thread.
#include "log_reader.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
/* ZSTD_frameHeaderSize (logstats): zstd's "experimental" API, exported by libzstd.so.1 */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "mt_config.h"
#if MT_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

/* Bounds on per-record arrays: far above anything real, low enough that a hostile length
 * cannot make us allocate much. Segments beyond the cap make the record corrupt; arguments
 * beyond it are decoded and dropped. */
#define MT_READER_MAX_SEGS 1024
#define MT_READER_MAX_ARGS 65536

/* Inflated chunks: the caller's (whose strings its records may still point to), the one being
 * decoded and one ahead; at most 3 x MT_CHUNK_MAX_RAW of memory. */
#define MT_READER_SLOTS 3
/* Decoded records in flight: 32 batches of up to 1,024 records, about 1.5 MiB of heads. A
 * heap event travels as the head of its record (the fields it uses, 48 bytes: the caller's
 * core reads them as a sequential stream), any other record whole beside it (240 bytes, up
 * to 64 a batch). The queue holds about a millisecond of the caller's work: while the
 * decoder reads and inflates a chunk (about as long), the caller goes on. With 8 batches it
 * waited that long at every chunk (churn.c's log: 50 ms of 370). The decoder wakes a waiting
 * caller only once half of the batches are ready (and the other way round), so the threads
 * hand over work every several thousand records, not at every batch. */
#define MT_READER_BATCHES 32
#define MT_BATCH_RECORDS 1024
#define MT_BATCH_FULL 64
#define MT_REC_HEAD offsetof(mt_record_t, id)

typedef struct mt_rec_head {
    _Alignas(16) unsigned char b[MT_REC_HEAD];
} mt_rec_head_t;

_Static_assert(sizeof(mt_rec_head_t) == MT_READER_HEAD_STRIDE, "log_reader.h says the stride");

_Static_assert(offsetof(mt_record_t, tag) == 0, "a head's first byte is its tag");
_Static_assert(offsetof(mt_record_t, node) < MT_REC_HEAD, "a heap event's fields are its head");

enum { MT_SLOT_END = 0, MT_SLOT_CHUNK = 1, MT_SLOT_TRUNCATED = 2 }; /* or a negative errno */

typedef struct mt_slot {
    uint8_t *raw;
    size_t cap, len;
    int status;
    uint64_t end_off; /* file offset just past this chunk (progress) */
    char reason[160];
    int held; /* under mu: the caller may still read its bytes (a record's string) */
} mt_slot_t;

/* Records decoded on the decoder thread, all from one chunk. */
typedef struct mt_batch {
    mt_rec_head_t *heads; /* MT_BATCH_RECORDS: every record's head */
    mt_record_t *full;    /* MT_BATCH_FULL: the records other than ALLOC and FREE, whole */
    uint32_t n, nfull;
    int last;           /* the last batch of its chunk */
    int held;           /* last: the chunk's slot is held for the caller until it is done */
    int status;         /* after its records: MT_READER_OK, _END, _TRUNCATED or -errno */
    uint64_t chunk;     /* sequence number of the chunk it was decoded from */
    uint64_t end_off;   /* file offset just past that chunk */
    uint64_t events0;   /* event records decoded before its first */
    uint64_t time0;     /* last_time_us before its first record */
    uint64_t time_end;  /* and after its last (a corrupt record may have read a time) */
    mt_segment_t *segs; /* a MODULE_LOAD's segments (a batch ends after one) */
    size_t segs_cap;
    mt_str_t *args; /* a PROCESS's arguments (a batch ends after one) */
    size_t args_cap;
    char reason[160]; /* TRUNCATED */
} mt_batch_t;

struct mt_reader {
    const char *name;
    int fd;             /* -1 when reading from memory */
    const uint8_t *mem; /* memory mode: the whole file */
    size_t mem_len, mem_off;
    uint64_t file_off; /* offset of the next chunk header */
    uint64_t size;     /* file size when opened, 0 when unknown (progress only) */
    uint64_t done_off; /* consumer side: end of the chunk being decoded */
    uint64_t chunk_index;
    mt_follow_fn follow; /* NULL unless the file is still being written */
    void *follow_arg;
    uint64_t bytes_read; /* from the file so far (producer side) */

    /* producer side: only mt_reader_produce touches these (on the prefetch thread if any) */
    uint8_t *comp; /* file mode: compressed bytes of the current chunk */
    size_t comp_cap;
    z_stream z;
    int z_ready;
#if MT_HAVE_LIBDEFLATE
    struct libdeflate_decompressor *ld;
#endif
    ZSTD_DCtx *zd; /* version 8: the log's zstd frame, decoded chunk after chunk */
    int zd_frame;  /* zd has a frame that every zstd chunk so far decoded whole into */

    /* inflated chunks: slot i % MT_READER_SLOTS holds chunk i */
    mt_slot_t slots[MT_READER_SLOTS];
    uint64_t chunks_made; /* decoder thread: chunks loaded */
    int chunk_strings;    /* decoder: a record of the current chunk points into it (MT_GETSTR) */

    /* the queue between the decoder thread and the caller, under mu */
    int threaded, stop;
    mt_batch_t batches[MT_READER_BATCHES];
    unsigned bprod, bcons, bfilled;
    int prod_waiting; /* MT_WAIT_BATCH or MT_WAIT_SLOT: what the decoder waits for, or 0 */
    int cons_waiting;
    uint64_t slot_waits; /* mt_reader_slot_waits */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv_prod, cv_cons;

    /* caller's side of a threaded reader: what the accessors report */
    mt_batch_t *cb;  /* the batch being delivered, NULL before the first */
    uint32_t ci, cf; /* its next record, and its next whole one */
    enum mt_reader_state cstate;
    uint64_t cdone_off;
    char creason[160];

    const uint8_t *pos, *end;      /* main stream */
    const uint8_t *sp[MT_STREAMS]; /* other streams' cursors (index 0 unused) */
    const uint8_t *se[MT_STREAMS];

    /* decoder state (log_format.h): it runs through the whole file */
    uint64_t unit_us;       /* microseconds per clock tick (file header) */
    uint64_t clock;         /* ticks */
    uint64_t left, advance; /* the current T pair: records left at clock, then its dt */
    uint64_t last_addr, next_addr, tid;
    uint64_t nallocs;                          /* allocations numbered so far */
    uint64_t prev_named[MT_REUSE_CLASSES + 1]; /* ALLOC_PREV's bases (mt_prev_base) */
    uint64_t *alloc_addr;                      /* the last MT_BACK_WINDOW allocations, by number */
    uint16_t *alloc_cls;
    uint64_t next_node; /* id of the next implicit TRACE_NODE */
    mt_reuse_t reuse;
    mt_node_model_t *nodes;
    mt_site_model_t *sites;            /* version 7 */
    uint64_t sample[MT_SAMPLE_FIELDS]; /* the last SAMPLE's fields */
    /* A FREE_RUN being delivered one free per call */
    uint64_t run_backs, run_addrs, run_back, run_time_us;
    int run_first;
    unsigned run_shift; /* the run's address gaps are in units of 1 << run_shift bytes */
    /* The chunk's heap records as written, by number % MT_REP_WINDOW, and a REPEAT being
     * delivered one record per call: rep_left records, each the one rep_dist back */
    uint64_t rep_n, rep_left;
    uint32_t rep_dist;
    mt_rep_rec_t rep_hist[MT_REP_WINDOW];
    unsigned version; /* of the file header */

    mt_segment_t *segs;
    size_t segs_cap;
    mt_str_t *args;
    size_t args_cap;

    mt_log_stats_t *stats;          /* NULL unless counting (mt_reader_count) */
    const uint8_t *sp0[MT_STREAMS]; /* where each stream of the current chunk begins */
    uint8_t wire_tag;               /* of the record being decoded (stats) */

    enum mt_reader_state state;
    uint64_t events;
    uint64_t last_time_us;
    uint64_t start_ns;
    mt_record_t scratch; /* decoder thread: the record being decoded */
    uint32_t pid;
    uint32_t flags; /* file header flags (MT_LOG_FLAG_*) */
    char reason[160];
    char namebuf[];
};

static uint64_t mt_reader_max_compressed(void)
{
    /* zstd's flushed blocks (a block header per stream, the frame header) or deflate's */
    uint64_t z = ZSTD_compressBound(MT_CHUNK_MAX_RAW) + 32 + 8 * MT_STREAMS;
    uint64_t d = compressBound(MT_CHUNK_MAX_RAW);
    return z > d ? z : d;
}

static void mt_reader_set_truncated(mt_reader_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void mt_reader_set_truncated(mt_reader_t *r, const char *fmt, ...)
{
    if (r->state == MT_READER_TRUNCATED)
        return;
    r->state = MT_READER_TRUNCATED;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
    r->pos = r->end = NULL;
}

void mt_reader_fail(mt_reader_t *r, const char *why)
{
    if (!r->threaded) {
        mt_reader_set_truncated(r, "%s", why);
    } else if (r->cstate != MT_READER_TRUNCATED) {
        r->cstate = MT_READER_TRUNCATED;
        snprintf(r->creason, sizeof r->creason, "%s", why);
    }
}

/* True once mt_reader_close asked the prefetch thread to stop: a followed file is then not
 * waited for any more. */
static int mt_reader_stopping(mt_reader_t *r)
{
    return __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
}

/* Reads exactly n bytes at the current file position into dst (file mode) or returns a pointer
 * into the memory image. Returns the number of bytes available (< n at end of file), or a
 * negative errno. */
static ssize_t mt_reader_fetch(mt_reader_t *r, uint8_t *dst, size_t n, const uint8_t **out)
{
    if (r->fd < 0) {
        if (!r->mem)
            return 0; /* no buffer at all: an empty file */
        size_t avail = r->mem_len - r->mem_off;
        size_t take = avail < n ? avail : n;
        *out = r->mem + r->mem_off;
        r->mem_off += take;
        return (ssize_t)take;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(r->fd, dst + got, n - got);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (k == 0) {
            if (r->follow && !mt_reader_stopping(r) && r->follow(r->follow_arg, r->bytes_read))
                continue;
            break;
        }
        got += (size_t)k;
        r->bytes_read += (uint64_t)k;
    }
    *out = dst;
    return (ssize_t)got;
}

static int mt_reader_grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64 * 1024;
    while (n < need)
        n *= 2;
    uint8_t *p = realloc(*buf, n);
    if (!p)
        return -ENOMEM;
    *buf = p;
    *cap = n;
    return 0;
}

/* Inflates one chunk's raw deflate stream (version 2 has no zlib wrapper: the chunk CRC-32
 * checks the bytes). */
static int mt_inflate_start(z_stream *z, int *ready, uint8_t *dst, const uint8_t *src,
                            uint32_t slen)
{
    if (!*ready) {
        memset(z, 0, sizeof *z);
        if (inflateInit2(z, -15) != Z_OK)
            return -1;
        *ready = 1;
    } else if (inflateReset(z) != Z_OK) {
        return -1;
    }
    z->next_in = (Bytef *)(uintptr_t)src;
    z->avail_in = slen;
    z->next_out = dst;
    return 0;
}

#if !MT_HAVE_LIBDEFLATE
static int mt_inflate(z_stream *z, int *ready, uint8_t *dst, uint32_t dlen, const uint8_t *src,
                      uint32_t slen)
{
    if (mt_inflate_start(z, ready, dst, src, slen) < 0)
        return -1;
    z->avail_out = dlen;
    int zrc = inflate(z, Z_FINISH);
    return zrc == Z_STREAM_END && z->total_out == dlen ? 0 : -1;
}
#endif

/* Inflates up to total output stop (no further; nothing when it is there already); 0 or -1. */
static int mt_inflate_to(z_stream *z, uint64_t stop)
{
    if (stop <= z->total_out)
        return 0;
    z->avail_out = (uInt)(stop - z->total_out);
    int zrc = inflate(z, Z_NO_FLUSH);
    return (zrc == Z_OK || zrc == Z_STREAM_END) && z->total_out == stop ? 0 : -1;
}

/* mt_inflate one stream at a time, to count the compressed bytes of each (mt_log_stats_t):
 * first the stream lengths (at most MT_STREAMS varints), then each stream up to its end. */
static int mt_inflate_counted(mt_reader_t *r, uint8_t *dst, uint32_t dlen, const uint8_t *src,
                              uint32_t slen)
{
    z_stream *z = &r->z;
    mt_log_stats_t *st = r->stats;
    if (mt_inflate_start(z, &r->z_ready, dst, src, slen) < 0 ||
        mt_inflate_to(z, dlen < MT_STREAMS * MT_VARINT_MAX ? dlen : MT_STREAMS * MT_VARINT_MAX) < 0)
        return -1;
    const uint8_t *p = dst, *end = dst + z->total_out;
    uint64_t lens[MT_STREAMS];
    for (int k = 0; k < MT_STREAMS; k++)
        if (mt_varint_get(&p, end, &lens[k]) < 0)
            return -1;
    uint64_t at = (uint64_t)(p - dst), in_before = 0;
    st->raw_header_bytes += at;
    for (int k = 0; k < MT_STREAMS; k++) {
        at += lens[k];
        if (at > dlen || mt_inflate_to(z, at) < 0)
            return -1;
        st->stream_raw[k] += lens[k];
        st->stream_compressed[k] += z->total_in - in_before;
        in_before = z->total_in;
    }
    uint8_t extra; /* the end of the deflate stream, which must come with no more output */
    z->next_out = &extra;
    z->avail_out = 1;
    if (at != dlen || mt_inflate_to(z, dlen) < 0 || inflate(z, Z_FINISH) != Z_STREAM_END ||
        z->total_out != dlen)
        return -1;
    st->stream_compressed[MT_STREAMS - 1] += z->total_in - in_before;
    st->chunks++;
    st->chunk_header_bytes += MT_CHUNK_HEADER_SIZE;
    st->compressed_bytes += slen;
    st->raw_bytes += dlen;
    return 0;
}

/* A chunk's deflate stream into exactly dlen bytes: 0 or -1. libdeflate, where the build has
 * it, decompresses a whole buffer at once, well over twice as fast as zlib's streaming
 * inflate; either accepts the same streams (trailing bytes after the last block are ignored,
 * and the chunk's CRC checks the output). */
static int mt_reader_inflate(mt_reader_t *r, uint8_t *dst, uint32_t dlen, const uint8_t *src,
                             uint32_t slen)
{
#if MT_HAVE_LIBDEFLATE
    if (!r->ld && !(r->ld = libdeflate_alloc_decompressor()))
        return -1;
    return libdeflate_deflate_decompress(r->ld, src, slen, dst, dlen, NULL) == LIBDEFLATE_SUCCESS
               ? 0
               : -1;
#else
    return mt_inflate(&r->z, &r->z_ready, dst, dlen, src, slen);
#endif
}

/* Decodes zd's frame until out holds stop bytes (out->pos == stop); 0, or -1 when the input
 * ends first or is not zstd. */
static int mt_unzstd_to(ZSTD_DCtx *zd, ZSTD_inBuffer *in, ZSTD_outBuffer *out, size_t stop)
{
    out->size = stop;
    while (out->pos < stop) {
        size_t in0 = in->pos, out0 = out->pos;
        if (ZSTD_isError(ZSTD_decompressStream(zd, out, in)) ||
            (in->pos == in0 && out->pos == out0))
            return -1;
    }
    return 0;
}

/*
 * logstats on a zstd chunk: block by block. The writer ends a block at every stream's end, so a
 * block's bytes are the stream's where its output begins (the frame header goes with the main
 * stream). Each block is fed alone (its 3-byte header says its length): given more, zstd reads
 * the next block before it gives this one's last bytes out. 0 or -1.
 */
static int mt_unzstd_counted(mt_reader_t *r, ZSTD_inBuffer *in, ZSTD_outBuffer *out, int frame)
{
    mt_log_stats_t *st = r->stats;
    const uint8_t *src = in->src, *dst = out->dst;
    size_t dlen = out->size, slen = in->size, extra = 0;
    uint64_t ends[MT_STREAMS];
    int have = 0;
    if (frame) {
        extra = ZSTD_frameHeaderSize(src, slen);
        if (ZSTD_isError(extra) || extra > slen)
            return -1;
        in->size = extra;
        if (ZSTD_isError(ZSTD_decompressStream(r->zd, out, in)) || in->pos != extra)
            return -1;
    }
    while (in->pos < slen) {
        if (slen - in->pos < 3)
            return -1;
        const uint8_t *b = src + in->pos;
        uint32_t bh = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16;
        uint32_t type = (bh >> 1) & 3; /* 0 raw, 1 RLE (one byte), 2 compressed, 3 reserved */
        size_t blen = 3 + (type == 1 ? 1 : bh >> 3), out0 = out->pos;
        if (type == 3 || blen > slen - in->pos)
            return -1;
        in->size = in->pos + blen;
        while (in->pos < in->size) {
            size_t in0 = in->pos, o0 = out->pos;
            if (ZSTD_isError(ZSTD_decompressStream(r->zd, out, in)) ||
                (in->pos == in0 && out->pos == o0))
                return -1;
        }
        if (!have) { /* the stream lengths are in the first block, with the main stream */
            const uint8_t *p = dst, *end = dst + out->pos;
            uint64_t at = 0;
            for (int k = 0; k < MT_STREAMS; k++)
                if (mt_varint_get(&p, end, &ends[k]) < 0)
                    return -1;
            at = (uint64_t)(p - dst);
            st->raw_header_bytes += at;
            for (int k = 0; k < MT_STREAMS; k++) {
                st->stream_raw[k] += ends[k];
                at += ends[k];
                ends[k] = at;
            }
            if (at != dlen)
                return -1;
            have = 1;
        }
        int k = 0;
        while (k < MT_STREAMS - 1 && out0 >= ends[k])
            k++;
        st->stream_compressed[k] += blen + extra;
        extra = 0;
    }
    return have && out->pos == dlen ? 0 : -1;
}

/*
 * A zstd chunk (version 8) into exactly dlen bytes: the next blocks of the log's frame, which
 * begins at an MTZF chunk (frame: 1) and goes on in the MTZC chunks after it; the chunk must
 * use all its bytes. A chunk that fails leaves no frame: the next MTZC is refused too (the
 * reader stops at the first bad chunk anyway). 0 or -1.
 */
static int mt_reader_unzstd(mt_reader_t *r, uint8_t *dst, uint32_t dlen, const uint8_t *src,
                            uint32_t slen, int frame)
{
    if (!r->zd && !(r->zd = ZSTD_createDCtx()))
        return -1;
    if (!frame && !r->zd_frame)
        return -1; /* the frame's start was never read */
    r->zd_frame = 0;
    if (frame && ZSTD_isError(ZSTD_DCtx_reset(r->zd, ZSTD_reset_session_only)))
        return -1;
    ZSTD_inBuffer in = {src, slen, 0};
    ZSTD_outBuffer out = {dst, dlen, 0};
    mt_log_stats_t *st = r->stats;
    if (st ? mt_unzstd_counted(r, &in, &out, frame) < 0 : mt_unzstd_to(r->zd, &in, &out, dlen) < 0)
        return -1;
    if (in.pos != slen)
        return -1;
    if (st) {
        st->chunks++;
        st->chunk_header_bytes += MT_CHUNK_HEADER_SIZE;
        st->compressed_bytes += slen;
        st->raw_bytes += dlen;
    }
    r->zd_frame = 1;
    return 0;
}

static uint32_t mt_reader_crc32(const uint8_t *p, uint32_t len)
{
#if MT_HAVE_LIBDEFLATE
    return libdeflate_crc32(0, p, len);
#else
    return (uint32_t)crc32(0L, p, len);
#endif
}

/* Produces the next chunk into slot (header, read, inflate, CRC). Touches only the producer
 * side of the reader (fd or memory cursor, comp buffer, zlib state), so it can run on the
 * prefetch thread while the consumer decodes the previous chunk. */
static void mt_reader_produce(mt_reader_t *r, mt_slot_t *slot)
{
    uint8_t hdr_buf[MT_CHUNK_HEADER_SIZE];
    const uint8_t *hdr;
    uint64_t off = r->file_off;
    slot->reason[0] = '\0';
    slot->status = MT_SLOT_TRUNCATED;
    ssize_t n = mt_reader_fetch(r, hdr_buf, sizeof hdr_buf, &hdr);
    if (n < 0) {
        slot->status = (int)n;
        return;
    }
    if (n == 0) {
        slot->status = MT_SLOT_END;
        return;
    }
    if (n < MT_CHUNK_HEADER_SIZE) {
        snprintf(slot->reason, sizeof slot->reason, "short chunk header at offset %" PRIu64, off);
        return;
    }
    uint32_t magic = mt_get_u32le(hdr), clen = mt_get_u32le(hdr + 4);
    uint32_t rlen = mt_get_u32le(hdr + 8), crc = mt_get_u32le(hdr + 12);
    /* zstd chunks (version 8) and raw deflate ones (every version; a version 8 recorder
     * writes them when zstd cannot be set up, and when a starved program thread compresses) */
    int zstd =
        r->version >= 8 && (magic == MT_CHUNK_MAGIC_ZSTD_FRAME || magic == MT_CHUNK_MAGIC_ZSTD);
    if (magic != MT_CHUNK_MAGIC && !zstd) {
        snprintf(slot->reason, sizeof slot->reason, "bad chunk header at offset %" PRIu64, off);
        return;
    }
    if (rlen > MT_CHUNK_MAX_RAW || clen > mt_reader_max_compressed() || clen == 0) {
        snprintf(slot->reason, sizeof slot->reason, "impossible chunk length at offset %" PRIu64,
                 off);
        return;
    }
    int rc = 0;
    if (r->fd >= 0 && (rc = mt_reader_grow(&r->comp, &r->comp_cap, clen)) < 0) {
        slot->status = rc;
        return;
    }
    const uint8_t *comp;
    n = mt_reader_fetch(r, r->comp, clen, &comp);
    if (n < 0) {
        slot->status = (int)n;
        return;
    }
    if ((size_t)n < clen) {
        snprintf(slot->reason, sizeof slot->reason, "short chunk at offset %" PRIu64, off);
        return;
    }
    if ((rc = mt_reader_grow(&slot->raw, &slot->cap, rlen ? rlen : 1)) < 0) {
        slot->status = rc;
        return;
    }
    if ((zstd ? mt_reader_unzstd(r, slot->raw, rlen, comp, clen, magic == MT_CHUNK_MAGIC_ZSTD_FRAME)
         : r->stats ? mt_inflate_counted(r, slot->raw, rlen, comp, clen)
                    : mt_reader_inflate(r, slot->raw, rlen, comp, clen)) < 0) {
        snprintf(slot->reason, sizeof slot->reason, "chunk at offset %" PRIu64 " does not inflate",
                 off);
        return;
    }
    if (mt_reader_crc32(slot->raw, rlen) != crc) {
        snprintf(slot->reason, sizeof slot->reason, "bad CRC in chunk at offset %" PRIu64, off);
        return;
    }
    r->file_off = off + MT_CHUNK_HEADER_SIZE + clen;
    slot->end_off = r->file_off;
    slot->len = rlen;
    slot->status = MT_SLOT_CHUNK;
}

/* Moves the decoder to the chunk in slot, produced there now. Returns 1 when it is ready, 0 at
 * the end (clean or truncated), or a negative errno. */
static int mt_reader_load_chunk(mt_reader_t *r, mt_slot_t *slot)
{
    mt_reader_produce(r, slot);
    if (slot->status < 0)
        return slot->status;
    if (slot->status == MT_SLOT_END) {
        r->state = MT_READER_END;
        return 0;
    }
    if (slot->status == MT_SLOT_TRUNCATED) {
        mt_reader_set_truncated(r, "%s", slot->reason);
        return 0;
    }
    r->chunk_index++;
    r->done_off = slot->end_off;
    const uint8_t *p = slot->raw, *end = slot->raw + slot->len;
    uint64_t lens[MT_STREAMS], total = 0;
    for (int k = 0; k < MT_STREAMS; k++) {
        if (mt_varint_get(&p, end, &lens[k]) < 0 || lens[k] > (uint64_t)(end - p)) {
            mt_reader_set_truncated(r, "corrupt stream lengths in chunk %" PRIu64, r->chunk_index);
            return 0;
        }
        total += lens[k];
    }
    if (total != (uint64_t)(end - p)) {
        mt_reader_set_truncated(r, "corrupt stream lengths in chunk %" PRIu64, r->chunk_index);
        return 0;
    }
    for (int k = 0; k < MT_STREAMS; k++) {
        r->sp0[k] = r->sp[k] = p;
        p += lens[k];
        r->se[k] = p;
    }
    r->pos = r->sp[0];
    r->end = r->se[0];
    /* Every chunk closes its clock period (log_format.h): a new one starts with a new pair. */
    r->left = r->advance = 0;
    r->run_backs = r->run_addrs = 0;
    r->rep_n = r->rep_left = 0; /* a REPEAT names records of its own chunk only */
    return 1;
}

static int mt_reader_init(mt_reader_t *r, char *err, size_t errlen)
{
    uint8_t hbuf[MT_LOG_HEADER_SIZE];
    const uint8_t *h;
    ssize_t n = mt_reader_fetch(r, hbuf, sizeof hbuf, &h);
    if (n < 0) {
        snprintf(err, errlen, "%s: %s", r->name, strerror((int)-n));
        return (int)n;
    }
    if (n == 0) {
        snprintf(err, errlen, "%s: empty file, not a memtrace log", r->name);
        return -EINVAL;
    }
    if (n < MT_LOG_MAGIC_LEN || memcmp(h, MT_LOG_MAGIC, MT_LOG_MAGIC_LEN) != 0) {
        snprintf(err, errlen, "%s: not a memtrace log", r->name);
        return -EINVAL;
    }
    if (n < MT_LOG_HEADER_SIZE) {
        snprintf(err, errlen, "%s: truncated in the file header", r->name);
        return -EINVAL;
    }
    unsigned version = mt_get_u16le(h + 8);
    if (version < MT_LOG_MIN_VERSION || version > MT_LOG_VERSION) {
        char known[48];
        if (MT_LOG_MIN_VERSION == MT_LOG_VERSION)
            snprintf(known, sizeof known, "version %d", MT_LOG_VERSION);
        else
            snprintf(known, sizeof known, "versions %d to %d", MT_LOG_MIN_VERSION, MT_LOG_VERSION);
        snprintf(err, errlen, "%s: log format version %u, this memtrace reads %s%s", r->name,
                 version, known,
                 version < MT_LOG_VERSION ? " (record it again with this memtrace)" : "");
        return -EPROTONOSUPPORT;
    }
    unsigned hlen = mt_get_u16le(h + 10);
    if (hlen != MT_LOG_HEADER_SIZE) {
        snprintf(err, errlen, "%s: bad header length %u", r->name, hlen);
        return -EINVAL;
    }
    r->version = version;
    if (r->stats)
        r->stats->version = version;
    r->start_ns = mt_get_u64le(h + 16);
    r->pid = mt_get_u32le(h + 24);
    r->flags = mt_get_u32le(h + 12);
    r->unit_us = mt_get_u32le(h + 28);
    if (r->unit_us == 0) {
        snprintf(err, errlen, "%s: bad time unit 0 in the file header", r->name);
        return -EINVAL;
    }
    r->file_off = MT_LOG_HEADER_SIZE;
    return 0;
}

static mt_reader_t *mt_reader_alloc(const char *name)
{
    size_t nl = strlen(name);
    mt_reader_t *r = calloc(1, sizeof *r + nl + 1);
    if (!r)
        return NULL;
    r->alloc_addr = malloc(MT_BACK_WINDOW * sizeof *r->alloc_addr);
    r->alloc_cls = malloc(MT_BACK_WINDOW * sizeof *r->alloc_cls);
    r->nodes = calloc(1, sizeof *r->nodes);
    r->sites = calloc(1, sizeof *r->sites);
    if (!r->alloc_addr || !r->alloc_cls || !r->nodes || !r->sites) {
        free(r->alloc_addr);
        free(r->alloc_cls);
        free(r->nodes);
        free(r->sites);
        free(r);
        return NULL;
    }
    r->next_node = 1;
    memcpy(r->namebuf, name, nl + 1);
    r->name = r->namebuf;
    r->fd = -1;
    return r;
}

int mt_reader_open(mt_reader_t **out, const char *path, char *err, size_t errlen)
{
    return mt_reader_open_follow(out, path, NULL, NULL, err, errlen);
}

static int mt_reader_open_file(mt_reader_t **out, const char *path, mt_follow_fn follow,
                               void *follow_arg, mt_log_stats_t *stats, int light, char *err,
                               size_t errlen);

int mt_reader_open_follow(mt_reader_t **out, const char *path, mt_follow_fn follow,
                          void *follow_arg, char *err, size_t errlen)
{
    return mt_reader_open_file(out, path, follow, follow_arg, NULL, 0, err, errlen);
}

int mt_reader_open_light(mt_reader_t **out, const char *path, mt_follow_fn follow, void *follow_arg,
                         char *err, size_t errlen)
{
    return mt_reader_open_file(out, path, follow, follow_arg, NULL, 1, err, errlen);
}

int mt_reader_open_stats(mt_reader_t **out, const char *path, mt_log_stats_t *stats, char *err,
                         size_t errlen)
{
    return mt_reader_open_file(out, path, NULL, NULL, stats, 0, err, errlen);
}

/* MEMTRACE_ANALYSIS_THREADS=1 decodes on the caller's thread (the same records, one core);
 * anything else, or unset, uses two. */
static int mt_reader_threads(void)
{
    const char *e = getenv("MEMTRACE_ANALYSIS_THREADS");
    return e && e[0] == '1' && e[1] == '\0' ? 1 : 2;
}

static void *mt_reader_decoder(void *arg);

/* Decoding is about half the analysis: the decoder thread does it beside the replay. Without
 * the thread (anything failed) the reader works the same, on the caller's thread. */
static void mt_reader_start_decoder(mt_reader_t *r)
{
    int i;
    for (i = 0; i < MT_READER_BATCHES; i++) {
        r->batches[i].heads = malloc(MT_BATCH_RECORDS * sizeof(mt_rec_head_t));
        r->batches[i].full = malloc(MT_BATCH_FULL * sizeof(mt_record_t));
        if (!r->batches[i].heads || !r->batches[i].full)
            return; /* the arrays are freed at close */
    }
    if (pthread_mutex_init(&r->mu, NULL) != 0)
        return;
    if (pthread_cond_init(&r->cv_prod, NULL) == 0) {
        if (pthread_cond_init(&r->cv_cons, NULL) == 0) {
            free(r->segs); /* each batch has its own from now on */
            free(r->args);
            r->segs = NULL;
            r->args = NULL;
            r->segs_cap = r->args_cap = 0;
            if (pthread_create(&r->thread, NULL, mt_reader_decoder, r) == 0) {
                r->threaded = 1;
                return;
            }
            pthread_cond_destroy(&r->cv_cons);
        }
        pthread_cond_destroy(&r->cv_prod);
    }
    pthread_mutex_destroy(&r->mu);
}

static int mt_reader_open_file(mt_reader_t **out, const char *path, mt_follow_fn follow,
                               void *follow_arg, mt_log_stats_t *stats, int light, char *err,
                               size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    int have_st = fstat(fd, &st) == 0;
    if (have_st && S_ISDIR(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s: %s", path, strerror(EISDIR));
        return -EISDIR;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    mt_reader_t *r = mt_reader_alloc(path);
    if (!r) {
        close(fd);
        snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
        return -ENOMEM;
    }
    r->fd = fd;
    r->follow = follow;
    r->follow_arg = follow_arg;
    r->stats = stats; /* before the prefetch thread inflates anything */
    r->size = have_st && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    int rc = mt_reader_init(r, err, errlen);
    if (rc < 0) {
        mt_reader_close(r);
        return rc;
    }
    /* Not for a log being written: it comes at the program's pace, so a decoder thread would
     * only add its batches' memory (2 MiB) beside the program and compete with it for the
     * idle core. Not for a light pass either (mt_reader_open_light). */
    if (!stats && !follow && !light && mt_reader_threads() > 1)
        mt_reader_start_decoder(r);
    *out = r;
    return 0;
}

int mt_reader_open_mem(mt_reader_t **out, const void *buf, size_t len, const char *name, char *err,
                       size_t errlen)
{
    *out = NULL;
    mt_reader_t *r = mt_reader_alloc(name ? name : "<memory>");
    if (!r) {
        snprintf(err, errlen, "%s: %s", name ? name : "<memory>", strerror(ENOMEM));
        return -ENOMEM;
    }
    r->mem = buf;
    r->mem_len = buf ? len : 0;
    r->size = r->mem_len;
    int rc = mt_reader_init(r, err, errlen);
    if (rc < 0) {
        mt_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

void mt_reader_close(mt_reader_t *r)
{
    if (!r)
        return;
    if (r->threaded) {
        pthread_mutex_lock(&r->mu);
        __atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&r->cv_prod);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv_prod);
        pthread_cond_destroy(&r->cv_cons);
    }
    /* Only now: the decoder thread may have been reading it. */
    if (r->fd >= 0)
        close(r->fd);
    if (r->z_ready)
        inflateEnd(&r->z);
    ZSTD_freeDCtx(r->zd);
#if MT_HAVE_LIBDEFLATE
    libdeflate_free_decompressor(r->ld);
#endif
    free(r->comp);
    for (int i = 0; i < MT_READER_SLOTS; i++)
        free(r->slots[i].raw);
    for (int i = 0; i < MT_READER_BATCHES; i++) {
        free(r->batches[i].heads);
        free(r->batches[i].full);
        free(r->batches[i].segs);
        free(r->batches[i].args);
    }
    free(r->segs);
    free(r->args);
    free(r->alloc_addr);
    free(r->alloc_cls);
    free(r->nodes);
    free(r->sites);
    free(r);
}

/* The common case (values below 128: tags, small deltas, node ids of hot stacks) stays inline;
 * everything else goes through the shared checked decoder. */
#define MT_GETV(x)                                                                                 \
    do {                                                                                           \
        if (p < end && *p < 0x80) {                                                                \
            (x) = *p++;                                                                            \
        } else if (mt_varint_get(&p, end, &(x)) < 0) {                                             \
            goto corrupt;                                                                          \
        }                                                                                          \
    } while (0)

#define MT_GETSTR(s)                                                                               \
    do {                                                                                           \
        uint64_t len_;                                                                             \
        MT_GETV(len_);                                                                             \
        if (len_ > (uint64_t)(end - p))                                                            \
            goto corrupt;                                                                          \
        (s).ptr = (const char *)p;                                                                 \
        (s).len = (size_t)len_;                                                                    \
        p += len_;                                                                                 \
        r->chunk_strings = 1;                                                                      \
    } while (0)

/* A field of stream k (log_format.h: sizes, addresses, node ids, back references, times). */
#define MT_GETS(k, x)                                                                              \
    do {                                                                                           \
        const uint8_t *q_ = r->sp[k];                                                              \
        if (q_ < r->se[k] && *q_ < 0x80) {                                                         \
            (x) = *q_;                                                                             \
            r->sp[k] = q_ + 1;                                                                     \
        } else if (mt_varint_get(&r->sp[k], r->se[k], &(x)) < 0) {                                 \
            goto corrupt;                                                                          \
        }                                                                                          \
    } while (0)

/* The clock of the timed record being decoded (log_format.h, Time): T's pairs say how many
 * timed records happen at the clock before it advances. */
static inline int mt_reader_tick(mt_reader_t *r)
{
    while (r->left == 0) {
        uint64_t n, dt;
        r->clock += r->advance;
        r->advance = 0;
        const uint64_t limit = UINT64_MAX / 2 / r->unit_us; /* times stay far from overflow */
        if (mt_varint_get(&r->sp[MT_STREAM_TIME], r->se[MT_STREAM_TIME], &n) < 0 ||
            mt_varint_get(&r->sp[MT_STREAM_TIME], r->se[MT_STREAM_TIME], &dt) < 0 ||
            dt > limit - r->clock)
            return -1;
        r->left = n;
        r->advance = dt;
    }
    r->left--;
    r->last_time_us = r->clock * r->unit_us;
    return 0;
}

#define MT_GETTIME()                                                                               \
    do {                                                                                           \
        if (mt_reader_tick(r) < 0)                                                                 \
            goto corrupt;                                                                          \
        rec->time_us = r->last_time_us;                                                            \
    } while (0)

#define MT_GETADDR()                                                                               \
    do {                                                                                           \
        uint64_t z_;                                                                               \
        MT_GETS(MT_STREAM_ADDR, z_);                                                               \
        r->last_addr += (uint64_t)mt_unzigzag(z_);                                                 \
        rec->addr = r->last_addr;                                                                  \
    } while (0)

/* Numbers an allocation, as the encoder does (log_format.h). */
static inline void mt_reader_number(mt_reader_t *r, uint64_t addr, uint64_t size)
{
    uint32_t slot = (uint32_t)(r->nallocs++ & (MT_BACK_WINDOW - 1));
    r->alloc_addr[slot] = addr;
    r->alloc_cls[slot] = (uint16_t)mt_size_class(size);
}

/* The block a back reference names, pushed on its reuse stack; -1 when out of range. */
static inline int mt_reader_back(mt_reader_t *r, uint64_t back, uint64_t *addr)
{
    if (back >= MT_BACK_WINDOW || back >= r->nallocs)
        return -1;
    uint32_t slot = (uint32_t)((r->nallocs - 1 - back) & (MT_BACK_WINDOW - 1));
    *addr = r->alloc_addr[slot];
    mt_reuse_push(&r->reuse, r->alloc_cls[slot], *addr);
    return 0;
}

/* The next free of the FREE_RUN being delivered: back references first, then addresses. */
static int mt_reader_run_next(mt_reader_t *r, mt_record_t *rec)
{
    uint64_t v;
    rec->tag = MT_TAG_FREE;
    rec->tid = r->tid;
    rec->time_us = r->run_time_us;
    if (r->run_backs) {
        r->run_backs--;
        if (mt_varint_get(&r->sp[MT_STREAM_BACK], r->se[MT_STREAM_BACK], &v) < 0)
            goto corrupt;
        if (!r->run_first && (v >= MT_BACK_WINDOW || r->run_back + 1 + v < r->run_back))
            goto corrupt;
        r->run_back = r->run_first ? v : r->run_back + 1 + v;
        r->run_first = 0;
        if (mt_reader_back(r, r->run_back, &rec->addr) < 0)
            goto corrupt;
        if (!r->run_backs)
            r->run_first = 1;
    } else {
        r->run_addrs--;
        if (mt_varint_get(&r->sp[MT_STREAM_RUN], r->se[MT_STREAM_RUN], &v) < 0)
            goto corrupt;
        if (!r->run_first && v > UINT64_MAX >> r->run_shift)
            goto corrupt;
        r->last_addr += r->run_first ? (uint64_t)mt_unzigzag(v) : v << r->run_shift;
        r->run_first = 0;
        rec->addr = r->last_addr;
    }
    r->events++;
    return 1;

corrupt:
    r->run_backs = r->run_addrs = 0;
    mt_reader_set_truncated(r, "corrupt FREE_RUN in chunk %" PRIu64, r->chunk_index);
    return 0;
}

/* The record a heap record's fields w (as written: log_model.h) stand for with the model as it
 * is now, which they update; -1 when they are corrupt. A REPEAT's records come through here
 * exactly as the ones they repeat did. */
static inline int mt_reader_heap(mt_reader_t *r, const mt_rep_rec_t *w, mt_record_t *rec)
{
    unsigned tag = w->tag;
    if (mt_reader_tick(r) < 0)
        return -1;
    rec->time_us = r->last_time_us;
    if ((tag & 0xf0) == 0x20) {
        if (tag >= MT_TAG_FREE_BACK) { /* FREE_BACK, REALLOC_RELEASE_BACK */
            rec->tag = tag == MT_TAG_FREE_BACK ? MT_TAG_FREE : MT_TAG_REALLOC_RELEASE;
            if (mt_reader_back(r, w->a, &rec->addr) < 0)
                return -1;
        } else { /* FREE, REALLOC_RELEASE, REALLOC_FAILED */
            rec->tag = (uint8_t)tag;
            r->last_addr += (uint64_t)mt_unzigzag(w->a);
            rec->addr = r->last_addr;
        }
        r->events++;
        return 0;
    }
    rec->tag = MT_TAG_ALLOC;
    rec->alloc_kind = tag & 0x0f;
    if (r->version >= 7) {
        uint32_t node;
        if (mt_site_node_decode(r->sites, w->node, &node) < 0)
            return -1;
        rec->node = node;
        rec->size = mt_site_size_decode(r->sites, node, w->size);
        mt_site_learn(r->sites, node, rec->size);
    } else {
        rec->node = (uint32_t)w->node;
        rec->size = w->size;
    }
    uint32_t cls = mt_size_class(rec->size);
    unsigned form = tag & 0xf0;
    if (form == MT_TAG_ALLOC_REUSE || form == MT_TAG_ALLOC_REUSE_AT) {
        uint64_t depth = form == MT_TAG_ALLOC_REUSE_AT ? w->a + 1 : 0;
        if (cls >= MT_REUSE_CLASSES || depth >= r->reuse.n[cls])
            return -1;
        rec->addr = mt_reuse_take(&r->reuse, cls, (unsigned)depth);
    } else {
        if (form == MT_TAG_ALLOC_NEXT) {
            if (!r->next_addr)
                return -1;
            rec->addr = r->next_addr;
        } else if (form == MT_TAG_ALLOC_PREV) { /* version 9: a recent allocation's address */
            uint64_t *p = mt_prev_base(r->prev_named, r->version, cls);
            uint64_t num = *p + 1 + (uint64_t)mt_unzigzag(w->a);
            if (num >= r->nallocs || r->nallocs - num > MT_BACK_WINDOW)
                return -1;
            *p = num;
            rec->addr = r->alloc_addr[num & (MT_BACK_WINDOW - 1)];
        } else {
            r->last_addr += (uint64_t)mt_unzigzag(w->a);
            rec->addr = r->last_addr;
        }
        if (rec->size < MT_NEXT_MAX_SIZE)
            r->next_addr = rec->addr + mt_chunk_span(rec->size);
    }
    mt_reader_number(r, rec->addr, rec->size);
    r->events++;
    return 0;
}

/* A heap record joins the chunk's history (the records a REPEAT may name). */
static inline void mt_reader_rep_push(mt_reader_t *r, const mt_rep_rec_t *w)
{
    r->rep_hist[r->rep_n++ & (MT_REP_WINDOW - 1)] = *w;
}

/* The next record of the REPEAT being delivered. */
static int mt_reader_rep_next(mt_reader_t *r, mt_record_t *rec)
{
    /* a copy: at distance MT_REP_WINDOW the push below takes its slot */
    mt_rep_rec_t w = r->rep_hist[(r->rep_n - r->rep_dist) & (MT_REP_WINDOW - 1)];
    r->rep_left--;
    rec->tid = r->tid;
    if (mt_reader_heap(r, &w, rec) < 0) {
        r->rep_left = 0;
        mt_reader_set_truncated(r, "corrupt REPEAT in chunk %" PRIu64, r->chunk_index);
        return 0;
    }
    mt_reader_rep_push(r, &w);
    return 1;
}

/* The 16 tags of an allocation form (the low nibble is the mt_alloc_kind). */
#define MT_CASE16(t)                                                                               \
    case (t) + 0x0:                                                                                \
    case (t) + 0x1:                                                                                \
    case (t) + 0x2:                                                                                \
    case (t) + 0x3:                                                                                \
    case (t) + 0x4:                                                                                \
    case (t) + 0x5:                                                                                \
    case (t) + 0x6:                                                                                \
    case (t) + 0x7:                                                                                \
    case (t) + 0x8:                                                                                \
    case (t) + 0x9:                                                                                \
    case (t) + 0xa:                                                                                \
    case (t) + 0xb:                                                                                \
    case (t) + 0xc:                                                                                \
    case (t) + 0xd:                                                                                \
    case (t) + 0xe:                                                                                \
    case (t) + 0xf

/* True while the current chunk has records left (a FREE_RUN's frees included). */
static inline int mt_reader_in_chunk(const mt_reader_t *r)
{
    return (r->run_backs | r->run_addrs | r->rep_left) != 0 || r->pos < r->end;
}

/* Decodes the next record of the current chunk (mt_reader_in_chunk, state OK): 1, 0 when it
 * is corrupt (the stream ends truncated), or a negative errno. A record without a time of its
 * own gets the time of the last timed one, which is what mt_reader_last_time_us reports after
 * it. */
static inline int mt_reader_decode_one(mt_reader_t *r, mt_record_t *rec)
{
    if (r->run_backs | r->run_addrs)
        return mt_reader_run_next(r, rec);
    if (r->rep_left)
        return mt_reader_rep_next(r, rec);
    const uint8_t *p = r->pos, *end = r->end;
    uint8_t tag = *p++;
    uint64_t v;
    r->wire_tag = tag;
    rec->tid = r->tid;
    rec->time_us = r->last_time_us;
    switch (tag) {
        MT_CASE16(MT_TAG_ALLOC)
            : MT_CASE16(MT_TAG_ALLOC_REUSE)
            : MT_CASE16(MT_TAG_ALLOC_NEXT)
            : MT_CASE16(MT_TAG_ALLOC_REUSE_AT) : MT_CASE16(MT_TAG_ALLOC_PREV) :
        {
            mt_rep_rec_t w = {.tag = tag};
            uint8_t form = tag & 0xf0;
            if (form == MT_TAG_ALLOC_PREV && r->version < 9)
                goto corrupt; /* no such record before version 9 */
            MT_GETS(MT_STREAM_SIZE, w.size);
            if (form == MT_TAG_ALLOC_REUSE_AT)
                MT_GETS(MT_STREAM_BACK, w.a);
            else if (form == MT_TAG_ALLOC_PREV)
                MT_GETS(MT_STREAM_RUN, w.a);
            else if (form == MT_TAG_ALLOC)
                MT_GETS(MT_STREAM_ADDR, w.a);
            MT_GETS(MT_STREAM_NODE, w.node);
            if (r->version < 7 && w.node > UINT32_MAX)
                goto corrupt; /* version 7's node codes: mt_reader_heap */
            if (mt_reader_heap(r, &w, rec) < 0)
                goto corrupt;
            mt_reader_rep_push(r, &w);
            break;
        }
    case MT_TAG_FREE_BACK:
    case MT_TAG_REALLOC_RELEASE_BACK:
    case MT_TAG_FREE:
    case MT_TAG_REALLOC_RELEASE:
    case MT_TAG_REALLOC_FAILED: {
        mt_rep_rec_t w = {.tag = tag};
        if (tag >= MT_TAG_FREE_BACK)
            MT_GETS(MT_STREAM_BACK, w.a);
        else
            MT_GETS(MT_STREAM_ADDR, w.a);
        if (mt_reader_heap(r, &w, rec) < 0)
            goto corrupt;
        mt_reader_rep_push(r, &w);
        break;
    }
    case MT_TAG_REPEAT: {
        /* version 6; the records it names are of this chunk (log_format.h) */
        uint64_t dist, len;
        MT_GETV(dist);
        MT_GETV(len);
        if (r->version < 6 || dist == 0 || dist > MT_REP_WINDOW || dist > r->rep_n || len == 0 ||
            len > MT_REP_LEN_MAX)
            goto corrupt;
        r->pos = p;
        r->rep_dist = (uint32_t)dist;
        r->rep_left = len;
        return mt_reader_rep_next(r, rec);
    }
    case MT_TAG_FREE_RUN: {
        uint64_t nb, na;
        MT_GETTIME();
        MT_GETV(nb);
        MT_GETV(na);
        /* version 5: na's low bit says the gaps are in 16-byte units */
        r->run_shift = r->version >= 5 && (na & 1) ? 4 : 0;
        if (r->version >= 5)
            na >>= 1;
        /* each free takes at least a byte of its stream */
        if (nb > (uint64_t)(r->se[MT_STREAM_BACK] - r->sp[MT_STREAM_BACK]) ||
            na > (uint64_t)(r->se[MT_STREAM_RUN] - r->sp[MT_STREAM_RUN]) || nb + na == 0)
            goto corrupt;
        r->pos = p;
        r->run_backs = nb;
        r->run_addrs = na;
        r->run_first = 1;
        r->run_time_us = rec->time_us;
        return mt_reader_run_next(r, rec);
    }
    case MT_TAG_CUSTOM_FREE:
        rec->tag = tag;
        MT_GETTIME();
        MT_GETADDR();
        r->events++;
        break;
    case MT_TAG_MMAP:
        rec->tag = tag;
        MT_GETTIME();
        MT_GETS(MT_STREAM_SIZE, rec->size);
        MT_GETADDR();
        MT_GETS(MT_STREAM_NODE, v);
        if (v > UINT32_MAX)
            goto corrupt;
        rec->node = (uint32_t)v;
        MT_GETV(v);
        rec->alloc_kind = (uint8_t)(v > 255 ? 255 : v);
        r->events++;
        break;
    case MT_TAG_MUNMAP:
        rec->tag = tag;
        MT_GETTIME();
        MT_GETS(MT_STREAM_SIZE, rec->size);
        MT_GETADDR();
        r->events++;
        break;
    case MT_TAG_THREAD:
        rec->tag = tag;
        MT_GETV(r->tid);
        rec->tid = r->tid;
        break;
    case MT_TAG_TRACE_NODE_IP:
    case MT_TAG_TRACE_NODE_AT:
    case MT_TAG_TRACE_NODE: {
        rec->tag = MT_TAG_TRACE_NODE;
        if (tag != MT_TAG_TRACE_NODE)
            MT_GETV(r->next_node);
        if (tag == MT_TAG_TRACE_NODE_IP)
            MT_GETV(rec->ip);
        rec->id = r->next_node++;
        MT_GETS(MT_STREAM_PARENT, v);
        rec->parent = rec->id - (uint64_t)mt_unzigzag(v);
        if (tag == MT_TAG_TRACE_NODE_IP) {
            mt_node_whole(r->nodes, rec->id, rec->parent, rec->ip);
        } else {
            MT_GETS(MT_STREAM_IP, v);
            rec->ip = mt_node_decode(r->nodes, rec->id, rec->parent, v);
        }
        break;
    }
    case MT_TAG_SAMPLE: {
        rec->tag = tag;
        MT_GETTIME();
        uint64_t mask;
        MT_GETV(mask);
        if (mask >> MT_SAMPLE_FIELDS)
            goto corrupt;
        for (unsigned i = 0; i < MT_SAMPLE_FIELDS; i++) {
            if (mask >> i & 1) {
                MT_GETV(v);
                r->sample[i] += (uint64_t)mt_unzigzag(v);
            }
        }
        mt_sample_from_fields(&rec->sample, r->sample);
        break;
    }
    case MT_TAG_PROCESS: {
        rec->tag = tag;
        MT_GETV(rec->a);
        MT_GETV(rec->b);
        MT_GETV(rec->c);
        MT_GETSTR(rec->str);
        uint64_t argc;
        MT_GETV(argc);
        if (argc > (uint64_t)(end - p))
            goto corrupt; /* each argument takes at least its length byte */
        size_t keep = argc > MT_READER_MAX_ARGS ? MT_READER_MAX_ARGS : (size_t)argc;
        if (keep > r->args_cap) {
            mt_str_t *na = realloc(r->args, keep * sizeof *na);
            if (!na)
                return -ENOMEM;
            r->args = na;
            r->args_cap = keep;
        }
        for (uint64_t i = 0; i < argc; i++) {
            mt_str_t s;
            MT_GETSTR(s);
            if (i < keep)
                r->args[i] = s;
        }
        rec->argv = r->args;
        rec->argc = keep;
        break;
    }
    case MT_TAG_MODULE_LOAD: {
        rec->tag = tag;
        MT_GETV(rec->id);
        MT_GETV(rec->ip);
        MT_GETSTR(rec->str);
        MT_GETSTR(rec->build_id);
        uint64_t nseg;
        MT_GETV(nseg);
        if (nseg > MT_READER_MAX_SEGS)
            goto corrupt;
        if (nseg > r->segs_cap) {
            mt_segment_t *ns = realloc(r->segs, (size_t)nseg * sizeof *ns);
            if (!ns)
                return -ENOMEM;
            r->segs = ns;
            r->segs_cap = (size_t)nseg;
        }
        for (uint64_t i = 0; i < nseg; i++) {
            MT_GETV(r->segs[i].vaddr);
            MT_GETV(r->segs[i].memsz);
            MT_GETV(r->segs[i].flags);
        }
        rec->segs = r->segs;
        rec->nsegs = (size_t)nseg;
        break;
    }
    case MT_TAG_MODULE_UNLOAD:
        rec->tag = tag;
        MT_GETV(rec->id);
        break;
    case MT_TAG_THREAD_NAME:
        rec->tag = tag;
        MT_GETV(rec->a);
        MT_GETSTR(rec->str);
        break;
    case MT_TAG_EXIT:
        rec->tag = tag;
        MT_GETTIME();
        MT_GETV(rec->a);
        MT_GETV(rec->b);
        break;
    case MT_TAG_NOTICE:
        rec->tag = tag;
        MT_GETTIME();
        MT_GETV(rec->a);
        MT_GETSTR(rec->str);
        break;
    case MT_TAG_FORK:
        rec->tag = tag;
        MT_GETTIME();
        MT_GETV(rec->a);
        break;
    case MT_TAG_ORIGIN:
        rec->tag = tag;
        MT_GETSTR(rec->str);
        MT_GETV(rec->a);
        MT_GETV(rec->b);
        MT_GETV(rec->c);
        MT_GETSTR(rec->str2);
        break;
    case MT_TAG_NEXT_LOG:
        rec->tag = tag;
        MT_GETSTR(rec->str);
        break;
    case MT_TAG_LEAK_SCAN:
        rec->tag = tag;
        MT_GETTIME();
        MT_GETV(rec->a);
        MT_GETV(rec->b);
        MT_GETV(rec->c);
        MT_GETV(rec->size);
        break;
    case MT_TAG_LEAK_BLOCK:
        rec->tag = tag;
        MT_GETADDR();
        MT_GETV(rec->a);
        rec->b = 0;
        if (rec->a == 0) {
            MT_GETV(rec->b);
        } else if (rec->a == 1) {
            MT_GETV(v);
            rec->b = rec->addr + (uint64_t)mt_unzigzag(v);
        } else if (rec->a != 2) {
            goto corrupt; /* the fields that follow depend on the kind: cannot go on */
        }
        break;
    case MT_TAG_LEAK_SCAN_END:
        rec->tag = tag;
        MT_GETV(rec->a);
        break;
    case MT_TAG_AGG_HEAP:
        rec->tag = tag;
        MT_GETTIME();
        MT_GETSTR(rec->str);
        break;
    case MT_TAG_AGG_SITE:
        rec->tag = tag;
        MT_GETTIME();
        MT_GETS(MT_STREAM_NODE, v);
        if (v > UINT32_MAX)
            goto corrupt;
        rec->node = (uint32_t)v;
        MT_GETV(rec->a);
        MT_GETS(MT_STREAM_SIZE, rec->size);
        MT_GETV(rec->b);
        MT_GETV(rec->c);
        MT_GETV(rec->id);
        break;
    case MT_TAG_AGG_LIVE:
        rec->tag = tag;
        MT_GETTIME();
        MT_GETS(MT_STREAM_SIZE, rec->size);
        MT_GETADDR();
        MT_GETS(MT_STREAM_NODE, v);
        if (v > UINT32_MAX)
            goto corrupt;
        rec->node = (uint32_t)v;
        MT_GETV(v);
        if (v >= MT_ALLOC_KIND_COUNT || v == MT_ALLOC_INHERITED)
            goto corrupt;
        rec->alloc_kind = (uint8_t)v;
        break;
    case MT_TAG_PY_INTERP:
        rec->tag = tag;
        MT_GETV(rec->a);
        MT_GETV(rec->b);
        MT_GETV(rec->c);
        MT_GETV(rec->addr);
        MT_GETV(rec->size);
        break;
    case MT_TAG_PY_CODE:
        rec->tag = tag;
        MT_GETV(rec->id);
        MT_GETV(rec->a);
        MT_GETSTR(rec->str);
        MT_GETSTR(rec->str2);
        break;
    case MT_TAG_PY_LOCATION:
        rec->tag = tag;
        MT_GETV(rec->id);
        MT_GETV(rec->parent);
        MT_GETV(rec->a);
        break;
    case MT_TAG_PY_SCRIPT_END:
        rec->tag = tag;
        MT_GETTIME();
        break;
    case MT_TAG_PY_ARENA_ALLOC:
    case MT_TAG_PY_ARENA_FREE:
        rec->tag = tag;
        MT_GETTIME();
        MT_GETS(MT_STREAM_SIZE, rec->size);
        MT_GETADDR();
        break;
    default:
        /* Records carry no length, so an unknown tag cannot be skipped. */
        goto corrupt;
    }
    r->pos = p;
    return 1;

corrupt:
    mt_reader_set_truncated(r, "corrupt record (tag 0x%02x) in chunk %" PRIu64, tag,
                            r->chunk_index);
    return 0;
}

/* The next record, on the caller's thread: chunks are loaded here as they are needed. */
static inline int mt_reader_decode(mt_reader_t *r, mt_record_t *rec)
{
    while (r->state == MT_READER_OK && !mt_reader_in_chunk(r)) {
        int rc = mt_reader_load_chunk(r, &r->slots[0]);
        if (rc < 0) {
            mt_reader_set_truncated(r, "read error: %s", strerror(-rc));
            return rc;
        }
    }
    if (r->state != MT_READER_OK)
        return 0;
    return mt_reader_decode_one(r, rec);
}

/* ---- the decoder thread and the queue of batches ---- */

enum { MT_WAIT_BATCH = 1, MT_WAIT_SLOT = 2 };

/* Waits, on the decoder thread, until the caller no longer reads the chunk in slot (which
 * held only when one of its records had a string). 0, or -1 when the reader is closing. */
static int mt_reader_wait_slot(mt_reader_t *r, const mt_slot_t *slot)
{
    pthread_mutex_lock(&r->mu);
    if (slot->held && r->cons_waiting) /* for a batch this thread put without waking it */
        pthread_cond_signal(&r->cv_cons);
    r->slot_waits += slot->held && !r->stop;
    while (slot->held && !r->stop) {
        r->prod_waiting = MT_WAIT_SLOT;
        pthread_cond_wait(&r->cv_prod, &r->mu);
        r->prod_waiting = 0;
    }
    int stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop ? -1 : 0;
}

/* The next empty batch, on the decoder thread; NULL when the reader is closing. */
static mt_batch_t *mt_reader_batch_get(mt_reader_t *r)
{
    pthread_mutex_lock(&r->mu);
    while (r->bfilled == MT_READER_BATCHES && !r->stop) {
        r->prod_waiting = MT_WAIT_BATCH;
        pthread_cond_wait(&r->cv_prod, &r->mu);
        r->prod_waiting = 0;
    }
    int stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop ? NULL : &r->batches[r->bprod];
}

/* Hands a filled batch to the caller. A waiting caller is woken once half the queue is ready,
 * at the stream's end, at a chunk's end when the file is followed (the next one may be long to
 * come), and before this thread waits for the caller (mt_reader_wait_freed). */
static void mt_reader_batch_put(mt_reader_t *r, const mt_batch_t *b)
{
    pthread_mutex_lock(&r->mu);
    if (b->held)
        r->slots[b->chunk % MT_READER_SLOTS].held = 1;
    r->bprod = (r->bprod + 1) % MT_READER_BATCHES;
    r->bfilled++;
    if (r->cons_waiting && (r->bfilled >= MT_READER_BATCHES / 2 || b->status != MT_READER_OK ||
                            (b->last && r->follow)))
        pthread_cond_signal(&r->cv_cons);
    pthread_mutex_unlock(&r->mu);
}

/* Decodes one chunk into batches; 0 when the stream goes on, -1 when it ended or the reader
 * is closing. */
static int mt_reader_decode_chunk(mt_reader_t *r)
{
    uint64_t c = r->chunks_made++;
    if (mt_reader_wait_slot(r, &r->slots[c % MT_READER_SLOTS]) < 0)
        return -1;
    r->chunk_strings = 0;
    int rc = mt_reader_load_chunk(r, &r->slots[c % MT_READER_SLOTS]);
    if (rc < 0)
        mt_reader_set_truncated(r, "read error: %s", strerror(-rc));
    for (;;) {
        mt_batch_t *b = mt_reader_batch_get(r);
        if (!b)
            return -1;
        b->n = b->nfull = 0;
        b->chunk = c;
        b->end_off = r->done_off;
        b->events0 = r->events;
        b->time0 = r->last_time_us;
        r->segs = b->segs; /* a PROCESS or MODULE_LOAD points into its own batch's arrays */
        r->segs_cap = b->segs_cap;
        r->args = b->args;
        r->args_cap = b->args_cap;
        while (b->n < MT_BATCH_RECORDS && r->state == MT_READER_OK && mt_reader_in_chunk(r)) {
            mt_record_t *rec = &r->scratch;
            int d = mt_reader_decode_one(r, rec);
            if (d <= 0) {
                rc = d < 0 ? d : rc;
                break;
            }
            memcpy(&b->heads[b->n++], rec, MT_REC_HEAD);
            if (rec->tag != MT_TAG_ALLOC && rec->tag != MT_TAG_FREE) {
                b->full[b->nfull++] = *rec;
                if (b->nfull == MT_BATCH_FULL || rec->tag == MT_TAG_PROCESS ||
                    rec->tag == MT_TAG_MODULE_LOAD)
                    break;
            }
        }
        b->segs = r->segs;
        b->segs_cap = r->segs_cap;
        b->args = r->args;
        b->args_cap = r->args_cap;
        r->segs = NULL;
        r->args = NULL;
        b->time_end = r->last_time_us;
        b->status = rc < 0 ? rc : (int)r->state;
        b->last = b->status != MT_READER_OK || !mt_reader_in_chunk(r);
        b->held = b->last && r->chunk_strings;
        snprintf(b->reason, sizeof b->reason, "%s", r->reason);
        int last = b->last, status = b->status;
        mt_reader_batch_put(r, b);
        if (status != MT_READER_OK)
            return -1;
        if (last)
            return 0;
    }
}

static void *mt_reader_decoder(void *arg)
{
    mt_reader_t *r = arg;
    while (mt_reader_decode_chunk(r) == 0) {
    }
    return NULL;
}

/* The caller is done with its batch: back to the decoder, and with it the batch's chunk when
 * it was that chunk's last. */
static void mt_reader_batch_release(mt_reader_t *r, const mt_batch_t *b)
{
    pthread_mutex_lock(&r->mu);
    r->bcons = (r->bcons + 1) % MT_READER_BATCHES;
    r->bfilled--;
    if (b->held)
        r->slots[b->chunk % MT_READER_SLOTS].held = 0;
    if ((r->prod_waiting == MT_WAIT_BATCH && r->bfilled <= MT_READER_BATCHES / 2) ||
        (r->prod_waiting == MT_WAIT_SLOT && b->held))
        pthread_cond_signal(&r->cv_prod);
    pthread_mutex_unlock(&r->mu);
}

/* The stream ended after batch b (its status): the caller's state says how. */
static int mt_reader_batch_end(mt_reader_t *r, const mt_batch_t *b)
{
    if (b->status == MT_READER_END) {
        r->cstate = MT_READER_END;
        return 0;
    }
    r->cstate = MT_READER_TRUNCATED;
    snprintf(r->creason, sizeof r->creason, "%s",
             b->reason[0] ? b->reason : "out of memory while decoding");
    return b->status < 0 ? b->status : 0;
}

/* A threaded reader's current batch with records left to deliver: 1, or at the stream's end
 * what mt_reader_next returns there. */
static int mt_reader_fill(mt_reader_t *r)
{
    for (;;) {
        if (__builtin_expect(r->cstate != MT_READER_OK, 0))
            return 0;
        mt_batch_t *b = r->cb;
        if (__builtin_expect(b && r->ci < b->n, 1))
            return 1;
        if (b) {
            if (b->status != MT_READER_OK)
                return mt_reader_batch_end(r, b);
            mt_reader_batch_release(r, b);
        }
        pthread_mutex_lock(&r->mu);
        while (r->bfilled == 0) {
            r->cons_waiting = 1;
            pthread_cond_wait(&r->cv_cons, &r->mu);
            r->cons_waiting = 0;
        }
        pthread_mutex_unlock(&r->mu);
        r->cb = &r->batches[r->bcons];
        r->ci = r->cf = 0;
        r->cdone_off = r->cb->end_off;
    }
}

/* mt_reader_next of a threaded reader: the next record of the decoded batches. */
static inline int mt_reader_next_threaded(mt_reader_t *r, mt_record_t *rec)
{
    int rc = mt_reader_fill(r);
    if (__builtin_expect(rc != 1, 0))
        return rc;
    mt_batch_t *b = r->cb;
    const mt_rec_head_t *h = &b->heads[r->ci++];
    /* a heap event's other fields are stale (log_reader.h): only its head */
    if (__builtin_expect(h->b[0] == MT_TAG_ALLOC || h->b[0] == MT_TAG_FREE, 1))
        memcpy(rec, h, MT_REC_HEAD);
    else
        *rec = b->full[r->cf++];
    return 1;
}

int mt_reader_peek(mt_reader_t *r, const unsigned char **heads, size_t *n)
{
    *n = 0;
    if (!r->threaded)
        return 1;
    int rc = mt_reader_fill(r);
    if (rc == 1) {
        *heads = r->cb->heads[r->ci].b;
        *n = r->cb->n - r->ci;
    }
    return rc;
}

void mt_reader_skip(mt_reader_t *r, size_t k)
{
    r->ci += (uint32_t)k;
}

/* The cursors of all streams (the main stream's is pos). */
static void mt_reader_cursors(const mt_reader_t *r, const uint8_t **c)
{
    c[0] = r->pos;
    for (int k = 1; k < MT_STREAMS; k++)
        c[k] = r->sp[k];
}

/* mt_reader_decode, counting the record's bytes in every stream by the tag it was written
 * with (a FREE_RUN's frees after its first go to the run, not as records of their own). */
static int mt_reader_next_counted(mt_reader_t *r, mt_record_t *rec)
{
    const uint8_t *before[MT_STREAMS], *after[MT_STREAMS];
    uint64_t chunk = r->chunk_index;
    int in_run = (r->run_backs | r->run_addrs) != 0, in_rep = r->rep_left != 0;
    mt_reader_cursors(r, before);
    int rc = mt_reader_decode(r, rec);
    if (rc != 1)
        return rc;
    if (r->chunk_index != chunk) /* the record is the first of a new chunk */
        memcpy(before, r->sp0, sizeof before);
    mt_reader_cursors(r, after);
    uint64_t bytes = 0;
    for (int k = 0; k < MT_STREAMS; k++) /* the clock's pairs belong to no record */
        bytes += k == MT_STREAM_TIME ? 0 : (uint64_t)(after[k] - before[k]);
    uint8_t tag = in_run ? MT_TAG_FREE_RUN : in_rep ? MT_TAG_REPEAT : r->wire_tag;
    r->stats->tag_records[tag] += !in_run && !in_rep;
    r->stats->tag_bytes[tag] += bytes;
    return rc;
}

int mt_reader_next(mt_reader_t *r, mt_record_t *rec)
{
    if (r->threaded)
        return mt_reader_next_threaded(r, rec);
    if (__builtin_expect(r->stats != NULL, 0))
        return mt_reader_next_counted(r, rec);
    return mt_reader_decode(r, rec);
}

int mt_reader_threaded(const mt_reader_t *r)
{
    return r->threaded;
}

uint64_t mt_reader_slot_waits(mt_reader_t *r)
{
    if (!r->threaded)
        return 0;
    pthread_mutex_lock(&r->mu);
    uint64_t n = r->slot_waits;
    pthread_mutex_unlock(&r->mu);
    return n;
}

uint64_t mt_reader_ahead(const mt_reader_t *r, unsigned k)
{
    const mt_batch_t *b = r->cb;
    if (!b || r->ci + k > b->n || k == 0)
        return 0;
    const mt_rec_head_t *h = &b->heads[r->ci + k - 1];
    if (h->b[0] != MT_TAG_ALLOC && h->b[0] != MT_TAG_FREE)
        return 0;
    uint64_t addr;
    memcpy(&addr, h->b + offsetof(mt_record_t, addr), sizeof addr);
    return addr;
}

enum mt_reader_state mt_reader_state(const mt_reader_t *r)
{
    return r->threaded ? r->cstate : r->state;
}

const char *mt_reader_reason(const mt_reader_t *r)
{
    return r->threaded ? r->creason : r->reason;
}

static int mt_tag_is_event(uint8_t tag)
{
    return tag == MT_TAG_ALLOC || tag == MT_TAG_FREE || tag == MT_TAG_REALLOC_RELEASE ||
           tag == MT_TAG_REALLOC_FAILED || tag == MT_TAG_MMAP || tag == MT_TAG_MUNMAP ||
           tag == MT_TAG_CUSTOM_FREE;
}

uint64_t mt_reader_events(const mt_reader_t *r)
{
    if (!r->threaded)
        return r->events;
    if (!r->cb)
        return 0;
    uint64_t n = r->cb->events0; /* rarely asked: counted in the batch only then */
    for (uint32_t i = 0; i < r->ci; i++)
        n += (uint64_t)mt_tag_is_event(r->cb->heads[i].b[0]);
    return n;
}

uint64_t mt_reader_bytes_done(const mt_reader_t *r)
{
    return r->threaded ? r->cdone_off : r->done_off;
}

uint64_t mt_reader_size(const mt_reader_t *r)
{
    return r->size;
}

uint64_t mt_reader_last_time_us(const mt_reader_t *r)
{
    if (!r->threaded)
        return r->last_time_us;
    const mt_batch_t *b = r->cb;
    if (!b)
        return 0;
    if (r->ci == 0 || r->ci == b->n)
        return r->ci ? b->time_end : b->time0;
    uint64_t t;
    memcpy(&t, b->heads[r->ci - 1].b + offsetof(mt_record_t, time_us), sizeof t);
    return t;
}

const char *mt_reader_name(const mt_reader_t *r)
{
    return r->name;
}

uint64_t mt_reader_start_realtime_ns(const mt_reader_t *r)
{
    return r->start_ns;
}

uint32_t mt_reader_pid(const mt_reader_t *r)
{
    return r->pid;
}

uint32_t mt_reader_flags(const mt_reader_t *r)
{
    return r->flags;
}

void mt_reader_describe_truncation(const mt_reader_t *r, char *buf, size_t len)
{
    uint64_t t = mt_reader_last_time_us(r) / 100000; /* tenths of a second */
    uint64_t tenths = t % 10, s = (t / 10) % 60, m = t / 600;
    snprintf(buf, len,
             "truncated after %" PRIu64 " events; report covers up to %02" PRIu64 ":%02" PRIu64
             ".%" PRIu64 "%s",
             mt_reader_events(r), m, s, tenths,
             r->flags & MT_LOG_FLAG_STOPPED ? " (recording stopped: a write to the log failed)"
                                            : "");
}

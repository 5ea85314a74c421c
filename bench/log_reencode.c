// SPDX-License-Identifier: MIT
// Re-encodes a memtrace log with this tree's encoder (format/log_format.h): every record the
// reader gives, in its order, into a log of the current version, its chunks in one zstd frame
// as the recorder writes them, with a chunk wherever the input has one (or 512 KiB, the
// recorder's most): the runs of frees then end where they did, so the records come back in
// the same order. For trying an encoding on the logs of real programs without recording them
// again, and for checking that the reports of both logs agree (tests/integration builds it as
// mt_log_reencode).
//
//   cc -O2 -Iformat -Isrc/log bench/log_reencode.c build/src/libmemtrace_log.a
//      build/src/libmemtrace_util.a -ldeflate -lzstd -lz -lpthread -o log_reencode
//   log_reencode [--no-repeat] [--v6|--v7|--v8|--v9|--deflate] IN.mtr OUT.mtr
//                                               (--no-repeat: no REPEAT records; --v6: a log
//                                               of version 6, without site codes; --v7: of
//                                               version 7, chunks deflated at level 6 alone;
//                                               --v8: of version 8, without ALLOC_PREV;
//                                               --v9: of version 9, one ALLOC_PREV base for
//                                               all sizes; --deflate: this version with such
//                                               chunks)
//   log_reencode --dump IN.mtr                  every record the reader gives, one a line: two
//                                               logs of the same events dump the same text
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "chunk_out.h"
#include "log_format.h"
#include "log_reader.h"

#define CAP (3u << 18)       /* per stream, like the recorder's MT_BUF_CAP */
#define THRESHOLD (1u << 19) /* raw bytes per chunk, like MT_BUF_THRESHOLD */
#define ROOM (64u << 10)     /* any one record but the largest strings */

static FILE *out;
static uint8_t *bufs, *flat, *comp;
static const size_t comp_cap = 2u * CAP * MT_STREAMS;
static z_stream zs;   /* level 6, raw deflate: the recorder's sizes within 2% */
static ZSTD_CCtx *zc; /* the log's zstd frame (version 8); NULL: deflate */
static int zc_frame;

static void die(const char *what)
{
    fprintf(stderr, "log_reencode: %s\n", what);
    exit(1);
}

static void flush_chunk(mt_enc_t *e)
{
    const char *what;
    size_t rlen = mt_enc_copy_raw(e, flat);
    if (zc) {
        size_t n = bench_chunk_zstd(zc, &zc_frame, flat, rlen, comp, comp_cap);
        if (n == 0)
            die("zstd");
        if (fwrite(comp, 1, n, out) != n)
            die("write failed");
    } else if (bench_chunk_write(out, &zs, flat, rlen, comp, comp_cap, &what) < 0) {
        die(what);
    }
    mt_enc_chunk(e, bufs, CAP);
}

/* Room for a record of about n bytes: a new chunk when this one would pass the threshold. */
static mt_enc_t *room(mt_enc_t *e, size_t n)
{
    if (mt_enc_len(e) + n + ROOM > THRESHOLD)
        flush_chunk(e);
    return e;
}

static void put_str(mt_enc_t *e, mt_str_t s)
{
    mt_enc_string(e, s.ptr, s.len);
}

static void reencode(mt_enc_t *e, const mt_record_t *r)
{
    switch (r->tag) {
    case MT_TAG_PROCESS: {
        size_t n = 4 * MT_VARINT_MAX + r->str.len;
        for (size_t i = 0; i < r->argc; i++)
            n += MT_VARINT_MAX + r->argv[i].len;
        room(e, n);
        mt_enc_tag(e, MT_TAG_PROCESS);
        mt_enc_v(e, r->a);
        mt_enc_v(e, r->b);
        mt_enc_v(e, r->c);
        put_str(e, r->str);
        mt_enc_v(e, r->argc);
        for (size_t i = 0; i < r->argc; i++)
            put_str(e, r->argv[i]);
        break;
    }
    case MT_TAG_MODULE_LOAD:
        room(e, r->str.len + r->build_id.len + (r->nsegs + 6) * 3 * MT_VARINT_MAX);
        mt_enc_tag(e, MT_TAG_MODULE_LOAD);
        mt_enc_v(e, r->id);
        mt_enc_v(e, r->ip);
        put_str(e, r->str);
        put_str(e, r->build_id);
        mt_enc_v(e, r->nsegs);
        for (size_t i = 0; i < r->nsegs; i++) {
            mt_enc_v(e, r->segs[i].vaddr);
            mt_enc_v(e, r->segs[i].memsz);
            mt_enc_v(e, r->segs[i].flags);
        }
        break;
    case MT_TAG_MODULE_UNLOAD:
        mt_enc_module_unload(room(e, 0), (uint32_t)r->id);
        break;
    case MT_TAG_THREAD:
        mt_enc_thread(room(e, 0), r->tid);
        break;
    case MT_TAG_THREAD_NAME:
        mt_enc_thread_name(room(e, r->str.len), r->a, r->str.ptr, r->str.len);
        break;
    case MT_TAG_ORIGIN:
        mt_enc_origin(room(e, r->str.len + r->str2.len), r->str.ptr, r->str.len,
                      (enum mt_origin)r->a, r->b, (unsigned)r->c, r->str2.ptr, r->str2.len);
        break;
    case MT_TAG_NEXT_LOG:
        mt_enc_next_log(room(e, r->str.len), r->str.ptr, r->str.len);
        break;
    case MT_TAG_TRACE_NODE:
        mt_enc_trace_node(room(e, 0), r->id, r->parent, r->ip);
        break;
    case MT_TAG_ALLOC:
        mt_enc_alloc(room(e, 0), (enum mt_alloc_kind)r->alloc_kind, r->time_us, r->size, r->addr,
                     r->node);
        break;
    case MT_TAG_FREE:
    case MT_TAG_REALLOC_RELEASE:
    case MT_TAG_REALLOC_FAILED:
        mt_enc_free(room(e, 0), (enum mt_tag)r->tag, r->time_us, r->addr);
        break;
    case MT_TAG_CUSTOM_FREE:
        room(e, 0);
        mt_enc_run_end(e);
        mt_enc_time(e, r->time_us);
        mt_enc_u8(e, MT_TAG_CUSTOM_FREE);
        mt_enc_addr(e, r->addr);
        break;
    case MT_TAG_MMAP:
        mt_enc_mmap(room(e, 0), r->time_us, r->size, r->addr, r->node,
                    (enum mt_map_kind)r->alloc_kind);
        break;
    case MT_TAG_MUNMAP:
        mt_enc_munmap(room(e, 0), r->time_us, r->size, r->addr);
        break;
    case MT_TAG_SAMPLE: /* in place: a peak's sample must stay before its free */
        mt_enc_sample(room(e, 0), r->time_us, &r->sample);
        break;
    case MT_TAG_EXIT:
        mt_enc_exit(room(e, 0), r->time_us, (enum mt_exit_reason)r->a, r->b);
        break;
    case MT_TAG_NOTICE:
        mt_enc_notice_begin(room(e, r->str.len), r->time_us);
        mt_enc_v(e, r->a);
        put_str(e, r->str);
        break;
    case MT_TAG_FORK:
        mt_enc_fork(room(e, 0), r->time_us, r->a);
        break;
    case MT_TAG_LEAK_SCAN:
        mt_enc_leak_scan(room(e, 0), r->time_us, r->a, r->b, r->c, r->size);
        break;
    case MT_TAG_LEAK_BLOCK:
        mt_enc_leak_block(room(e, 0), r->addr, (unsigned)r->a, r->b);
        break;
    case MT_TAG_LEAK_SCAN_END:
        mt_enc_leak_scan_end(room(e, 0), r->a);
        break;
    case MT_TAG_PY_INTERP:
        mt_enc_py_interp(room(e, 0), (unsigned)r->a, (unsigned)r->b, (unsigned)r->c, r->addr,
                         r->size);
        break;
    case MT_TAG_PY_CODE:
        mt_enc_py_code(room(e, r->str.len + r->str2.len), (uint32_t)r->id, (uint32_t)r->a,
                       r->str.ptr, r->str.len, r->str2.ptr, r->str2.len);
        break;
    case MT_TAG_PY_LOCATION:
        mt_enc_py_location(room(e, 0), (uint32_t)r->id, (uint32_t)r->parent, (uint32_t)r->a);
        break;
    case MT_TAG_PY_SCRIPT_END:
        mt_enc_py_script_end(room(e, 0), r->time_us);
        break;
    case MT_TAG_PY_ARENA_ALLOC:
    case MT_TAG_PY_ARENA_FREE:
        mt_enc_py_arena(room(e, 0), (enum mt_tag)r->tag, r->time_us, r->size, r->addr);
        break;
    default:
        fprintf(stderr, "log_reencode: record 0x%02x not handled\n", r->tag);
        exit(1);
    }
}

/* One record as text: every field the reader fills for its tag. */
static void dump(const mt_record_t *r)
{
    printf("%02x t%" PRIu64 " @%" PRIu64, r->tag, (uint64_t)r->tid, r->time_us);
    switch (r->tag) {
    case MT_TAG_ALLOC:
    case MT_TAG_MMAP:
        printf(" k%u %" PRIx64 " %" PRIu64 " n%u", r->alloc_kind, r->addr, r->size, r->node);
        break;
    case MT_TAG_FREE:
    case MT_TAG_REALLOC_RELEASE:
    case MT_TAG_REALLOC_FAILED:
    case MT_TAG_CUSTOM_FREE:
        printf(" %" PRIx64, r->addr);
        break;
    case MT_TAG_MUNMAP:
    case MT_TAG_PY_ARENA_ALLOC:
    case MT_TAG_PY_ARENA_FREE:
        printf(" %" PRIx64 " %" PRIu64, r->addr, r->size);
        break;
    case MT_TAG_TRACE_NODE:
        printf(" %" PRIu64 " %" PRIu64 " %" PRIx64, r->id, r->parent, r->ip);
        break;
    case MT_TAG_SAMPLE:
        printf(" %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
               " %" PRIu64,
               r->sample.rss, r->sample.arena, r->sample.ordblks, r->sample.hblks, r->sample.hblkhd,
               r->sample.uordblks, r->sample.fordblks, r->sample.keepcost);
        break;
    case MT_TAG_PROCESS:
    case MT_TAG_MODULE_LOAD:
    case MT_TAG_THREAD_NAME:
    case MT_TAG_NOTICE:
    case MT_TAG_ORIGIN:
    case MT_TAG_NEXT_LOG:
    case MT_TAG_PY_CODE: /* the records with a string */
        printf(" %" PRIu64 " %" PRIu64 " %.*s", r->id, r->a, (int)r->str.len, r->str.ptr);
        break;
    default:
        printf(" %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64, r->id, r->a, r->b, r->c);
        break;
    }
    putchar('\n');
}

int main(int argc, char **argv)
{
    int no_repeat = 0, dumping = 0, v6 = 0, v7 = 0, v8 = 0, v9 = 0, deflate_only = 0;
    for (; argc > 1 && argv[1][0] == '-'; argc--, argv++) {
        if (strcmp(argv[1], "--no-repeat") == 0)
            no_repeat = 1;
        else if (strcmp(argv[1], "--dump") == 0)
            dumping = 1;
        else if (strcmp(argv[1], "--v6") == 0)
            v6 = 1;
        else if (strcmp(argv[1], "--v7") == 0)
            v7 = 1;
        else if (strcmp(argv[1], "--v8") == 0)
            v8 = 1;
        else if (strcmp(argv[1], "--v9") == 0)
            v9 = 1;
        else if (strcmp(argv[1], "--deflate") == 0)
            deflate_only = 1;
        else
            break;
    }
    if (argc != 3 - dumping) {
        fprintf(
            stderr,
            "usage: log_reencode [--no-repeat] [--v6|--v7|--v8|--v9|--deflate] IN.mtr OUT.mtr | "
            "--dump "
            "IN.mtr\n");
        return 2;
    }
    mt_reader_t *r;
    char err[512];
    if (mt_reader_open(&r, argv[1], err, sizeof err) < 0) {
        fprintf(stderr, "log_reencode: %s\n", err);
        return 1;
    }
    if (dumping) {
        mt_record_t rec;
        while (mt_reader_next(r, &rec) == 1)
            dump(&rec);
        int bad = mt_reader_state(r) != MT_READER_END;
        if (bad)
            fprintf(stderr, "log_reencode: %s: %s\n", argv[1], mt_reader_reason(r));
        mt_reader_close(r);
        return bad;
    }
    out = fopen(argv[2], "wb");
    if (!out) {
        fprintf(stderr, "log_reencode: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    bufs = malloc((size_t)CAP * MT_STREAMS);
    flat = malloc((size_t)CAP * MT_STREAMS + MT_STREAMS * MT_VARINT_MAX);
    comp = malloc(comp_cap);
    mt_enc_tables_t *t = calloc(1, sizeof *t);
    if (!bufs || !flat || !comp || !t)
        die("out of memory");
    if (deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2");
    /* versions 4 to 7 know deflate chunks only */
    if (!v6 && !v7 && !deflate_only && !(zc = bench_zstd_new()))
        die("ZSTD_createCCtx");
    uint8_t hdr[MT_LOG_HEADER_SIZE];
    mt_log_header_put(hdr, mt_reader_start_realtime_ns(r), mt_reader_pid(r), MT_TIME_UNIT_US);
    unsigned version = v6 ? 6 : v7 ? 7 : v8 ? 8 : v9 ? 9 : MT_LOG_VERSION;
    mt_put_u16le(hdr + 8, (uint16_t)version);
    if (fwrite(hdr, 1, sizeof hdr, out) != sizeof hdr)
        die("write failed");
    mt_enc_t e;
    mt_enc_init(&e, t, MT_TIME_UNIT_US);
    e.rep_off = no_repeat;
    mt_enc_version(&e, version);
    mt_enc_chunk(&e, bufs, CAP);
    mt_record_t rec;
    int rc;
    uint64_t chunk_end = 0;
    while ((rc = mt_reader_next(r, &rec)) == 1) {
        if (mt_reader_bytes_done(r) != chunk_end) { /* the record is of the input's next chunk */
            chunk_end = mt_reader_bytes_done(r);
            if (mt_enc_len(&e))
                flush_chunk(&e);
        }
        reencode(&e, &rec);
    }
    if (mt_reader_state(r) != MT_READER_END)
        fprintf(stderr, "log_reencode: %s: %s (what came before is re-encoded)\n", argv[1],
                rc < 0 ? strerror(-rc) : mt_reader_reason(r));
    mt_enc_close(&e);
    if (mt_enc_len(&e))
        flush_chunk(&e);
    mt_reader_close(r);
    ZSTD_freeCCtx(zc);
    if (fclose(out) != 0)
        die("write failed");
    return 0;
}

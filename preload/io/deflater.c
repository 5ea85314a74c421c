// SPDX-License-Identifier: MIT
// The chunk compressor behind the log writer: zstd (one frame through the log's chunks),
// libdeflate (one call per chunk) or zlib (one stream whose parameters follow the chunk's
// streams). Runs on the writer thread, in a starved producer, or inline (exec, fatal signal):
// no lock, no allocation after the first chunk, and no state in the program's heap.
#include "io/deflater.h"

#include <errno.h>
#include <string.h>

/* ZSTD_initStaticCCtx: zstd's state in memory that is not the program's heap, mapped once.
 * Part of zstd's "experimental" API since 1.0, exported by Debian's libzstd.so.1. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "base/early_alloc.h"
#include "base/mt_libc.h"

/*
 * One libzstd.so.1 serves the whole process, and when the program brings its own (a bundled
 * lib/ on LD_LIBRARY_PATH, its RPATH) that one is memtrace's too. libzstd has no symbol
 * versions: one older than 1.4.0 lacks ZSTD_compressStream2 and the parameter API, and the
 * first chunk's call into it killed the program ("symbol lookup error", exit 127). So every
 * zstd function is referenced weakly (a missing one is NULL instead of fatal) and zstd is used
 * only when all are there and the library says it is 1.4.0 or later; else the log's chunks
 * are deflate, as with MEMTRACE_LOG_ZSTD=0 (tests/hostile/old_zstd.c). ZSTD_versionNumber,
 * which every libzstd.so.1 has, stays a strong reference: with weak ones only, the linker's
 * --as-needed would leave libzstd out of this library's dependencies.
 */
#pragma weak ZSTD_isError
#pragma weak ZSTD_compressBound
#pragma weak ZSTD_getCParams
#pragma weak ZSTD_estimateCStreamSize_usingCParams
#pragma weak ZSTD_initStaticCCtx
#pragma weak ZSTD_CCtx_setParameter
#pragma weak ZSTD_CCtx_reset
#pragma weak ZSTD_compressStream2

#define MT_DEFLATER_ZSTD_MIN 10400 /* 1.4.0: ZSTD_compressStream2, ZSTD_c_* as used here */

static bool mt_deflater_zstd_present(void)
{
    return ZSTD_isError && ZSTD_compressBound && ZSTD_getCParams &&
           ZSTD_estimateCStreamSize_usingCParams && ZSTD_initStaticCCtx && ZSTD_CCtx_setParameter &&
           ZSTD_CCtx_reset && ZSTD_compressStream2 && ZSTD_versionNumber() >= MT_DEFLATER_ZSTD_MIN;
}

/* Asked once: the loaded library does not change (it is a dependency of this one). */
static bool mt_deflater_zstd_usable(void)
{
    static int usable = -1;
    if (usable < 0)
        usable = mt_deflater_zstd_present();
    return usable;
}

#if MT_HAVE_LIBDEFLATE
#include <libdeflate.h>
#endif

/*
 * Why zstd, in one frame through the log (version 8): a program says the same things
 * megabytes of log apart (a g++ compile's allocation orders, its stacks, its sizes), where
 * deflate's 32 KiB window cannot reach. The frame's 1 MiB window reaches back over the chunks
 * before, and every chunk still ends whole (a flush), so a log cut after it reads up to it.
 * On the logs of issue 20 (the same raw chunks, bench/log_reencode.c): cc1plus 13.40 MB with
 * libdeflate 6 against 9.80 MB, in less CPU; churn.c 17.37 MB against 17.24; perl, sqlite3,
 * lua5.4 and node within 3% either way of libdeflate's levels 6 and 9 (docs/log-format.md,
 * Versioning). Parameters: MT_ZSTD_LEVEL in format/log_format.h.
 */

/*
 * Why libdeflate: the writer thread's deflate was the largest single cost of recording
 * (56% of all CPU of `memtrace run -q` on churn.c with zlib), and once it costs more than the
 * program's thread it sets the wall time. On the logs of churn.c, perl, sqlite3 and a Python
 * import, libdeflate level 6 is 2.7 to 3 times as fast as zlib level 6 for the same size
 * within 1% either way (its level 1 is 10% to 15% larger on the real programs' logs).
 */
#define MT_DEFLATER_LEVEL 6

/*
 * Dense logs, whose chunks deflate 16:1 or better (sqlite3: 135:1, lua: 300:1), are one long
 * repeat of the same few records, where level 6's lazy matching picks poor splits: level 9's
 * near-optimal parsing makes sqlite3's log 25% smaller (34.7 KB instead of 46.1, zlib's level
 * 6 40.4), for 1.5 times level 6's time on such chunks, which is little since their matches
 * are long. On sparse chunks (churn.c's: 1.75:1) level 9 costs 5.7 times level 6 for 1% less,
 * and perl's (11:1) 5.7 times for 7%. The level follows the log's previous chunk's ratio (a
 * program's streams change slowly; the writer keeps it), so no chunk is deflated twice.
 */
#define MT_DEFLATER_LEVEL_DENSE 9

/* zlib: below this many raw bytes a chunk is deflated as one block (below). */
#define MT_DEFLATER_ONE_BLOCK 4096

/*
 * zlib only, per stream (log_format.h): real programs repeat the same sequences of tags, sizes,
 * stacks and back references, which LZ77 finds and Huffman alone does not (on a clang++
 * compile the sizes take 6.9 MB Huffman-only, 1.2 MB at level 6). Level 6 searches enough to
 * find the long repeats that level 1 misses (sqlite3's log halves). Only the explicit addresses
 * look random: Huffman-only there costs a third of the time of LZ77 for the same bytes.
 */
static const struct {
    int level, strategy;
} mt_deflater_zparams[MT_STREAMS] = {
    [MT_STREAM_MAIN] = {6, Z_DEFAULT_STRATEGY},   [MT_STREAM_SIZE] = {6, Z_DEFAULT_STRATEGY},
    [MT_STREAM_ADDR] = {1, Z_HUFFMAN_ONLY},       [MT_STREAM_NODE] = {6, Z_DEFAULT_STRATEGY},
    [MT_STREAM_BACK] = {6, Z_DEFAULT_STRATEGY},   [MT_STREAM_TIME] = {6, Z_DEFAULT_STRATEGY},
    [MT_STREAM_PARENT] = {6, Z_DEFAULT_STRATEGY}, [MT_STREAM_IP] = {6, Z_DEFAULT_STRATEGY},
    [MT_STREAM_RUN] = {6, Z_DEFAULT_STRATEGY},
};

/* zlib's state must not come from the heap: the target's malloc is what we are recording. */
static voidpf mt_deflater_zalloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    size_t n = (size_t)items * size + 16;
    uint8_t *p = mt_map(n);
    if (!p)
        return Z_NULL;
    *(size_t *)p = n;
    return p + 16;
}

static void mt_deflater_zfree(voidpf opaque, voidpf ptr)
{
    (void)opaque;
    if (ptr) {
        uint8_t *p = (uint8_t *)ptr - 16;
        mt_unmap(p, *(size_t *)p);
    }
}

static int mt_deflater_zinit(mt_deflater_t *d)
{
    z_stream *zs = &d->zs;
    memset(zs, 0, sizeof *zs);
    zs->zalloc = mt_deflater_zalloc;
    zs->zfree = mt_deflater_zfree;
    /* Raw deflate (negative window bits): the chunk CRC already checks the bytes, an Adler-32
     * would only cost time. memLevel 8's 16K-symbol blocks fit the streams' changing
     * statistics better than 9's 32K (2% smaller). */
    d->zs_ready = deflateInit2(zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    return d->zs_ready ? 0 : -ENOMEM;
}

/* The larger of bound and what zstd may write for raw_cap bytes in flushed blocks: a frame
 * header, and a block header per stream beyond ZSTD_compressBound's. */
static size_t mt_deflater_zstd_bound(size_t bound, size_t raw_cap)
{
    if (!mt_deflater_zstd_usable())
        return bound;
    size_t zb = ZSTD_compressBound(raw_cap) + 32 + 8 * MT_STREAMS;
    return zb > bound ? zb : bound;
}

#if MT_HAVE_LIBDEFLATE
/*
 * libdeflate (1.14, Debian 12's) allocates its compressor with malloc, through the program's
 * PLT: under `memtrace run` that is memtrace's own hook, which with the guard and the private
 * heap set serves it from the early buffer (bss of this library, no root of the leak check,
 * untouched pages cost nothing). A compressor that came from anywhere else (another malloc
 * wins the symbol lookup) is given back, and zlib does the work: memtrace keeps nothing in the
 * program's heap. Not tried under `memtrace attach`, whose malloc is libc's: the program would
 * see a large block come and go (and glibc raise its mmap threshold).
 */
static struct libdeflate_compressor *mt_deflater_own_compressor(int level)
{
    mt_guard++;
    int saved = mt_private_heap;
    mt_private_heap = 1;
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
    mt_private_heap = saved;
    if (c && !mt_early_owns(c)) {
        libdeflate_free_compressor(c);
        c = NULL;
    }
    mt_guard--;
    return c;
}

static void mt_deflater_try_libdeflate(mt_deflater_t *d, size_t raw_cap)
{
    struct libdeflate_compressor *c = mt_deflater_own_compressor(MT_DEFLATER_LEVEL);
    if (!c)
        return;
    d->stage = mt_map(raw_cap);
    if (!d->stage)
        return; /* the early block stays; zlib does the work */
    d->stage_cap = raw_cap;
    d->ld = c;
    d->ld_dense = mt_deflater_own_compressor(MT_DEFLATER_LEVEL_DENSE); /* NULL: level 6 only */
}

size_t mt_deflater_bound(size_t raw_cap)
{
    size_t zb = compressBound((uLong)raw_cap);
    size_t lb = libdeflate_deflate_compress_bound(NULL, raw_cap);
    return mt_deflater_zstd_bound(zb > lb ? zb : lb, raw_cap);
}

/* The chunk made contiguous in the stage, compressed in one call (libdeflate has no
 * streaming), and its CRC over the same bytes. */
static int mt_deflater_chunk_ld(mt_deflater_t *d, bool dense, uint8_t *out, size_t out_cap,
                                const uint8_t *hdr, size_t hlen,
                                const uint8_t *const streams[MT_STREAMS],
                                const size_t lens[MT_STREAMS], size_t *clen, uint32_t *crc)
{
    size_t n = hlen;
    for (int k = 0; k < MT_STREAMS; k++)
        n += lens[k];
    if (n > d->stage_cap)
        return -EIO;
    memcpy(d->stage, hdr, hlen);
    n = hlen;
    for (int k = 0; k < MT_STREAMS; k++) {
        memcpy(d->stage + n, streams[k], lens[k]);
        n += lens[k];
    }
    struct libdeflate_compressor *ld = dense && d->ld_dense ? d->ld_dense : d->ld;
    size_t c = libdeflate_deflate_compress(ld, d->stage, n, out, out_cap);
    if (c == 0)
        return -EIO;
    *clen = c;
    *crc = libdeflate_crc32(0, d->stage, n);
    mt_pages_release(d->stage, n); /* costs what the chunk held, not the most ever */
    return 0;
}
#else
static void mt_deflater_try_libdeflate(mt_deflater_t *d, size_t raw_cap)
{
    (void)d;
    (void)raw_cap;
}

size_t mt_deflater_bound(size_t raw_cap)
{
    return mt_deflater_zstd_bound(compressBound((uLong)raw_cap), raw_cap);
}
#endif

/* The frame's compression parameters: MT_ZSTD_LEVEL's with the window and tables of
 * format/log_format.h. */
static ZSTD_compressionParameters mt_deflater_zstd_cparams(void)
{
    ZSTD_compressionParameters cp = ZSTD_getCParams(MT_ZSTD_LEVEL, 0, 0);
    cp.windowLog = MT_ZSTD_WINDOW_LOG;
    cp.hashLog = MT_ZSTD_HASH_LOG;
    cp.chainLog = MT_ZSTD_CHAIN_LOG;
    return cp;
}

/*
 * zstd's whole state in one workspace mapped here, at start (ZSTD_initStaticCCtx): a context
 * made with ZSTD_createCCtx would map its workspace at the first chunk, and a program that
 * has used up its address space by then (`ulimit -v`, RLIMIT_AS) lost its whole log, the
 * very run a memory profiler is for. The workspace is sized for streaming with these
 * parameters (zstd's own estimate); zstd touches only what a frame uses. After a fork the
 * child starts a new context in its copy of the same pages.
 */
static void mt_deflater_try_zstd(mt_deflater_t *d)
{
    if (!mt_deflater_zstd_usable())
        return;
    if (!d->zc_ws) {
        size_t need = ZSTD_estimateCStreamSize_usingCParams(mt_deflater_zstd_cparams());
        d->zc_ws = mt_map(need);
        if (!d->zc_ws)
            return;
        d->zc_ws_size = need;
    }
    ZSTD_CCtx *zc = ZSTD_initStaticCCtx(d->zc_ws, d->zc_ws_size);
    if (!zc)
        return;
    /* no checksum and no content size: the chunks' CRCs check the bytes, and a frame has no
     * known end */
    if (ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_compressionLevel, MT_ZSTD_LEVEL)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_windowLog, MT_ZSTD_WINDOW_LOG)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_hashLog, MT_ZSTD_HASH_LOG)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_chainLog, MT_ZSTD_CHAIN_LOG)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_checksumFlag, 0)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(zc, ZSTD_c_contentSizeFlag, 0)))
        return;
    d->zc = zc;
    d->zc_frame = false;
}

int mt_deflater_init(mt_deflater_t *d, size_t raw_cap, bool try_libdeflate, bool zstd)
{
    if (zstd && !d->zc)
        mt_deflater_try_zstd(d);
    if (d->zc || d->ld)
        return 0;
    if (try_libdeflate)
        mt_deflater_try_libdeflate(d, raw_cap);
    return d->ld ? 0 : mt_deflater_zinit(d);
}

void mt_deflater_restart(mt_deflater_t *d)
{
    d->zc_frame = false;
}

void mt_deflater_after_fork(mt_deflater_t *d)
{
    /* The parent's writer thread may have been inside zstd, its context half changed: the
     * child starts a context afresh in its copy of the workspace. */
    if (d->zc) {
        d->zc = NULL;
        mt_deflater_try_zstd(d);
    }
    d->zc_frame = false;
    if (!d->ld && !d->zc)
        (void)mt_deflater_zinit(d); /* the parent's stream's pages are simply abandoned */
}

static uint32_t mt_deflater_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
#if MT_HAVE_LIBDEFLATE
    return libdeflate_crc32(crc, p, n);
#else
    return (uint32_t)crc32(crc, p, (uInt)n);
#endif
}

/*
 * One chunk into the frame: the stream-length prefix with M, then every stream that is not
 * empty ends its block (a flush). A block per stream gives each stream's bytes literal and
 * sequence codes of their own, as deflate's blocks did (cc1plus: 9.73 MB instead of 9.91 with
 * a flush per chunk only), and lets `memtrace logstats` tell the streams' compressed bytes
 * apart. The last flush leaves nothing of the chunk inside zstd: the chunk decodes whole.
 */
static int mt_deflater_chunk_zstd(mt_deflater_t *d, uint8_t *out, size_t out_cap,
                                  const uint8_t *hdr, size_t hlen,
                                  const uint8_t *const streams[MT_STREAMS],
                                  const size_t lens[MT_STREAMS], size_t *clen, uint32_t *crc,
                                  uint32_t *magic)
{
    ZSTD_CCtx *zc = d->zc;
    bool frame = d->zc_frame;
    d->zc_frame = false; /* a failure below leaves no frame to go on with */
    if (!frame && ZSTD_isError(ZSTD_CCtx_reset(zc, ZSTD_reset_session_only)))
        return -EIO;
    ZSTD_outBuffer o = {out, out_cap, 0};
    uint32_t c = 0;
    for (int k = -1; k < MT_STREAMS; k++) {
        const uint8_t *p = k < 0 ? hdr : streams[k];
        size_t n = k < 0 ? hlen : lens[k];
        if (n == 0 && k < MT_STREAMS - 1)
            continue;
        c = mt_deflater_crc32(c, p, n);
        ZSTD_EndDirective end = k < 0 ? ZSTD_e_continue : ZSTD_e_flush;
        ZSTD_inBuffer in = {p, n, 0};
        size_t left;
        do {
            left = ZSTD_compressStream2(zc, &o, &in, end);
            if (ZSTD_isError(left) || (o.pos == o.size && (left || in.pos < in.size)))
                return -EIO;
        } while (end == ZSTD_e_flush ? left != 0 : in.pos < in.size);
    }
    *clen = o.pos;
    *crc = c;
    *magic = frame ? MT_CHUNK_MAGIC_ZSTD : MT_CHUNK_MAGIC_ZSTD_FRAME;
    d->zc_frame = true;
    return 0;
}

static int mt_deflater_chunk_z(mt_deflater_t *d, uint8_t *out, size_t out_cap, const uint8_t *hdr,
                               size_t hlen, const uint8_t *const streams[MT_STREAMS],
                               const size_t lens[MT_STREAMS], size_t *clen, uint32_t *crc)
{
    z_stream *zs = &d->zs;
    if (!d->zs_ready || deflateReset(zs) != Z_OK)
        return -EIO;
    size_t len = hlen;
    for (int k = 0; k < MT_STREAMS; k++)
        len += lens[k];
    zs->next_out = out;
    zs->avail_out = (uInt)out_cap;
    uLong c = crc32(0L, hdr, (uInt)hlen);
    /* A small chunk is one deflate block: a change of parameters starts a new block, whose
     * code tables would cost more than the bytes they save. */
    int small = len < MT_DEFLATER_ONE_BLOCK;
    for (int k = -1; k < MT_STREAMS; k++) {
        const uint8_t *p = k < 0 ? hdr : streams[k];
        size_t n = k < 0 ? hlen : lens[k];
        if (k >= 0)
            c = crc32(c, p, (uInt)n);
        /* Before the new input is in place: deflateParams compresses what is pending with the
         * old parameters. The header (k < 0) goes with the main stream's. */
        int z = k < 0 || small ? 0 : k;
        if (deflateParams(zs, mt_deflater_zparams[z].level, mt_deflater_zparams[z].strategy) !=
            Z_OK)
            return -EIO;
        zs->next_in = (Bytef *)p;
        zs->avail_in = (uInt)n;
        int flush = k == MT_STREAMS - 1 ? Z_FINISH : Z_NO_FLUSH;
        int zrc = deflate(zs, flush);
        if (flush == Z_FINISH ? zrc != Z_STREAM_END : (zrc != Z_OK && zrc != Z_BUF_ERROR))
            return -EIO;
    }
    *clen = (size_t)(zs->next_out - out);
    *crc = (uint32_t)c;
    return 0;
}

int mt_deflater_chunk(mt_deflater_t *d, bool dense, uint8_t *out, size_t out_cap,
                      const uint8_t *hdr, size_t hlen, const uint8_t *const streams[MT_STREAMS],
                      const size_t lens[MT_STREAMS], size_t *clen, uint32_t *crc, uint32_t *magic)
{
    if (d->zc)
        return mt_deflater_chunk_zstd(d, out, out_cap, hdr, hlen, streams, lens, clen, crc, magic);
    *magic = MT_CHUNK_MAGIC;
#if MT_HAVE_LIBDEFLATE
    if (d->ld)
        return mt_deflater_chunk_ld(d, dense, out, out_cap, hdr, hlen, streams, lens, clen, crc);
#endif
    (void)dense; /* zlib: level 6 whatever the log (its level 9 gains less and costs more) */
    return mt_deflater_chunk_z(d, out, out_cap, hdr, hlen, streams, lens, clen, crc);
}

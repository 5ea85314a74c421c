// SPDX-License-Identifier: MIT
// Test helper: builds memtrace logs with the shared encoder and zlib (see log_builder.h).
// It mirrors what the recorder does at chunk boundaries: the held frees and the clock's period
// are closed, the model carries over.
#include "log_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "chunk_out.h"

#define MT_LB_RAW_CAP (MT_CHUNK_MAX_RAW)
#define MT_LB_ROOM 8192 /* any single record the helpers write, strings aside */

static void *mt_lb_xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p)
        abort();
    return p;
}

static void mt_lb_append(mt_lb_t *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->file = mt_lb_xrealloc(b->file, b->cap);
    }
    memcpy(b->file + b->len, p, n);
    b->len += n;
}

void mt_lb_init(mt_lb_t *b, uint32_t pid, size_t chunk_limit)
{
    memset(b, 0, sizeof *b);
    b->chunk_limit = chunk_limit ? chunk_limit : 64 * 1024;
    if (b->chunk_limit > MT_LB_RAW_CAP - MT_LB_ROOM)
        b->chunk_limit = MT_LB_RAW_CAP - MT_LB_ROOM;
    b->raw = mt_lb_xrealloc(NULL, (size_t)MT_LB_RAW_CAP * MT_STREAMS);
    b->flat = mt_lb_xrealloc(NULL, MT_LB_RAW_CAP + sizeof b->enc.hdr);
    b->tables = calloc(1, sizeof *b->tables);
    if (!b->tables)
        abort();
    uint8_t hdr[MT_LOG_HEADER_SIZE];
    mt_log_header_put(hdr, 1700000000000000000ull, pid, 1);
    mt_lb_append(b, hdr, sizeof hdr);
    mt_enc_init(&b->enc, b->tables, 1);
    mt_enc_chunk(&b->enc, b->raw, MT_LB_RAW_CAP);
}

void mt_lb_free(mt_lb_t *b)
{
    free(b->file);
    free(b->raw);
    free(b->flat);
    free(b->tables);
    ZSTD_freeCCtx(b->zc);
    memset(b, 0, sizeof *b);
}

void mt_lb_flush(mt_lb_t *b)
{
    if (mt_enc_len(&b->enc) == 0)
        return;
    size_t rlen = mt_enc_copy_raw(&b->enc, b->flat);
    if (b->zstd) {
        if (!b->zc && !(b->zc = bench_zstd_new()))
            abort();
        size_t cap = MT_CHUNK_HEADER_SIZE + ZSTD_compressBound(rlen) + 32 + 8 * MT_STREAMS;
        uint8_t *chunk = mt_lb_xrealloc(NULL, cap);
        size_t n = bench_chunk_zstd(b->zc, &b->zc_frame, b->flat, rlen, chunk, cap);
        if (n == 0)
            abort();
        mt_lb_append(b, chunk, n);
        free(chunk);
        mt_enc_chunk(&b->enc, b->raw, MT_LB_RAW_CAP);
        return;
    }
    uLongf clen = compressBound(rlen);
    uint8_t *comp = mt_lb_xrealloc(NULL, clen);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    zs.next_in = b->flat;
    zs.avail_in = (uInt)rlen;
    zs.next_out = comp;
    zs.avail_out = (uInt)clen;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        abort();
    clen = zs.total_out;
    deflateEnd(&zs);
    uint8_t hdr[MT_CHUNK_HEADER_SIZE];
    mt_chunk_header_put(hdr, (uint32_t)clen, (uint32_t)rlen, (uint32_t)crc32(0L, b->flat, rlen));
    mt_lb_append(b, hdr, sizeof hdr);
    mt_lb_append(b, comp, clen);
    free(comp);
    mt_enc_chunk(&b->enc, b->raw, MT_LB_RAW_CAP);
}

size_t mt_lb_write(mt_lb_t *b, const char *path)
{
    mt_lb_flush(b);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->file, 1, b->len, f) != b->len || fclose(f) != 0)
        abort();
    return b->len;
}

/* Makes room for a record of n bytes beyond MT_LB_ROOM; flushes when the chunk is full. */
static mt_enc_t *mt_lb_room(mt_lb_t *b, size_t n, int is_event)
{
    if (mt_enc_len(&b->enc) + n + MT_LB_ROOM > b->chunk_limit)
        mt_lb_flush(b);
    if (is_event && !b->tid_sent) {
        mt_enc_thread(&b->enc, b->tid);
        b->tid_sent = 1;
    }
    return &b->enc;
}

void mt_lb_raw(mt_lb_t *b, const void *bytes, size_t n)
{
    mt_enc_t *e = mt_lb_room(b, n, 0);
    memcpy(e->pos, bytes, n);
    e->pos += n;
}

void mt_lb_raw_stream(mt_lb_t *b, int k, const void *bytes, size_t n)
{
    mt_enc_t *e = mt_lb_room(b, n, 0);
    if (k == MT_STREAM_MAIN) {
        memcpy(e->pos, bytes, n);
        e->pos += n;
    } else {
        memcpy(e->s[k], bytes, n);
        e->s[k] += n;
    }
}

void mt_lb_process(mt_lb_t *b, uint64_t pid, uint64_t ppid, const char *exe, int argc,
                   const char *const *argv)
{
    size_t n = mt_enc_string_size(strlen(exe));
    for (int i = 0; i < argc; i++)
        n += mt_enc_string_size(strlen(argv[i]));
    mt_enc_t *e = mt_lb_room(b, n, 0);
    mt_enc_tag(e, MT_TAG_PROCESS);
    mt_enc_v(e, pid);
    mt_enc_v(e, ppid);
    mt_enc_v(e, 4096);
    mt_enc_string(e, exe, strlen(exe));
    mt_enc_v(e, (uint64_t)argc);
    for (int i = 0; i < argc; i++)
        mt_enc_string(e, argv[i], strlen(argv[i]));
}

void mt_lb_module(mt_lb_t *b, uint64_t id, uint64_t bias, const char *path, const void *build_id,
                  size_t build_id_len, size_t nseg, const uint64_t (*segs)[3])
{
    mt_enc_t *e = mt_lb_room(
        b, mt_enc_string_size(strlen(path)) + mt_enc_string_size(build_id_len) + nseg * 30, 0);
    mt_enc_tag(e, MT_TAG_MODULE_LOAD);
    mt_enc_v(e, id);
    mt_enc_v(e, bias);
    mt_enc_string(e, path, strlen(path));
    mt_enc_string(e, build_id, build_id_len);
    mt_enc_v(e, nseg);
    for (size_t i = 0; i < nseg; i++) {
        mt_enc_v(e, segs[i][0]);
        mt_enc_v(e, segs[i][1]);
        mt_enc_v(e, segs[i][2]);
    }
}

void mt_lb_unload(mt_lb_t *b, uint64_t id)
{
    mt_enc_module_unload(mt_lb_room(b, 0, 0), (uint32_t)id);
}

void mt_lb_thread(mt_lb_t *b, uint64_t tid)
{
    b->tid = tid;
    mt_enc_thread(mt_lb_room(b, 0, 0), tid);
    b->tid_sent = 1;
}

void mt_lb_thread_name(mt_lb_t *b, uint64_t tid, const char *name)
{
    mt_enc_t *e = mt_lb_room(b, mt_enc_string_size(strlen(name)), 0);
    mt_enc_tag(e, MT_TAG_THREAD_NAME);
    mt_enc_v(e, tid);
    mt_enc_string(e, name, strlen(name));
}

void mt_lb_node(mt_lb_t *b, uint32_t id, uint32_t parent, uint64_t ip)
{
    mt_enc_trace_node(mt_lb_room(b, 0, 0), id, parent, ip);
}

void mt_lb_alloc(mt_lb_t *b, enum mt_alloc_kind kind, uint64_t t, uint64_t size, uint64_t addr,
                 uint32_t node)
{
    mt_enc_alloc(mt_lb_room(b, 0, 1), kind, t, size, addr, node);
}

void mt_lb_free_(mt_lb_t *b, enum mt_tag tag, uint64_t t, uint64_t addr)
{
    mt_enc_free(mt_lb_room(b, 0, 1), tag, t, addr);
}

void mt_lb_mmap(mt_lb_t *b, uint64_t t, uint64_t size, uint64_t addr, uint32_t node,
                enum mt_map_kind kind)
{
    mt_enc_mmap(mt_lb_room(b, 0, 1), t, size, addr, node, kind);
}

void mt_lb_munmap(mt_lb_t *b, uint64_t t, uint64_t size, uint64_t addr)
{
    mt_enc_munmap(mt_lb_room(b, 0, 1), t, size, addr);
}

void mt_lb_sample(mt_lb_t *b, uint64_t t, const mt_sample_t *s)
{
    mt_enc_sample(mt_lb_room(b, 0, 0), t, s);
}

void mt_lb_sample_tick(mt_lb_t *b, uint64_t t, const mt_sample_t *s)
{
    mt_enc_sample_tick(mt_lb_room(b, 0, 0), t, s);
}

void mt_lb_exit(mt_lb_t *b, uint64_t t, enum mt_exit_reason reason, uint64_t status)
{
    mt_enc_exit(mt_lb_room(b, 0, 0), t, reason, status);
}

void mt_lb_leak_scan(mt_lb_t *b, uint64_t t, uint64_t blocks, uint64_t stopped, uint64_t missed,
                     uint64_t root_bytes)
{
    mt_enc_leak_scan(mt_lb_room(b, 0, 0), t, blocks, stopped, missed, root_bytes);
}

void mt_lb_leak_block(mt_lb_t *b, uint64_t addr, unsigned kind, uint64_t extra)
{
    mt_enc_leak_block(mt_lb_room(b, 0, 0), addr, kind, extra);
}

void mt_lb_leak_scan_end(mt_lb_t *b, uint64_t count)
{
    mt_enc_leak_scan_end(mt_lb_room(b, 0, 0), count);
}

void mt_lb_version(mt_lb_t *b, unsigned version)
{
    mt_put_u16le(b->file + 8, (uint16_t)version);
    mt_enc_version(&b->enc, version);
}

void mt_lb_aggregated(mt_lb_t *b)
{
    mt_log_header_set_flags(b->file, MT_LOG_FLAG_AGGREGATED);
}

void mt_lb_agg_heap(mt_lb_t *b, uint64_t t, const uint64_t *values, unsigned n)
{
    mt_enc_agg_heap(mt_lb_room(b, mt_enc_string_size((size_t)n * MT_VARINT_MAX), 0), t, values, n);
}

void mt_lb_agg_site(mt_lb_t *b, uint64_t t, uint32_t node, uint64_t allocations, uint64_t bytes,
                    uint64_t peak_bytes, uint64_t peak_blocks, uint64_t temporary)
{
    mt_enc_agg_site(mt_lb_room(b, 0, 0), t, node, allocations, bytes, peak_bytes, peak_blocks,
                    temporary);
}

void mt_lb_agg_live(mt_lb_t *b, uint64_t t, uint64_t size, uint64_t addr, uint32_t node,
                    enum mt_alloc_kind kind)
{
    mt_enc_agg_live(mt_lb_room(b, 0, 0), t, size, addr, node, kind);
}

void mt_lb_origin(mt_lb_t *b, const char *run_id, enum mt_origin how, uint64_t fork_seq,
                  unsigned flags, const char *from)
{
    mt_enc_t *e =
        mt_lb_room(b, mt_enc_string_size(strlen(run_id)) + mt_enc_string_size(strlen(from)), 0);
    mt_enc_origin(e, run_id, strlen(run_id), how, fork_seq, flags, from, strlen(from));
}

void mt_lb_next_log(mt_lb_t *b, const char *path)
{
    mt_enc_next_log(mt_lb_room(b, mt_enc_string_size(strlen(path)), 0), path, strlen(path));
}

void mt_lb_fork(mt_lb_t *b, uint64_t t, uint64_t seq)
{
    mt_enc_fork(mt_lb_room(b, 0, 0), t, seq);
}

void mt_lb_notice(mt_lb_t *b, uint64_t t, uint64_t code, const char *text)
{
    mt_enc_t *e = mt_lb_room(b, mt_enc_string_size(strlen(text)), 0);
    mt_enc_notice_begin(e, t);
    mt_enc_v(e, code);
    mt_enc_string(e, text, strlen(text));
}

#include <link.h>
#include <unistd.h>

typedef struct mt_lb_iter {
    mt_lb_t *b;
    uint64_t id;
} mt_lb_iter_t;

static int mt_lb_phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    mt_lb_iter_t *it = arg;
    char path[4096];
    const char *name = info->dlpi_name;
    if (!name || !name[0]) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0)
            return 0;
        path[n] = '\0';
        name = path;
    }
    uint64_t segs[64][3];
    size_t nseg = 0;
    const uint8_t *build_id = NULL;
    size_t build_id_len = 0;
    for (int i = 0; i < info->dlpi_phnum && nseg < 64; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD) {
            segs[nseg][0] = ph->p_vaddr;
            segs[nseg][1] = ph->p_memsz;
            segs[nseg][2] = ph->p_flags;
            nseg++;
        } else if (ph->p_type == PT_NOTE && !build_id) {
            const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
            const uint8_t *end = p + ph->p_memsz;
            while (p + 12 <= end) {
                const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
                size_t namesz = (nh->n_namesz + 3) & ~3u, descsz = (nh->n_descsz + 3) & ~3u;
                if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                    memcmp(p + 12, "GNU", 4) == 0) {
                    build_id = p + 12 + namesz;
                    build_id_len = nh->n_descsz;
                    break;
                }
                p += 12 + namesz + descsz;
            }
        }
    }
    mt_lb_module(it->b, it->id++, info->dlpi_addr, name, build_id, build_id_len, nseg,
                 (const uint64_t(*)[3])segs);
    return 0;
}

int mt_lb_self_modules(mt_lb_t *b, uint64_t first_id)
{
    mt_lb_iter_t it = {b, first_id};
    dl_iterate_phdr(mt_lb_phdr_cb, &it);
    return (int)(it.id - first_id);
}

/* ---- Python records ---- */

void mt_lb_py_interp(mt_lb_t *b, unsigned major, unsigned minor, unsigned flags, uint64_t lo,
                     uint64_t hi)
{
    mt_enc_py_interp(mt_lb_room(b, 0, 0), major, minor, flags, lo, hi);
}

void mt_lb_py_code(mt_lb_t *b, uint32_t id, uint32_t firstlineno, const char *qualname,
                   const char *file)
{
    size_t q = strlen(qualname), f = strlen(file);
    mt_enc_py_code(mt_lb_room(b, mt_enc_string_size(q) + mt_enc_string_size(f), 0), id, firstlineno,
                   qualname, q, file, f);
}

void mt_lb_py_location(mt_lb_t *b, uint32_t id, uint32_t code, uint32_t line)
{
    mt_enc_py_location(mt_lb_room(b, 0, 0), id, code, line);
}

void mt_lb_py_script_end(mt_lb_t *b, uint64_t t)
{
    mt_enc_py_script_end(mt_lb_room(b, 0, 1), t);
}

void mt_lb_py_arena(mt_lb_t *b, enum mt_tag tag, uint64_t t, uint64_t size, uint64_t addr)
{
    mt_enc_py_arena(mt_lb_room(b, 0, 1), tag, t, size, addr);
}

// SPDX-License-Identifier: MIT
// The index of a log (log_index.h, docs/index.md): an analysis written out structure by
// structure and read back into the same structures, so that every report built from it is
// byte for byte the one built from a replay. Never trusts the file: its bytes are checked
// (CRC) before they are parsed, and every count is bounded by what is left; any doubt is a miss.
#include "log_index.h"
#include "mt_index_layout.h" /* generated: src/meson.build */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "dirs.h"

#ifndef MT_INDEX_LAYOUT
#define MT_INDEX_LAYOUT 0u
#endif

#define MT_INDEX_MAGIC "MTINDEX\n"
#define MT_INDEX_MAGIC_LEN 8
/* The log's fingerprint reads this much of its start and of its end. */
#define MT_INDEX_PROBE (64u * 1024u)

/* The file: this header, then the payload (mt_put_analysis) deflated by zlib: capacities of
 * hash tables and arrays are mostly zeros, and a Python log's index shrinks 7 times. */
typedef struct mt_index_header {
    char magic[MT_INDEX_MAGIC_LEN];
    uint32_t version;
    uint32_t header_size;
    uint64_t layout;
    uint64_t log_size;
    uint64_t log_mtime_s, log_mtime_ns;
    uint32_t log_crc;
    uint32_t payload_crc; /* of the payload as stored (deflated) */
    uint64_t payload_len; /* stored bytes after the header */
    uint64_t raw_len;     /* the payload inflated */
} mt_index_header_t;

int mt_index_enabled(void)
{
    const char *e = getenv("MEMTRACE_INDEX");
    return !(e && (strcmp(e, "0") == 0 || strcmp(e, "no") == 0 || strcmp(e, "off") == 0));
}

static uint64_t mt_index_layout(void)
{
    uint64_t h = (1469598103934665603ull ^ MT_INDEX_LAYOUT) * 1099511628211ull;
    /* the sizes too, for a build whose headers hash the same but whose ABI differs */
    uint64_t sizes[] = {sizeof(mt_analysis_t),      sizeof(mt_replay_t),       sizeof(mt_block_t),
                        sizeof(mt_node_t),          sizeof(mt_node_loc_t),     sizeof(mt_pyinfo_t),
                        sizeof(mt_leakclass_t),     sizeof(mt_thread_stats_t), sizeof(void *),
                        mt_replay_node_final_size()};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        h = (h ^ sizes[i]) * 1099511628211ull;
    return h;
}

/* ---- the log's fingerprint ---- */

typedef struct mt_index_stamp {
    uint64_t size, mtime_s, mtime_ns;
    uint32_t crc;
} mt_index_stamp_t;

static int mt_index_stamp(const char *path, mt_index_stamp_t *s)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        goto out;
    }
    s->size = (uint64_t)st.st_size;
    s->mtime_s = (uint64_t)st.st_mtim.tv_sec;
    s->mtime_ns = (uint64_t)st.st_mtim.tv_nsec;
    unsigned char *buf = malloc(MT_INDEX_PROBE);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t offs[2] = {0, s->size > MT_INDEX_PROBE ? s->size - MT_INDEX_PROBE : 0};
    for (int k = 0; k < 2 && rc == 0; k++) {
        size_t want = s->size < MT_INDEX_PROBE ? (size_t)s->size : MT_INDEX_PROBE;
        ssize_t got = pread(fd, buf, want, (off_t)offs[k]);
        if (got != (ssize_t)want)
            rc = -EIO;
        else
            crc = crc32(crc, buf, (uInt)want);
    }
    free(buf);
    s->crc = (uint32_t)crc;
out:
    close(fd);
    return rc;
}

/* ---- what an index holds: the whole log, or a selection of it ---- */

/* Selections kept per log: a window or thread filter whose key falls on a slot that holds
 * another one's replaces it. Bounded, and enough for a session that looks at a few windows
 * with several commands each. */
#define MT_INDEX_SEL_SLOTS 8u

/* The key of a selection: every input of mt_analysis_load_window besides the log, as bytes
 * (the window as resolved to microseconds, the --thread values as given, which the analysis
 * resolves the same way each time for the same log). Empty for the whole log. The file keeps
 * it whole and a load compares it byte for byte: a hash picks the slot only. */
typedef struct mt_index_key {
    unsigned char *p;
    size_t n;
    unsigned slot;
} mt_index_key_t;

static int mt_index_key_make(mt_index_key_t *k, const mt_window_t *w, const mt_thread_filter_t *f)
{
    memset(k, 0, sizeof *k);
    int win = w && w->on, thr = f && f->n;
    if (!win && !thr)
        return 0;
    size_t n = 40;
    for (size_t i = 0; thr && i < f->n; i++)
        n += strlen(f->specs[i]) + 1;
    if (!(k->p = calloc(1, n)))
        return -ENOMEM;
    uint64_t head[5] = {win ? w->from_us : 0, win ? w->to_us : 0, win ? w->to_mark : 0,
                        (uint64_t)win | (uint64_t)(thr && f->allow_missing) << 1, thr ? f->n : 0};
    memcpy(k->p, head, sizeof head);
    k->n = sizeof head;
    for (size_t i = 0; thr && i < f->n; i++) {
        size_t l = strlen(f->specs[i]) + 1; /* with its NUL: "a","bc" is not "ab","c" */
        memcpy(k->p + k->n, f->specs[i], l);
        k->n += l;
    }
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < k->n; i++)
        h = (h ^ k->p[i]) * 1099511628211ull;
    k->slot = (unsigned)(h % MT_INDEX_SEL_SLOTS);
    return 0;
}

/* The file name's suffix for a key: "" for the whole log, ".wK" for slot K. */
static void mt_index_key_sfx(const mt_index_key_t *k, char *buf, size_t len)
{
    if (k->n)
        snprintf(buf, len, ".w%u", k->slot);
    else
        buf[0] = '\0';
}

/* ---- where ---- */

static int mt_index_cache_dir(char *buf, size_t len)
{
    const char *e = getenv("MEMTRACE_INDEX_DIR");
    int k;
    if (e && e[0]) {
        k = snprintf(buf, len, "%s", e);
    } else {
        const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (x && x[0] == '/')
            k = snprintf(buf, len, "%s/memtrace/index", x);
        else if (home && home[0])
            k = snprintf(buf, len, "%s/.cache/memtrace/index", home);
        else
            return -ENOENT;
    }
    return k > 0 && (size_t)k < len ? 0 : -ENAMETOOLONG;
}

/* The cache directory's name for path: its real path's hash, so two logs never share one;
 * sfx is "" for the whole log, ".wK" for a selection's slot K (mt_index_sel_key). */
static int mt_index_cache_path(const char *path, const char *sfx, char *buf, size_t len)
{
    char dir[4096];
    int rc = mt_index_cache_dir(dir, sizeof dir);
    if (rc < 0)
        return rc;
    char *real = realpath(path, NULL);
    if (!real)
        return -errno;
    uint64_t h = 1469598103934665603ull;
    for (const char *c = real; *c; c++)
        h = (h ^ (uint8_t)*c) * 1099511628211ull;
    const char *base = strrchr(real, '/');
    base = base ? base + 1 : real;
    int k = snprintf(buf, len, "%s/%.64s-%016llx%s.idx", dir, base, (unsigned long long)h, sfx);
    free(real);
    return k > 0 && (size_t)k < len ? 0 : -ENAMETOOLONG;
}

/* DIR/.NAME.idx for DIR/NAME: hidden, so that the globs that pick a run's logs (LOG*, the
 * logs of its exec'd images being LOG.2, LOG.3 ...; memtrace.*.mtr) never pick it up. */
static int mt_index_beside(const char *path, const char *sfx, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int dirlen = slash ? (int)(base - path) : 0;
    int k = snprintf(buf, len, "%.*s.%s%s.idx", dirlen, path, base, sfx);
    return k > 0 && (size_t)k < len ? 0 : -ENAMETOOLONG;
}

int mt_index_find(const char *path, char *buf, size_t len)
{
    struct stat st;
    if (mt_index_beside(path, "", buf, len) == 0 && stat(buf, &st) == 0 && S_ISREG(st.st_mode))
        return 0;
    if (mt_index_cache_path(path, "", buf, len) == 0 && stat(buf, &st) == 0 && S_ISREG(st.st_mode))
        return 0;
    return -ENOENT;
}

/* ---- writing ---- */

typedef struct mt_iout {
    unsigned char *p;
    size_t n, cap;
    int oom;
} mt_iout_t;

static void mt_put(mt_iout_t *o, const void *v, size_t len)
{
    if (o->oom || len == 0)
        return;
    if (o->n + len > o->cap) {
        size_t nc = o->cap ? o->cap : 1u << 16;
        while (nc < o->n + len)
            nc *= 2;
        unsigned char *np = realloc(o->p, nc);
        if (!np) {
            o->oom = 1;
            return;
        }
        o->p = np;
        o->cap = nc;
    }
    memcpy(o->p + o->n, v, len);
    o->n += len;
}

static void mt_put_u64(mt_iout_t *o, uint64_t v)
{
    mt_put(o, &v, sizeof v);
}

/* A string or NULL: its length + 1 (0 for NULL), then its bytes. */
static void mt_put_str(mt_iout_t *o, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    mt_put_u64(o, s ? n + 1 : 0);
    mt_put(o, s, n);
}

/* An array: how many entries to allocate, how many are written, then those. */
static void mt_put_arr(mt_iout_t *o, const void *v, uint64_t alloc, uint64_t used, size_t el)
{
    if (!v)
        alloc = used = 0;
    mt_put_u64(o, alloc);
    mt_put_u64(o, used);
    mt_put(o, v, (size_t)used * el);
}

static void mt_put_replay(mt_iout_t *o, const mt_replay_t *r)
{
    mt_put(o, r, sizeof *r);
    /* live blocks: the table's capacity, then (slot, block) of the used slots, so that they
     * come back at the same places and are visited in the same order */
    uint64_t used = 0;
    for (uint64_t i = 0; r->blocks && i <= r->mask; i++)
        used += r->blocks[i].addr != 0;
    mt_put_u64(o, r->blocks ? r->mask + 1 : 0);
    mt_put_u64(o, used);
    for (uint64_t i = 0; r->blocks && i <= r->mask; i++) {
        if (r->blocks[i].addr) {
            mt_put_u64(o, i);
            mt_put(o, &r->blocks[i], sizeof r->blocks[i]);
        }
    }
    size_t words = ((size_t)r->node_slots + 63) / 64;
    words = words ? words : 1;
    mt_put_arr(o, r->node_slot, r->node_slot_cap, r->node_slot_cap, sizeof *r->node_slot);
    mt_put_arr(o, r->node_bits, words, words, sizeof *r->node_bits);
    mt_put_arr(o, r->node_rank, words, words, sizeof *r->node_rank);
    uint64_t nf = r->nstats ? r->nstats : 1;
    mt_put_arr(o, r->node_final, nf, nf, mt_replay_node_final_size());
    mt_put_arr(o, r->stats, r->stats_cap, r->nstats, sizeof *r->stats);
    mt_put_arr(o, r->pending, r->pending_cap, r->npending, sizeof *r->pending);
    mt_put_arr(o, r->maps, r->maps_cap, r->nmaps, sizeof *r->maps);
    mt_put_arr(o, r->samples, r->samples_cap, r->nsamples, sizeof *r->samples);
    uint64_t tcap = r->threads ? r->threads_mask + 1 : 0;
    mt_put_arr(o, r->threads, tcap, tcap, sizeof *r->threads);
    mt_put_u64(o, r->thread_hit ? (uint64_t)(r->thread_hit - r->threads) : UINT64_MAX);
    mt_put_arr(o, r->tstats, r->tstats_cap, r->ntstats, sizeof *r->tstats);
    mt_put_arr(o, r->sel_tids, r->nsel, r->nsel, sizeof *r->sel_tids);
    uint64_t pcap = r->pairs ? r->pairs_mask + 1 : 0;
    mt_put_arr(o, r->pairs, pcap, pcap, sizeof *r->pairs);
}

static void mt_put_modules(mt_iout_t *o, const mt_modules_t *m)
{
    size_t n = mt_modules_count(m);
    mt_put_u64(o, n);
    for (uint32_t i = 0; i < n; i++) {
        const mt_module_t *mod = mt_modules_get(m, i);
        mt_put_u64(o, mod->id);
        mt_put_u64(o, mod->bias);
        mt_put_u64(o, (uint64_t)mod->loaded);
        mt_put_str(o, mod->path);
        mt_put_arr(o, mod->build_id, mod->build_id_len, mod->build_id_len, 1);
        mt_put_arr(o, mod->segs, mod->nsegs, mod->nsegs, sizeof *mod->segs);
    }
}

static void mt_put_analysis(mt_iout_t *o, const mt_analysis_t *a)
{
    mt_put(o, a, sizeof *a);
    mt_put_str(o, a->process.exe);
    mt_put_u64(o, a->process.argv ? a->process.argc : 0);
    for (size_t i = 0; a->process.argv && i < a->process.argc; i++)
        mt_put_str(o, a->process.argv[i]);
    mt_put_str(o, a->lineage.run_id);
    mt_put_str(o, a->lineage.from_log);
    mt_put_str(o, a->lineage.next_log);
    mt_put_str(o, a->inherit_log);
    mt_put_modules(o, a->modules);
    const mt_nodes_t *t = &a->nodes;
    mt_put_arr(o, t->v, t->cap, t->n, sizeof *t->v); /* ids from n up are not defined */
    mt_put_arr(o, t->locs, t->locs_cap, t->nlocs, sizeof *t->locs);
    mt_put_arr(o, t->loc_table, t->loc_table_cap, t->loc_table_cap, sizeof *t->loc_table);
    mt_put_replay(o, &a->replay);
    const mt_leakclass_t *c = &a->leaks;
    mt_put_arr(o, c->groups, c->ngroups, c->ngroups, sizeof *c->groups);
    uint64_t tabn = c->tab ? c->tab_mask + 1 : 0;
    mt_put_arr(o, c->tab, tabn, tabn, sizeof *c->tab);
    const mt_pyinfo_t *p = &a->python;
    mt_put_u64(o, p->codes ? p->ncodes : 0);
    for (uint32_t i = 0; p->codes && i < p->ncodes; i++) {
        mt_put_str(o, p->codes[i].qualname);
        mt_put_str(o, p->codes[i].file);
        mt_put_u64(o, p->codes[i].firstlineno);
    }
    mt_put_arr(o, p->locs, p->nlocs, p->nlocs, sizeof *p->locs);
    mt_put_arr(o, p->end_bytes, p->nend, p->nend, sizeof *p->end_bytes);
    mt_put_arr(o, p->end_blocks, p->nend, p->nend, sizeof *p->end_blocks);
    mt_put_arr(o, p->arenas, p->arenas_cap, p->narenas, sizeof *p->arenas);
    mt_put_arr(o, p->end_heap_v, p->end_heap_n, p->end_heap_n, sizeof *p->end_heap_v);
    mt_put_u64(o, a->marks.v ? a->marks.n : 0);
    for (size_t i = 0; a->marks.v && i < a->marks.n; i++) {
        mt_put_str(o, a->marks.v[i].name);
        mt_put_u64(o, a->marks.v[i].time_us);
    }
    const mt_thread_names_t *tn = &a->thread_names;
    uint64_t tnn = tn->v ? tn->mask + 1 : 0;
    mt_put_u64(o, tnn);
    for (uint64_t i = 0; i < tnn; i++) {
        mt_put_u64(o, tn->v[i].tid);
        mt_put_str(o, tn->v[i].name);
    }
}

static int mt_index_write(const char *dest, const mt_index_header_t *h, const mt_iout_t *o)
{
    size_t len = strlen(dest) + 32;
    char *tmp = malloc(len);
    if (!tmp)
        return -ENOMEM;
    snprintf(tmp, len, "%s.%ld.tmp", dest, (long)getpid());
    /* As the log itself: mode 0600 (it holds the log's addresses and paths), created anew,
     * never through a symlink someone left at that name (a stale one of ours is removed). */
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(tmp, flags, 0600);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = open(tmp, flags, 0600);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return -e;
    }
    int rc = 0;
    const unsigned char *parts[2] = {(const unsigned char *)h, o->p};
    size_t lens[2] = {sizeof *h, o->n};
    for (int k = 0; k < 2 && rc == 0; k++) {
        size_t done = 0;
        while (done < lens[k]) {
            ssize_t w = write(fd, parts[k] + done, lens[k] - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                rc = w < 0 ? -errno : -EIO;
                break;
            }
            done += (size_t)w;
        }
    }
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, dest) != 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int mt_index_save_key(const mt_analysis_t *a, const char *path, const mt_index_key_t *key)
{
    if (!mt_index_enabled())
        return 0;
    /* A log that may still grow, or whose end is lost, is read again each time; a window
     * that stopped at its end (--to) read no further, and what it read is complete. */
    if (a->truncated || a->cut || (!a->replay.has_exit && !(key->n && a->window_stopped)) ||
        (!key->n && (a->window.on || a->thread_filter)) || a->followed || a->live ||
        a->stopped_at_fork || a->no_files ||
        /* a parent's log is part of it (or was missing): not ours to stamp */
        a->inherit == MT_INHERIT_IMPORTED || a->inherit == MT_INHERIT_UNKNOWN)
        return -EINVAL;
    mt_index_stamp_t st;
    int rc = mt_index_stamp(path, &st);
    if (rc < 0)
        return rc;
    mt_iout_t o = {0};
    mt_put_arr(&o, key->p, key->n, key->n, 1);
    mt_put_analysis(&o, a);
    if (o.oom) {
        free(o.p);
        return -ENOMEM;
    }
    mt_index_header_t h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MT_INDEX_MAGIC, MT_INDEX_MAGIC_LEN);
    h.version = MT_INDEX_VERSION;
    h.header_size = sizeof h;
    h.layout = mt_index_layout();
    h.log_size = st.size;
    h.log_mtime_s = st.mtime_s;
    h.log_mtime_ns = st.mtime_ns;
    h.log_crc = st.crc;
    uLongf zlen = compressBound((uLong)o.n);
    unsigned char *z = malloc(zlen);
    if (!z || compress2(z, &zlen, o.p, (uLong)o.n, 1) != Z_OK) {
        free(z);
        free(o.p);
        return -ENOMEM;
    }
    h.raw_len = o.n;
    free(o.p);
    o.p = z;
    o.n = zlen;
    h.payload_len = o.n;
    /* crc32 takes at most 4 GiB at a time */
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t off = 0; off < o.n;) {
        size_t step = o.n - off > (1u << 30) ? (1u << 30) : o.n - off;
        crc = crc32(crc, o.p + off, (uInt)step);
        off += step;
    }
    h.payload_crc = (uint32_t)crc;
    char dest[4096], sfx[16];
    mt_index_key_sfx(key, sfx, sizeof sfx);
    rc = mt_index_beside(path, sfx, dest, sizeof dest);
    if (rc == 0) {
        rc = mt_index_write(dest, &h, &o);
        if (rc < 0 && mt_index_cache_path(path, sfx, dest, sizeof dest) == 0) {
            char *slash = strrchr(dest, '/');
            *slash = '\0';
            rc = mt_mkdirs_private(dest);
            *slash = '/';
            if (rc == 0)
                rc = mt_index_write(dest, &h, &o);
        }
    }
    free(o.p);
    return rc;
}

int mt_index_save(const mt_analysis_t *a, const char *path)
{
    mt_index_key_t key = {0};
    return mt_index_save_key(a, path, &key);
}

int mt_index_save_sel(const mt_analysis_t *a, const char *path, const mt_window_t *w,
                      const mt_thread_filter_t *f)
{
    mt_index_key_t key;
    int rc = mt_index_key_make(&key, w, f);
    if (rc == 0)
        rc = mt_index_save_key(a, path, &key);
    free(key.p);
    return rc;
}

/* ---- reading ---- */

typedef struct mt_iin {
    const unsigned char *p;
    size_t n, at;
    int bad;
} mt_iin_t;

static void mt_get(mt_iin_t *in, void *v, size_t len)
{
    if (in->bad || len > in->n - in->at) {
        in->bad = 1;
        memset(v, 0, len);
        return;
    }
    memcpy(v, in->p + in->at, len);
    in->at += len;
}

static uint64_t mt_get_u64(mt_iin_t *in)
{
    uint64_t v;
    mt_get(in, &v, sizeof v);
    return v;
}

static char *mt_get_str(mt_iin_t *in)
{
    uint64_t n = mt_get_u64(in);
    if (in->bad || n == 0)
        return NULL;
    if (n - 1 > in->n - in->at) {
        in->bad = 1;
        return NULL;
    }
    char *s = malloc((size_t)n);
    if (!s) {
        in->bad = 1;
        return NULL;
    }
    memcpy(s, in->p + in->at, (size_t)n - 1);
    s[n - 1] = '\0';
    in->at += (size_t)n - 1;
    return s;
}

/* An array as mt_put_arr wrote it, zeroed past what was written; NULL when none was. alloc
 * and used are checked against want_alloc and want_used unless those are UINT64_MAX. */
static void *mt_get_arr(mt_iin_t *in, size_t el, uint64_t want_alloc, uint64_t want_used)
{
    uint64_t alloc = mt_get_u64(in), used = mt_get_u64(in);
    if (in->bad)
        return NULL;
    if ((want_alloc != UINT64_MAX && alloc != want_alloc) ||
        (want_used != UINT64_MAX && used != want_used) || used > alloc ||
        used > (in->n - in->at) / (el ? el : 1) || alloc > SIZE_MAX / el / 2) {
        in->bad = 1;
        return NULL;
    }
    if (alloc == 0)
        return NULL;
    unsigned char *v = calloc((size_t)alloc, el);
    if (!v) {
        in->bad = 1;
        return NULL;
    }
    memcpy(v, in->p + in->at, (size_t)used * el);
    in->at += (size_t)used * el;
    return v;
}

/* mt_get_arr without expectations, telling how many entries were written. */
static void *mt_get_arr_n(mt_iin_t *in, size_t el, uint64_t *used)
{
    *used = 0;
    if (in->bad || in->n - in->at < 16)
        return mt_get_arr(in, el, UINT64_MAX, UINT64_MAX);
    memcpy(used, in->p + in->at + 8, sizeof *used);
    void *v = mt_get_arr(in, el, UINT64_MAX, UINT64_MAX);
    if (in->bad)
        *used = 0;
    return v;
}

static void mt_get_replay(mt_iin_t *in, mt_replay_t *r)
{
    mt_get(in, r, sizeof *r);
    /* nothing of the file's pointers is kept: each is NULL until its array is read */
    r->blocks = NULL;
    r->node_slot = NULL;
    r->node_bits = NULL;
    r->node_rank = NULL;
    r->node_final = NULL;
    r->stats = NULL;
    r->pending = NULL;
    r->maps = NULL;
    r->samples = NULL;
    r->threads = r->thread_hit = NULL;
    r->tstats = NULL;
    r->sel_tids = NULL;
    r->pairs = NULL;
    r->watch = NULL;
    if (in->bad)
        return;
    uint64_t cap = mt_get_u64(in), used = mt_get_u64(in);
    if (in->bad || (cap && (cap & (cap - 1))) || (cap && cap - 1 != r->mask) || used > cap ||
        used > (in->n - in->at) / (8 + sizeof(mt_block_t))) {
        in->bad = 1;
        return;
    }
    if (cap) {
        r->blocks = mt_replay_blocks_new(cap);
        if (!r->blocks) {
            in->bad = 1;
            return;
        }
    }
    for (uint64_t i = 0; i < used && !in->bad; i++) {
        uint64_t slot = mt_get_u64(in);
        if (slot >= cap) {
            in->bad = 1;
            break;
        }
        mt_get(in, &r->blocks[slot], sizeof r->blocks[slot]);
    }
    r->node_slot = mt_get_arr(in, sizeof *r->node_slot, r->node_slot_cap, UINT64_MAX);
    r->node_bits = mt_get_arr(in, sizeof *r->node_bits, UINT64_MAX, UINT64_MAX);
    r->node_rank = mt_get_arr(in, sizeof *r->node_rank, UINT64_MAX, UINT64_MAX);
    if (!in->bad && ((r->node_bits == NULL) != (r->node_rank == NULL) ||
                     (r->node_bits == NULL) == (r->node_slot == NULL))) {
        in->bad = 1;
        return;
    }
    r->node_final =
        mt_get_arr(in, mt_replay_node_final_size(), r->nstats ? r->nstats : 1, UINT64_MAX);
    r->stats = mt_get_arr(in, sizeof *r->stats, UINT64_MAX, UINT64_MAX);
    r->pending = mt_get_arr(in, sizeof *r->pending, r->pending_cap, r->npending);
    r->maps = mt_get_arr(in, sizeof *r->maps, r->maps_cap, r->nmaps);
    r->samples = mt_get_arr(in, sizeof *r->samples, r->samples_cap, r->nsamples);
    uint64_t tcap = r->threads_mask + 1;
    r->threads = mt_get_arr(in, sizeof *r->threads, UINT64_MAX, UINT64_MAX);
    uint64_t hit = mt_get_u64(in);
    if (r->threads && hit != UINT64_MAX && hit < tcap)
        r->thread_hit = &r->threads[hit];
    r->tstats = mt_get_arr(in, sizeof *r->tstats, r->tstats_cap, r->ntstats);
    r->sel_tids = mt_get_arr(in, sizeof *r->sel_tids, r->nsel, r->nsel);
    r->pairs = mt_get_arr(in, sizeof *r->pairs, UINT64_MAX, UINT64_MAX);
    /* the sizes the readers of these tables rely on */
    if (!in->bad && (!r->node_final || (r->node_bits && !r->node_rank) ||
                     (r->threads == NULL) != (r->nthreads == 0 && r->threads_mask == 0) ||
                     (r->pairs && !r->pairs_sorted)))
        in->bad = 1;
}

/* The modules are loaded again, in their order, from their records' fields (the table's
 * hashes and ranges are its own business), then those unloaded since are unloaded. */
static void mt_get_modules(mt_iin_t *in, mt_modules_t *m)
{
    uint64_t n = mt_get_u64(in);
    if (n > (in->n - in->at) / 24)
        in->bad = 1;
    uint64_t *unload = in->bad ? NULL : malloc((n ? n : 1) * sizeof *unload);
    size_t nunload = 0;
    if (!unload)
        in->bad = 1;
    for (uint64_t i = 0; i < n && !in->bad; i++) {
        mt_record_t rec;
        memset(&rec, 0, sizeof rec);
        rec.tag = MT_TAG_MODULE_LOAD;
        rec.id = mt_get_u64(in);
        rec.ip = mt_get_u64(in);
        uint64_t loaded = mt_get_u64(in);
        char *path = mt_get_str(in);
        uint64_t nbid = 0, nsegs = 0;
        unsigned char *bid = mt_get_arr_n(in, 1, &nbid);
        mt_segment_t *segs = mt_get_arr_n(in, sizeof *segs, &nsegs);
        if (!in->bad) {
            rec.str.ptr = path ? path : "";
            rec.str.len = path ? strlen(path) : 0;
            rec.build_id.ptr = (const char *)bid;
            rec.build_id.len = (size_t)nbid;
            rec.segs = segs;
            rec.nsegs = (size_t)nsegs;
            if (mt_modules_load(m, &rec) < 0)
                in->bad = 1;
            else if (!loaded)
                unload[nunload++] = rec.id;
        }
        free(path);
        free(bid);
        free(segs);
    }
    for (size_t i = 0; i < nunload && !in->bad; i++)
        if (mt_modules_unload(m, unload[i]) < 0)
            in->bad = 1;
    free(unload);
}

/* Reads the analysis mt_put_analysis wrote. Each part is cleared in *a until its arrays are
 * read, so that on a miss half way mt_analysis_free frees exactly what was read. */
static mt_analysis_t *mt_get_analysis(mt_iin_t *in, const char *path)
{
    mt_analysis_t f; /* as written: scalars good, pointers the writer's */
    mt_get(in, &f, sizeof f);
    if (in->bad)
        return NULL;
    mt_analysis_t *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    *a = f;
    a->path = NULL;
    memset(&a->process, 0, sizeof a->process);
    memset(&a->lineage, 0, sizeof a->lineage);
    a->inherit_log = NULL;
    a->modules = NULL;
    memset(&a->nodes, 0, sizeof a->nodes);
    memset(&a->replay, 0, sizeof a->replay);
    memset(&a->leaks, 0, sizeof a->leaks);
    mt_pyinfo_init(&a->python);
    memset(&a->marks, 0, sizeof a->marks);
    memset(&a->thread_names, 0, sizeof a->thread_names);
    a->snap_us = NULL;
    a->snap_n = a->snap_i = 0;
    a->snap_fn = NULL;
    a->snap_arg = NULL;
    a->live = NULL;

    if (!(a->path = strdup(path)))
        in->bad = 1;
    a->process = f.process;
    a->process.exe = mt_get_str(in);
    a->process.argv = NULL;
    a->process.argc = 0;
    uint64_t nargv = mt_get_u64(in);
    if (!in->bad && (nargv != f.process.argc || nargv > in->n - in->at))
        in->bad = 1;
    if (!in->bad && nargv) {
        a->process.argv = calloc((size_t)nargv, sizeof *a->process.argv);
        if (!a->process.argv)
            in->bad = 1;
        else
            a->process.argc = (size_t)nargv;
    }
    for (size_t i = 0; i < a->process.argc && !in->bad; i++)
        if (!(a->process.argv[i] = mt_get_str(in)))
            in->bad = 1;
    a->lineage = f.lineage;
    a->lineage.run_id = mt_get_str(in);
    a->lineage.from_log = mt_get_str(in);
    a->lineage.next_log = mt_get_str(in);
    a->inherit_log = mt_get_str(in);
    if (!in->bad && mt_modules_new(&a->modules) < 0)
        in->bad = 1;
    if (!in->bad)
        mt_get_modules(in, a->modules);

    mt_nodes_t *t = &a->nodes;
    if (!in->bad) {
        *t = f.nodes;
        t->v = mt_get_arr(in, sizeof *t->v, f.nodes.cap, f.nodes.n);
        t->locs = mt_get_arr(in, sizeof *t->locs, f.nodes.locs_cap, f.nodes.nlocs);
        t->loc_table =
            mt_get_arr(in, sizeof *t->loc_table, f.nodes.loc_table_cap, f.nodes.loc_table_cap);
        if (!in->bad && (t->n > t->cap || !t->v || !t->locs || t->nlocs > t->locs_cap))
            in->bad = 1;
    }
    if (!in->bad)
        mt_get_replay(in, &a->replay);

    mt_leakclass_t *c = &a->leaks;
    if (!in->bad) {
        *c = f.leaks;
        c->groups = mt_get_arr(in, sizeof *c->groups, f.leaks.ngroups, f.leaks.ngroups);
        c->tab = mt_get_arr(in, sizeof *c->tab, UINT64_MAX, UINT64_MAX);
        if (!in->bad && c->tab == NULL && f.leaks.tab != NULL)
            in->bad = 1;
    }

    mt_pyinfo_t *p = &a->python;
    if (!in->bad) {
        uint64_t nc = mt_get_u64(in);
        if (nc != (f.python.codes ? f.python.ncodes : 0) || nc > (in->n - in->at) / 24)
            in->bad = 1;
        mt_pycode_info_t *codes = in->bad ? NULL : calloc(nc ? nc : 1, sizeof *codes);
        if (!codes)
            in->bad = 1;
        uint32_t got = 0;
        for (; got < nc && !in->bad; got++) {
            codes[got].qualname = mt_get_str(in);
            codes[got].file = mt_get_str(in);
            codes[got].firstlineno = (uint32_t)mt_get_u64(in);
        }
        *p = f.python;
        p->codes = f.python.codes ? codes : NULL;
        if (!f.python.codes)
            free(codes);
        p->ncodes = p->codes ? got : 0;
        p->locs = mt_get_arr(in, sizeof *p->locs, f.python.nlocs, f.python.nlocs);
        p->end_bytes = mt_get_arr(in, sizeof *p->end_bytes, f.python.nend, f.python.nend);
        p->end_blocks = mt_get_arr(in, sizeof *p->end_blocks, f.python.nend, f.python.nend);
        p->arenas = mt_get_arr(in, sizeof *p->arenas, f.python.arenas_cap, f.python.narenas);
        p->end_heap_v =
            mt_get_arr(in, sizeof *p->end_heap_v, f.python.end_heap_n, f.python.end_heap_n);
        if (in->bad) {
            /* only what was read is freed: counts without arrays are zero */
            if (!p->locs)
                p->nlocs = 0;
            if (!p->end_bytes || !p->end_blocks)
                p->nend = 0;
            if (!p->arenas)
                p->narenas = p->arenas_cap = 0;
            if (!p->end_heap_v)
                p->end_heap_n = 0;
        }
    }

    if (!in->bad) {
        uint64_t nm = mt_get_u64(in);
        if (nm != (f.marks.v ? f.marks.n : 0) || nm > (in->n - in->at) / 16)
            in->bad = 1;
        if (!in->bad && nm) {
            a->marks.v = calloc((size_t)nm, sizeof *a->marks.v);
            if (!a->marks.v)
                in->bad = 1;
            else
                a->marks.cap = (size_t)nm;
        }
        for (; a->marks.n < nm && !in->bad; a->marks.n++) {
            a->marks.v[a->marks.n].name = mt_get_str(in);
            a->marks.v[a->marks.n].time_us = mt_get_u64(in);
            if (!a->marks.v[a->marks.n].name)
                in->bad = 1;
        }
    }

    if (!in->bad) {
        uint64_t nt = mt_get_u64(in);
        if (nt != (f.thread_names.v ? f.thread_names.mask + 1 : 0) || nt > (in->n - in->at) / 16 ||
            (nt & (nt - 1)))
            in->bad = 1;
        if (!in->bad && nt) {
            a->thread_names.v = calloc((size_t)nt, sizeof *a->thread_names.v);
            if (!a->thread_names.v)
                in->bad = 1;
            else
                a->thread_names.mask = (size_t)nt - 1;
        }
        for (uint64_t i = 0; i < nt && !in->bad; i++) {
            a->thread_names.v[i].tid = mt_get_u64(in);
            a->thread_names.v[i].name = mt_get_str(in);
        }
        a->thread_names.n = f.thread_names.n;
    }

    if (in->bad || in->at != in->n) {
        mt_analysis_free(a);
        return NULL;
    }
    return a;
}

static int mt_index_try(mt_analysis_t **out, const char *path, const char *ipath,
                        const mt_index_stamp_t *st, const mt_index_key_t *key);

static int mt_index_load_key(mt_analysis_t **out, const char *path, const mt_index_key_t *key)
{
    *out = NULL;
    if (!mt_index_enabled())
        return 0;
    mt_index_stamp_t st;
    if (mt_index_stamp(path, &st) < 0)
        return 0;
    /* beside the log first; a miss there (a stale one, or a directory of that name) may be
     * the cache directory's hit, where the log's directory could not be written */
    char ipath[4096], sfx[16];
    mt_index_key_sfx(key, sfx, sizeof sfx);
    if (mt_index_beside(path, sfx, ipath, sizeof ipath) == 0 &&
        mt_index_try(out, path, ipath, &st, key))
        return 1;
    if (mt_index_cache_path(path, sfx, ipath, sizeof ipath) == 0 &&
        mt_index_try(out, path, ipath, &st, key))
        return 1;
    return 0;
}

int mt_index_load(mt_analysis_t **out, const char *path)
{
    mt_index_key_t key = {0};
    return mt_index_load_key(out, path, &key);
}

int mt_index_load_sel(mt_analysis_t **out, const char *path, const mt_window_t *w,
                      const mt_thread_filter_t *f)
{
    mt_index_key_t key;
    *out = NULL;
    if (mt_index_key_make(&key, w, f) < 0)
        return 0;
    int hit = mt_index_load_key(out, path, &key);
    free(key.p);
    return hit;
}

/* 1 with *out set when ipath is a good index of path, whose fingerprint is st. Only a file
 * of this user's is read: the index is trusted further than a log is (its structures are
 * taken as they are once its checksum holds). */
static int mt_index_try(mt_analysis_t **out, const char *path, const char *ipath,
                        const mt_index_stamp_t *stp, const mt_index_key_t *key)
{
    const mt_index_stamp_t st = *stp;
    int fd = open(ipath, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    mt_index_header_t h;
    struct stat ist;
    unsigned char *buf = NULL, *raw = NULL;
    int hit = 0;
    if (fstat(fd, &ist) != 0 || !S_ISREG(ist.st_mode) || ist.st_uid != geteuid() ||
        pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
        memcmp(h.magic, MT_INDEX_MAGIC, MT_INDEX_MAGIC_LEN) != 0 || h.version != MT_INDEX_VERSION ||
        h.header_size != sizeof h || h.layout != mt_index_layout() || h.log_size != st.size ||
        h.log_mtime_s != st.mtime_s || h.log_mtime_ns != st.mtime_ns || h.log_crc != st.crc ||
        h.payload_len != (uint64_t)ist.st_size - sizeof h || h.payload_len > SIZE_MAX / 2)
        goto out;
    buf = malloc(h.payload_len ? (size_t)h.payload_len : 1);
    if (!buf)
        goto out;
    for (size_t done = 0; done < h.payload_len;) {
        ssize_t r = pread(fd, buf + done, (size_t)h.payload_len - done, (off_t)(sizeof h + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        done += (size_t)r;
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t off = 0; off < h.payload_len;) {
        size_t step = h.payload_len - off > (1u << 30) ? (1u << 30) : h.payload_len - off;
        crc = crc32(crc, buf + off, (uInt)step);
        off += step;
    }
    if ((uint32_t)crc != h.payload_crc || h.raw_len > SIZE_MAX / 2)
        goto out;
    raw = malloc(h.raw_len ? (size_t)h.raw_len : 1);
    uLongf rlen = (uLongf)h.raw_len;
    if (!raw || uncompress(raw, &rlen, buf, (uLong)h.payload_len) != Z_OK || rlen != h.raw_len)
        goto out;
    mt_iin_t in = {.p = raw, .n = (size_t)h.raw_len};
    /* another selection that fell on the same slot, or the whole log's: a miss */
    uint64_t klen = 0;
    unsigned char *k = mt_get_arr_n(&in, 1, &klen);
    int same = !in.bad && klen == key->n && (klen == 0 || memcmp(k, key->p, key->n) == 0);
    free(k);
    if (!same)
        goto out;
    *out = mt_get_analysis(&in, path);
    hit = *out != NULL;
out:
    free(buf);
    free(raw);
    close(fd);
    return hit;
}

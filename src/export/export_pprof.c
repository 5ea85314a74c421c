// SPDX-License-Identifier: MIT
// pprof export (see export.h): profile.proto from github.com/google/pprof/proto, encoded with
// protobuf_writer.c and gzip-compressed with zlib, as `go tool pprof` and Pyroscope read it.
// Locations are one recorded address with its inlined frames (Line entries innermost first, as
// the proto says); functions are (name, file) pairs; every string goes through one table.
#include "export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mt_config.h"
#include "names.h"
#include "protobuf_writer.h"

/* profile.proto field numbers */
enum {
    PB_PROFILE_SAMPLE_TYPE = 1,
    PB_PROFILE_SAMPLE = 2,
    PB_PROFILE_MAPPING = 3,
    PB_PROFILE_LOCATION = 4,
    PB_PROFILE_FUNCTION = 5,
    PB_PROFILE_STRING_TABLE = 6,
    PB_PROFILE_TIME_NANOS = 9,
    PB_PROFILE_DURATION_NANOS = 10,
    PB_PROFILE_PERIOD_TYPE = 11,
    PB_PROFILE_PERIOD = 12,
    PB_PROFILE_COMMENT = 13,
    PB_PROFILE_DEFAULT_SAMPLE_TYPE = 14,
    PB_VALUETYPE_TYPE = 1,
    PB_VALUETYPE_UNIT = 2,
    PB_SAMPLE_LOCATION_ID = 1,
    PB_SAMPLE_VALUE = 2,
    PB_MAPPING_ID = 1,
    PB_MAPPING_MEMORY_START = 2,
    PB_MAPPING_MEMORY_LIMIT = 3,
    PB_MAPPING_FILENAME = 5,
    PB_MAPPING_BUILD_ID = 6,
    PB_MAPPING_HAS_FUNCTIONS = 7,
    PB_MAPPING_HAS_FILENAMES = 8,
    PB_MAPPING_HAS_LINE_NUMBERS = 9,
    PB_MAPPING_HAS_INLINE_FRAMES = 10,
    PB_LOCATION_ID = 1,
    PB_LOCATION_MAPPING_ID = 2,
    PB_LOCATION_ADDRESS = 3,
    PB_LOCATION_LINE = 4,
    PB_LINE_FUNCTION_ID = 1,
    PB_LINE_LINE = 2,
    PB_FUNCTION_ID = 1,
    PB_FUNCTION_NAME = 2,
    PB_FUNCTION_SYSTEM_NAME = 3,
    PB_FUNCTION_FILENAME = 4,
};

/* Open-addressing table from a 64-bit hash to an id, with the caller checking equality. */
typedef struct mt_idmap {
    uint64_t *hash;
    uint64_t *id; /* 0 = empty */
    size_t mask, n;
} mt_idmap_t;

typedef struct mt_pprof {
    const mt_analysis_t *a;
    mt_pb_t out, msg, sub;
    /* strings: table index by content */
    char **strs;
    size_t nstrs, strs_cap;
    mt_idmap_t str_map;
    /* functions: (name, file) interned pointers */
    const char **fn_name, **fn_file;
    size_t nfns, fns_cap;
    mt_idmap_t fn_map;
    /* locations: a group of frames (one address and its inlined callers) */
    const mt_frame_t **loc_frames;
    size_t *loc_n;
    size_t nlocs, locs_cap;
    mt_idmap_t loc_map;
    uint8_t *mapping_used; /* by module index */
    int err;
} mt_pprof_t;

static uint64_t mt_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h ^ (h >> 31);
}

static int mt_idmap_grow(mt_idmap_t *m)
{
    size_t cap = m->mask ? (m->mask + 1) * 2 : 256;
    uint64_t *h = calloc(cap, sizeof *h), *id = calloc(cap, sizeof *id);
    if (!h || !id) {
        free(h);
        free(id);
        return -ENOMEM;
    }
    for (size_t i = 0; m->mask && i <= m->mask; i++) {
        if (!m->id[i])
            continue;
        size_t j = m->hash[i] & (cap - 1);
        while (id[j])
            j = (j + 1) & (cap - 1);
        h[j] = m->hash[i];
        id[j] = m->id[i];
    }
    free(m->hash);
    free(m->id);
    m->hash = h;
    m->id = id;
    m->mask = cap - 1;
    return 0;
}

static void mt_idmap_destroy(mt_idmap_t *m)
{
    free(m->hash);
    free(m->id);
}

/* Finds the slot for hash h: returns the id found (eq says it matches) or 0 with *slot the
 * empty slot to fill. */
static uint64_t mt_idmap_find(mt_pprof_t *p, mt_idmap_t *m, uint64_t h,
                              int (*eq)(mt_pprof_t *p, uint64_t id, const void *key),
                              const void *key, size_t *slot)
{
    if ((m->n + 1) * 2 > m->mask + 1 && mt_idmap_grow(m) < 0) {
        p->err = -ENOMEM;
        return 0;
    }
    size_t j = h & m->mask;
    for (; m->id[j]; j = (j + 1) & m->mask)
        if (m->hash[j] == h && eq(p, m->id[j], key))
            return m->id[j];
    *slot = j;
    return 0;
}

static int mt_str_eq(mt_pprof_t *p, uint64_t id, const void *key)
{
    return strcmp(p->strs[id], key) == 0;
}

/* The string table index of s (0 is ""). */
static uint64_t mt_pprof_str(mt_pprof_t *p, const char *s)
{
    if (!s || !*s || p->err)
        return 0;
    uint64_t h = mt_hash_bytes(s, strlen(s));
    size_t slot;
    uint64_t id = mt_idmap_find(p, &p->str_map, h, mt_str_eq, s, &slot);
    if (id || p->err)
        return id;
    if (p->nstrs == p->strs_cap) {
        size_t nc = p->strs_cap * 2;
        char **nv = realloc(p->strs, nc * sizeof *nv);
        if (!nv) {
            p->err = -ENOMEM;
            return 0;
        }
        p->strs = nv;
        p->strs_cap = nc;
    }
    if (!(p->strs[p->nstrs] = strdup(s))) {
        p->err = -ENOMEM;
        return 0;
    }
    id = p->nstrs++;
    p->str_map.hash[slot] = h;
    p->str_map.id[slot] = id;
    p->str_map.n++;
    return id;
}

typedef struct mt_fn_key {
    const char *name, *file;
} mt_fn_key_t;

static int mt_fn_eq(mt_pprof_t *p, uint64_t id, const void *key)
{
    const mt_fn_key_t *k = key;
    return p->fn_name[id - 1] == k->name && p->fn_file[id - 1] == k->file;
}

/*
 * The name pprof shows. pprof takes a name equal to its system name for one it may simplify:
 * it cuts what is between '<' and '>' and between '(' and ')' when the name looks like C++
 * (google/pprof internal/symbolizer Demangle), so "<module>" became "" and read "<unknown>".
 * A Python frame is named "function (file)", which also keeps one file's <module> apart from
 * another's in `pprof -top` (it merges functions by name), its system name being the bare
 * function; a C++ name is shown shortened (names.h) with the full name as system name.
 */
static const char *mt_pprof_name(const mt_frame_t *f, char *buf, size_t len)
{
    if (!f->python || !f->file)
        return mt_name_show(f->function, buf, len);
    const char *base = strrchr(f->file, '/');
    base = base ? base + 1 : f->file;
    /* a package's __init__.py (or __main__.py) is named with its package's directory */
    if (base != f->file && (strcmp(base, "__init__.py") == 0 || strcmp(base, "__main__.py") == 0)) {
        const char *dir = base - 1;
        while (dir > f->file && dir[-1] != '/')
            dir--;
        base = dir;
    }
    snprintf(buf, len, "%s (%s)", f->function, base);
    return buf;
}

/* Function id (from 1) of a named frame; writes the Function message the first time. */
static uint64_t mt_pprof_function(mt_pprof_t *p, const mt_frame_t *f)
{
    mt_fn_key_t k = {f->function, f->file};
    uint64_t h = mt_hash_bytes(&k, sizeof k);
    size_t slot;
    uint64_t id = mt_idmap_find(p, &p->fn_map, h, mt_fn_eq, &k, &slot);
    if (id || p->err)
        return id;
    if (p->nfns == p->fns_cap) {
        size_t nc = p->fns_cap ? p->fns_cap * 2 : 256;
        const char **nn = realloc(p->fn_name, nc * sizeof *nn);
        if (nn)
            p->fn_name = nn;
        const char **nf = nn ? realloc(p->fn_file, nc * sizeof *nf) : NULL;
        if (!nf) {
            p->err = -ENOMEM;
            return 0;
        }
        p->fn_file = nf;
        p->fns_cap = nc;
    }
    p->fn_name[p->nfns] = k.name;
    p->fn_file[p->nfns] = k.file;
    id = ++p->nfns;
    p->fn_map.hash[slot] = h;
    p->fn_map.id[slot] = id;
    p->fn_map.n++;
    char shown[2048];
    uint64_t name = mt_pprof_str(p, mt_pprof_name(f, shown, sizeof shown));
    uint64_t system = mt_pprof_str(p, f->function), file = mt_pprof_str(p, f->file);
    mt_pb_reset(&p->msg);
    mt_pb_varint(&p->msg, PB_FUNCTION_ID, id);
    mt_pb_varint(&p->msg, PB_FUNCTION_NAME, name);
    mt_pb_varint(&p->msg, PB_FUNCTION_SYSTEM_NAME, system);
    if (file)
        mt_pb_varint(&p->msg, PB_FUNCTION_FILENAME, file);
    mt_pb_message(&p->out, PB_PROFILE_FUNCTION, &p->msg);
    return id;
}

typedef struct mt_loc_key {
    const mt_frame_t *f;
    size_t n;
} mt_loc_key_t;

static int mt_loc_eq(mt_pprof_t *p, uint64_t id, const void *key)
{
    const mt_loc_key_t *k = key;
    const mt_frame_t *f = p->loc_frames[id - 1];
    return mt_sites_stack_equal(f, p->loc_n[id - 1], k->f, k->n) &&
           f[k->n - 1].address == k->f[k->n - 1].address &&
           f[k->n - 1].module == k->f[k->n - 1].module;
}

/* Location id (from 1) of frames f[0..n-1] (one address, innermost inlined frame first). */
static uint64_t mt_pprof_location(mt_pprof_t *p, const mt_frame_t *f, size_t n)
{
    mt_loc_key_t k = {f, n};
    uint64_t h = mt_sites_stack_hash(f, n) ^ (f[n - 1].address * 0x9e3779b97f4a7c15ull);
    size_t slot;
    uint64_t id = mt_idmap_find(p, &p->loc_map, h, mt_loc_eq, &k, &slot);
    if (id || p->err)
        return id;
    if (p->nlocs == p->locs_cap) {
        size_t nc = p->locs_cap ? p->locs_cap * 2 : 256;
        const mt_frame_t **nf = realloc(p->loc_frames, nc * sizeof *nf);
        if (nf)
            p->loc_frames = nf;
        size_t *nn = nf ? realloc(p->loc_n, nc * sizeof *nn) : NULL;
        if (!nn) {
            p->err = -ENOMEM;
            return 0;
        }
        p->loc_n = nn;
        p->locs_cap = nc;
    }
    p->loc_frames[p->nlocs] = f; /* the sites outlive the export */
    p->loc_n[p->nlocs] = n;
    id = ++p->nlocs;
    p->loc_map.hash[slot] = h;
    p->loc_map.id[slot] = id;
    p->loc_map.n++;

    const mt_frame_t *outer = &f[n - 1];
    const mt_module_t *m = mt_modules_get(p->a->modules, outer->module);
    uint64_t fn_ids[64], lines[64];
    size_t nl = n < 64 ? n : 64;
    for (size_t i = 0; i < nl; i++) {
        fn_ids[i] = f[i].function ? mt_pprof_function(p, &f[i]) : 0;
        lines[i] = f[i].line;
    }
    mt_pb_reset(&p->msg);
    mt_pb_varint(&p->msg, PB_LOCATION_ID, id);
    if (m) {
        mt_pb_varint(&p->msg, PB_LOCATION_MAPPING_ID, (uint64_t)outer->module + 1);
        mt_pb_varint(&p->msg, PB_LOCATION_ADDRESS, m->bias + outer->address);
        p->mapping_used[outer->module] = 1;
    } else {
        mt_pb_varint(&p->msg, PB_LOCATION_ADDRESS, outer->address);
    }
    for (size_t i = 0; i < nl; i++) {
        if (!fn_ids[i])
            continue; /* no symbol: the address alone stands for it */
        mt_pb_reset(&p->sub);
        mt_pb_varint(&p->sub, PB_LINE_FUNCTION_ID, fn_ids[i]);
        if (lines[i])
            mt_pb_varint(&p->sub, PB_LINE_LINE, lines[i]);
        mt_pb_message(&p->msg, PB_LOCATION_LINE, &p->sub);
    }
    mt_pb_message(&p->out, PB_PROFILE_LOCATION, &p->msg);
    return id;
}

static void mt_pprof_value_type(mt_pprof_t *p, uint32_t field, const char *type, const char *unit)
{
    uint64_t t = mt_pprof_str(p, type), u = mt_pprof_str(p, unit);
    mt_pb_reset(&p->msg);
    mt_pb_varint(&p->msg, PB_VALUETYPE_TYPE, t);
    mt_pb_varint(&p->msg, PB_VALUETYPE_UNIT, u);
    mt_pb_message(&p->out, field, &p->msg);
}

static void mt_pprof_sample(mt_pprof_t *p, const mt_site_t *s, enum mt_cost cost, uint64_t **ids,
                            size_t *ids_cap)
{
    if (*ids_cap < s->nframes + 1) {
        uint64_t *nv = realloc(*ids, (s->nframes + 1) * sizeof *nv);
        if (!nv) {
            p->err = -ENOMEM;
            return;
        }
        *ids = nv;
        *ids_cap = s->nframes + 1;
    }
    size_t nids = 0;
    for (size_t i = 0; i < s->nframes;) {
        size_t j = i;
        /* an inlined frame shares its address with the frames up to the next non-inlined */
        while (j + 1 < s->nframes && s->frames[j].inlined)
            j++;
        (*ids)[nids++] = mt_pprof_location(p, &s->frames[i], j - i + 1);
        i = j + 1;
    }
    int peak = cost != MT_COST_LEAKED;
    uint64_t v[4] = {s->allocations, s->bytes_allocated, peak ? s->peak_blocks : s->leaked_blocks,
                     peak ? s->peak_bytes : s->leaked_bytes};
    mt_pb_reset(&p->msg);
    mt_pb_packed(&p->msg, PB_SAMPLE_LOCATION_ID, *ids, nids);
    mt_pb_packed(&p->msg, PB_SAMPLE_VALUE, v, 4);
    mt_pb_message(&p->out, PB_PROFILE_SAMPLE, &p->msg);
}

static void mt_pprof_mappings(mt_pprof_t *p)
{
    size_t nm = mt_modules_count(p->a->modules);
    for (size_t i = 0; i < nm; i++) {
        if (!p->mapping_used[i])
            continue;
        const mt_module_t *m = mt_modules_get(p->a->modules, (uint32_t)i);
        uint64_t lo = UINT64_MAX, hi = 0;
        for (size_t s = 0; s < m->nsegs; s++) {
            if (m->segs[s].vaddr < lo)
                lo = m->segs[s].vaddr;
            if (m->segs[s].vaddr + m->segs[s].memsz > hi)
                hi = m->segs[s].vaddr + m->segs[s].memsz;
        }
        if (lo > hi)
            lo = hi = 0;
        char bid[2 * 64 + 1] = "";
        for (size_t b = 0; b < m->build_id_len && b < 64; b++)
            snprintf(bid + 2 * b, 3, "%02x", m->build_id[b]);
        uint64_t file = mt_pprof_str(p, m->path), build = mt_pprof_str(p, bid);
        mt_pb_reset(&p->msg);
        mt_pb_varint(&p->msg, PB_MAPPING_ID, i + 1);
        mt_pb_varint(&p->msg, PB_MAPPING_MEMORY_START, m->bias + lo);
        mt_pb_varint(&p->msg, PB_MAPPING_MEMORY_LIMIT, m->bias + hi);
        mt_pb_varint(&p->msg, PB_MAPPING_FILENAME, file);
        if (build)
            mt_pb_varint(&p->msg, PB_MAPPING_BUILD_ID, build);
        /* symbolized already: pprof must not look for the binaries again */
        mt_pb_varint(&p->msg, PB_MAPPING_HAS_FUNCTIONS, 1);
        mt_pb_varint(&p->msg, PB_MAPPING_HAS_FILENAMES, 1);
        mt_pb_varint(&p->msg, PB_MAPPING_HAS_LINE_NUMBERS, 1);
        mt_pb_varint(&p->msg, PB_MAPPING_HAS_INLINE_FRAMES, 1);
        mt_pb_message(&p->out, PB_PROFILE_MAPPING, &p->msg);
    }
}

static int mt_gzip_write(const uint8_t *data, size_t len, FILE *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip header and trailer instead of zlib's */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    uint8_t buf[65536];
    int rc = 0, zr;
    z.next_in = (Bytef *)(uintptr_t)data;
    do {
        /* avail_in is 32-bit: feed at most 1 GiB at a time */
        size_t step = len > (1u << 30) ? (1u << 30) : len;
        z.avail_in = (uInt)step;
        len -= step;
        do {
            z.next_out = buf;
            z.avail_out = sizeof buf;
            zr = deflate(&z, len ? Z_NO_FLUSH : Z_FINISH);
            size_t have = sizeof buf - z.avail_out;
            if (have && fwrite(buf, 1, have, out) != have)
                rc = -EIO;
        } while (z.avail_out == 0 && rc == 0);
    } while (len && rc == 0);
    if (rc == 0 && zr != Z_STREAM_END)
        rc = -EIO;
    deflateEnd(&z);
    return rc;
}

int mt_export_pprof(const mt_analysis_t *a, mt_sites_t *sites, enum mt_cost cost, FILE *out)
{
    mt_pprof_t p;
    memset(&p, 0, sizeof p);
    p.a = a;
    mt_pb_init(&p.out);
    mt_pb_init(&p.msg);
    mt_pb_init(&p.sub);
    uint64_t *ids = NULL;
    size_t ids_cap = 0;
    int rc = -ENOMEM;
    p.strs_cap = 256;
    p.mapping_used = calloc(mt_modules_count(a->modules) + 1, 1);
    if (!(p.strs = malloc(p.strs_cap * sizeof *p.strs)) || !p.mapping_used ||
        !(p.strs[0] = strdup("")))
        goto out;
    p.nstrs = 1;
    if (mt_sites_load_all(sites) < 0) /* locations point into the sites' frames */
        goto out;

    /* The order of Go's heap profiles, so tools that pick by index see what they expect. */
    mt_pprof_value_type(&p, PB_PROFILE_SAMPLE_TYPE, "alloc_objects", "count");
    mt_pprof_value_type(&p, PB_PROFILE_SAMPLE_TYPE, "alloc_space", "bytes");
    mt_pprof_value_type(&p, PB_PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
    mt_pprof_value_type(&p, PB_PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
    for (size_t i = 0; i < sites->n && !p.err; i++) {
        const mt_site_t *s = &sites->v[i];
        if (s->allocations || s->bytes_allocated || s->leaked_bytes || s->leaked_blocks ||
            s->peak_bytes || s->peak_blocks)
            mt_pprof_sample(&p, s, cost, &ids, &ids_cap);
    }
    mt_pprof_mappings(&p);
    mt_pb_varint(&p.out, PB_PROFILE_TIME_NANOS, a->start_realtime_ns);
    mt_pb_varint(&p.out, PB_PROFILE_DURATION_NANOS, a->replay.last_time_us * 1000);
    mt_pprof_value_type(&p, PB_PROFILE_PERIOD_TYPE, "space", "bytes");
    mt_pb_varint(&p.out, PB_PROFILE_PERIOD, 1); /* every allocation is recorded */
    char *cmd = mt_analysis_command(a);
    if (!cmd)
        goto out;
    char comment[512];
    snprintf(comment, sizeof comment, "memtrace %s: %s (inuse = %s)%s", MT_VERSION, cmd,
             cost == MT_COST_LEAKED ? "not freed at exit" : "held at the heap peak",
             a->aggregated ? " (aggregated log: memtrace run --aggregate)" : "");
    free(cmd);
    mt_pb_varint(&p.out, PB_PROFILE_COMMENT, mt_pprof_str(&p, comment));
    mt_pb_varint(&p.out, PB_PROFILE_DEFAULT_SAMPLE_TYPE,
                 mt_pprof_str(&p, cost == MT_COST_ALLOCATIONS ? "alloc_objects"
                                  : cost == MT_COST_ALLOCATED ? "alloc_space"
                                                              : "inuse_space"));
    for (size_t i = 0; i < p.nstrs; i++)
        mt_pb_string(&p.out, PB_PROFILE_STRING_TABLE, p.strs[i]);
    if (p.err || mt_pb_error(&p.out))
        goto out;
    rc = mt_gzip_write(p.out.buf, p.out.len, out);
    if (rc == 0 && (fflush(out) != 0 || ferror(out)))
        rc = -EIO;
out:
    free(ids);
    for (size_t i = 0; p.strs && i < p.nstrs; i++)
        free(p.strs[i]);
    free(p.strs);
    free(p.fn_name);
    free(p.fn_file);
    free(p.loc_frames);
    free(p.loc_n);
    free(p.mapping_used);
    mt_idmap_destroy(&p.str_map);
    mt_idmap_destroy(&p.fn_map);
    mt_idmap_destroy(&p.loc_map);
    mt_pb_destroy(&p.out);
    mt_pb_destroy(&p.msg);
    mt_pb_destroy(&p.sub);
    return rc;
}

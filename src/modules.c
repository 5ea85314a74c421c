// SPDX-License-Identifier: MIT
// Module table: modules in arrival order (index = position, stable) plus a sorted array of
// the address ranges of the currently loaded ones, rebuilt lazily after a load or unload
// (lookups happen for every new trace node). Never trusts ids or lengths. A program that
// dlopens and dlcloses a library 100,000 times must cost linear time: ids and files are found
// through hash tables, and a rebuild looks only at the modules loaded now.
#include "modules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct mt_range {
    uint64_t start, end; /* [start, end) */
    uint32_t index;
} mt_range_t;

struct mt_modules {
    mt_module_t *mods;
    size_t count, cap;
    mt_range_t *ranges;
    size_t nranges, ranges_cap;
    int dirty;
    uint32_t *loaded; /* indices of the loaded modules, in no order */
    size_t nloaded;
    /* Open addressing, module index + 1 (0 = empty), sized to a power of two >= 2 * count:
     * by_id on the log's id, by_file on (path, build-id, segments) of first loads only. */
    uint32_t *by_id, *by_file;
    size_t hcap;
};

static uint64_t mt_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static uint64_t mt_file_hash(const mt_module_t *mod)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *c = mod->path; *c; c++)
        h = (h ^ (uint8_t)*c) * 1099511628211ull;
    for (size_t i = 0; i < mod->build_id_len; i++)
        h = (h ^ mod->build_id[i]) * 1099511628211ull;
    return mt_mix(h ^ mod->nsegs);
}

static int mt_same_file(const mt_module_t *a, const mt_module_t *b)
{
    if (strcmp(a->path, b->path) != 0 || a->build_id_len != b->build_id_len || a->nsegs != b->nsegs)
        return 0;
    if (a->build_id_len && memcmp(a->build_id, b->build_id, a->build_id_len) != 0)
        return 0;
    for (size_t i = 0; i < a->nsegs; i++)
        if (a->segs[i].vaddr != b->segs[i].vaddr || a->segs[i].memsz != b->segs[i].memsz)
            return 0;
    return 1;
}

static void mt_hash_put(uint32_t *t, size_t cap, uint64_t h, uint32_t index)
{
    size_t j = h & (cap - 1);
    while (t[j])
        j = (j + 1) & (cap - 1);
    t[j] = index + 1;
}

/* Makes room for one more module in both tables. */
static int mt_hash_reserve(mt_modules_t *m)
{
    if ((m->count + 1) * 2 <= m->hcap)
        return 0;
    size_t nc = m->hcap ? m->hcap * 2 : 64;
    uint32_t *ni = calloc(nc, sizeof *ni), *nf = calloc(nc, sizeof *nf);
    if (!ni || !nf) {
        free(ni);
        free(nf);
        return -ENOMEM;
    }
    for (size_t i = 0; i < m->count; i++) {
        mt_hash_put(ni, nc, mt_mix(m->mods[i].id), (uint32_t)i);
        if (m->mods[i].canonical == i)
            mt_hash_put(nf, nc, mt_file_hash(&m->mods[i]), (uint32_t)i);
    }
    free(m->by_id);
    free(m->by_file);
    m->by_id = ni;
    m->by_file = nf;
    m->hcap = nc;
    return 0;
}

int mt_modules_new(mt_modules_t **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

void mt_modules_free(mt_modules_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->count; i++) {
        free(m->mods[i].path);
        free(m->mods[i].build_id);
        free(m->mods[i].segs);
    }
    free(m->mods);
    free(m->ranges);
    free(m->loaded);
    free(m->by_id);
    free(m->by_file);
    free(m);
}

static mt_module_t *mt_modules_by_id(mt_modules_t *m, uint64_t id)
{
    if (!m->hcap)
        return NULL;
    for (size_t j = mt_mix(id) & (m->hcap - 1); m->by_id[j]; j = (j + 1) & (m->hcap - 1))
        if (m->mods[m->by_id[j] - 1].id == id)
            return &m->mods[m->by_id[j] - 1];
    return NULL;
}

int mt_modules_load(mt_modules_t *m, const mt_record_t *rec)
{
    if (mt_modules_by_id(m, rec->id))
        return -EEXIST;
    if (m->count >= UINT32_MAX - 1 || mt_hash_reserve(m) < 0)
        return -ENOMEM;
    if (m->count == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 32;
        mt_module_t *nm = realloc(m->mods, nc * sizeof *nm);
        if (!nm)
            return -ENOMEM;
        m->mods = nm;
        uint32_t *nl = realloc(m->loaded, nc * sizeof *nl);
        if (!nl)
            return -ENOMEM;
        m->loaded = nl;
        m->cap = nc;
    }
    mt_module_t mod = {.id = rec->id, .bias = rec->ip, .loaded = 1};
    mod.path = malloc(rec->str.len + 1);
    mod.build_id = malloc(rec->build_id.len + 1);
    mod.segs = malloc((rec->nsegs ? rec->nsegs : 1) * sizeof *mod.segs);
    if (!mod.path || !mod.build_id || !mod.segs) {
        free(mod.path);
        free(mod.build_id);
        free(mod.segs);
        return -ENOMEM;
    }
    if (rec->str.len) /* memcpy from NULL is undefined even for 0 bytes */
        memcpy(mod.path, rec->str.ptr, rec->str.len);
    mod.path[rec->str.len] = '\0';
    /* A path with an embedded NUL simply ends there: C strings from here on. */
    const char *slash = strrchr(mod.path, '/');
    mod.basename = slash ? slash + 1 : mod.path;
    if (rec->build_id.len)
        memcpy(mod.build_id, rec->build_id.ptr, rec->build_id.len);
    mod.build_id_len = rec->build_id.len;
    if (rec->nsegs)
        memcpy(mod.segs, rec->segs, rec->nsegs * sizeof *mod.segs);
    mod.nsegs = rec->nsegs;
    uint32_t index = (uint32_t)m->count;
    uint64_t fh = mt_file_hash(&mod);
    mod.canonical = index;
    size_t j = fh & (m->hcap - 1);
    for (; m->by_file[j]; j = (j + 1) & (m->hcap - 1)) {
        if (mt_same_file(&m->mods[m->by_file[j] - 1], &mod)) {
            mod.canonical = m->by_file[j] - 1;
            break;
        }
    }
    if (mod.canonical == index)
        m->by_file[j] = index + 1;
    mod.loaded_pos = (uint32_t)m->nloaded;
    m->loaded[m->nloaded++] = index;
    m->mods[m->count++] = mod;
    mt_hash_put(m->by_id, m->hcap, mt_mix(mod.id), index);
    m->dirty = 1;
    return 0;
}

int mt_modules_unload(mt_modules_t *m, uint64_t id)
{
    mt_module_t *mod = mt_modules_by_id(m, id);
    if (!mod || !mod->loaded)
        return -ENOENT;
    mod->loaded = 0;
    uint32_t last = m->loaded[--m->nloaded];
    m->loaded[mod->loaded_pos] = last;
    m->mods[last].loaded_pos = mod->loaded_pos;
    m->dirty = 1;
    return 0;
}

static int mt_range_cmp(const void *a, const void *b)
{
    const mt_range_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index; /* the loaded list has no order */
}

static int mt_modules_rebuild(mt_modules_t *m)
{
    size_t n = 0;
    for (size_t k = 0; k < m->nloaded; k++)
        n += m->mods[m->loaded[k]].nsegs;
    if (n > m->ranges_cap) {
        mt_range_t *nr = realloc(m->ranges, n * sizeof *nr);
        if (!nr)
            return -ENOMEM;
        m->ranges = nr;
        m->ranges_cap = n;
    }
    n = 0;
    for (size_t k = 0; k < m->nloaded; k++) {
        uint32_t i = m->loaded[k];
        const mt_module_t *mod = &m->mods[i];
        for (size_t s = 0; s < mod->nsegs; s++) {
            uint64_t start = mod->bias + mod->segs[s].vaddr;
            uint64_t end = start + mod->segs[s].memsz;
            if (end <= start)
                continue; /* empty or wrapping: garbage, ignore */
            m->ranges[n++] = (mt_range_t){start, end, i};
        }
    }
    qsort(m->ranges, n, sizeof *m->ranges, mt_range_cmp);
    m->nranges = n;
    m->dirty = 0;
    return 0;
}

uint32_t mt_modules_find(mt_modules_t *m, uint64_t addr)
{
    if (m->dirty && mt_modules_rebuild(m) < 0)
        return MT_NO_MODULE;
    /* Last range starting at or below addr; overlapping ranges (a corrupt log) just resolve to
     * one of them. */
    size_t lo = 0, hi = m->nranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->ranges[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return MT_NO_MODULE;
    const mt_range_t *r = &m->ranges[lo - 1];
    return addr < r->end ? r->index : MT_NO_MODULE;
}

size_t mt_modules_count(const mt_modules_t *m)
{
    return m->count;
}

const mt_module_t *mt_modules_get(const mt_modules_t *m, uint32_t index)
{
    return index < m->count ? &m->mods[index] : NULL;
}

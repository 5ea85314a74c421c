// SPDX-License-Identifier: MIT
// Module table: modules in arrival order (index = position, stable) plus a sorted array of
// the address ranges of the currently loaded ones, rebuilt lazily after a load or unload
// (those are rare; lookups happen for every new trace node). Never trusts ids or lengths.
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
};

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
    free(m);
}

static mt_module_t *mt_modules_by_id(mt_modules_t *m, uint64_t id)
{
    /* Linear from the end: ids normally grow, and the latest modules are the ones unloaded. */
    for (size_t i = m->count; i-- > 0;)
        if (m->mods[i].id == id)
            return &m->mods[i];
    return NULL;
}

int mt_modules_load(mt_modules_t *m, const mt_record_t *rec)
{
    if (mt_modules_by_id(m, rec->id))
        return -EEXIST;
    if (m->count == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 32;
        mt_module_t *nm = realloc(m->mods, nc * sizeof *nm);
        if (!nm)
            return -ENOMEM;
        m->mods = nm;
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
    m->mods[m->count++] = mod;
    m->dirty = 1;
    return 0;
}

int mt_modules_unload(mt_modules_t *m, uint64_t id)
{
    mt_module_t *mod = mt_modules_by_id(m, id);
    if (!mod || !mod->loaded)
        return -ENOENT;
    mod->loaded = 0;
    m->dirty = 1;
    return 0;
}

static int mt_range_cmp(const void *a, const void *b)
{
    const mt_range_t *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int mt_modules_rebuild(mt_modules_t *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->count; i++)
        if (m->mods[i].loaded)
            n += m->mods[i].nsegs;
    if (n > m->ranges_cap) {
        mt_range_t *nr = realloc(m->ranges, n * sizeof *nr);
        if (!nr)
            return -ENOMEM;
        m->ranges = nr;
        m->ranges_cap = n;
    }
    n = 0;
    for (size_t i = 0; i < m->count; i++) {
        const mt_module_t *mod = &m->mods[i];
        if (!mod->loaded)
            continue;
        for (size_t s = 0; s < mod->nsegs; s++) {
            uint64_t start = mod->bias + mod->segs[s].vaddr;
            uint64_t end = start + mod->segs[s].memsz;
            if (end <= start)
                continue; /* empty or wrapping: garbage, ignore */
            m->ranges[n++] = (mt_range_t){start, end, (uint32_t)i};
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

// SPDX-License-Identifier: MIT
// Module table: modules in arrival order (index = position, stable), hash tables on ids and
// files, and the address ranges of the loaded ones for the lookup every new trace node makes.
// Never trusts ids or lengths. A log may load and unload modules 100,000 times, or hold
// 100,000 loaded at once, interleaved with lookups: no operation may cost the table's size.
//
// Ranges live in two sorted arrays: a big one and a small one of at most about sqrt(big)
// entries. A load inserts into the small one (a short memmove); when it is full it is merged
// into the big one (linear, every sqrt(n) loads): O(sqrt(n)) per load, O(log n) per lookup.
// An unload only marks its module: lookups step over dead ranges (a few at most, see
// MT_DEAD_SCAN), and the arrays are compacted when the dead ones would slow them down.
#include "modules.h"
#include "grow.h"

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
    mt_range_t *big, *small; /* sorted by start, then index; dead entries allowed */
    size_t nbig, nsmall, big_cap, small_cap;
    size_t dead; /* ranges of unloaded modules still in big or small */
    int compact; /* a lookup stepped over too many dead ranges: compact before the next */
    /* Open addressing, module index + 1 (0 = empty), sized to a power of two >= 2 * count:
     * by_id on the log's id, by_file on (path, build-id, segments) of first loads only. */
    uint32_t *by_id, *by_file;
    size_t hcap;
};

/* Dead ranges a lookup steps over before asking for a compaction. */
#define MT_DEAD_SCAN 16
#define MT_SMALL_MIN 64

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
    free(m->big);
    free(m->small);
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

static int mt_range_before(const mt_range_t *x, const mt_range_t *y)
{
    return x->start != y->start ? x->start < y->start : x->index < y->index;
}

static int mt_range_live(const mt_modules_t *m, const mt_range_t *r)
{
    return m->mods[r->index].loaded;
}

/* Drops the dead ranges of both arrays. */
static void mt_ranges_compact(mt_modules_t *m)
{
    size_t k = 0;
    for (size_t i = 0; i < m->nbig; i++)
        if (mt_range_live(m, &m->big[i]))
            m->big[k++] = m->big[i];
    m->nbig = k;
    k = 0;
    for (size_t i = 0; i < m->nsmall; i++)
        if (mt_range_live(m, &m->small[i]))
            m->small[k++] = m->small[i];
    m->nsmall = k;
    m->dead = 0;
    m->compact = 0;
}

/* Merges the small array into the big one, dropping dead ranges on the way. */
static int mt_ranges_merge(mt_modules_t *m)
{
    size_t need = m->nbig + m->nsmall;
    mt_range_t *nv = malloc((need ? need : 1) * sizeof *nv);
    if (!nv)
        return -ENOMEM;
    size_t i = 0, j = 0, k = 0;
    while (i < m->nbig || j < m->nsmall) {
        const mt_range_t *r =
            j == m->nsmall || (i < m->nbig && mt_range_before(&m->big[i], &m->small[j]))
                ? &m->big[i++]
                : &m->small[j++];
        if (mt_range_live(m, r))
            nv[k++] = *r;
    }
    free(m->big);
    m->big = nv;
    m->nbig = k;
    m->big_cap = need;
    m->nsmall = 0;
    m->dead = 0;
    m->compact = 0;
    return 0;
}

static size_t mt_isqrt(size_t n)
{
    size_t r = 1;
    while (r * r < n)
        r *= 2;
    return r;
}

/* Inserts the ranges of a module about to be stored at index; sets mod->nranges. */
static int mt_ranges_add(mt_modules_t *m, mt_module_t *mod, uint32_t index)
{
    mod->nranges = 0;
    size_t limit = mt_isqrt(m->nbig) > MT_SMALL_MIN ? mt_isqrt(m->nbig) : MT_SMALL_MIN;
    if (m->nsmall + mod->nsegs > limit && mt_ranges_merge(m) < 0)
        return -ENOMEM;
    if (m->nsmall + mod->nsegs > m->small_cap) {
        size_t nc = (m->nsmall + mod->nsegs) * 2;
        mt_range_t *ns = realloc(m->small, nc * sizeof *ns);
        if (!ns)
            return -ENOMEM;
        m->small = ns;
        m->small_cap = nc;
    }
    for (size_t s = 0; s < mod->nsegs; s++) {
        uint64_t start = mod->bias + mod->segs[s].vaddr;
        uint64_t end = start + mod->segs[s].memsz;
        if (end <= start)
            continue; /* empty or wrapping: garbage, ignore */
        mt_range_t r = {start, end, index};
        size_t lo = 0, hi = m->nsmall;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (mt_range_before(&m->small[mid], &r))
                lo = mid + 1;
            else
                hi = mid;
        }
        memmove(&m->small[lo + 1], &m->small[lo], (m->nsmall - lo) * sizeof r);
        m->small[lo] = r;
        m->nsmall++;
        mod->nranges++;
    }
    return 0;
}

int mt_modules_load(mt_modules_t *m, const mt_record_t *rec)
{
    if (mt_modules_by_id(m, rec->id))
        return -EEXIST;
    if (m->count >= UINT32_MAX - 1 || mt_hash_reserve(m) < 0)
        return -ENOMEM;
    if (MT_GROW(m->mods, m->cap, m->count + 1, 32) < 0)
        return -ENOMEM;
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
    mod.memtrace_own = strncmp(mod.basename, "libmemtrace_preload", 19) == 0;
    if (rec->build_id.len)
        memcpy(mod.build_id, rec->build_id.ptr, rec->build_id.len);
    mod.build_id_len = rec->build_id.len;
    if (rec->nsegs)
        memcpy(mod.segs, rec->segs, rec->nsegs * sizeof *mod.segs);
    mod.nsegs = rec->nsegs;
    uint32_t index = (uint32_t)m->count;
    /* Its ranges first: the only step here that can fail once the module is built. */
    if (mt_ranges_add(m, &mod, index) < 0) {
        free(mod.path);
        free(mod.build_id);
        free(mod.segs);
        return -ENOMEM;
    }
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
    m->mods[m->count++] = mod;
    mt_hash_put(m->by_id, m->hcap, mt_mix(mod.id), index);
    return 0;
}

int mt_modules_unload(mt_modules_t *m, uint64_t id)
{
    mt_module_t *mod = mt_modules_by_id(m, id);
    if (!mod || !mod->loaded)
        return -ENOENT;
    mod->loaded = 0;
    m->dead += mod->nranges;
    if (m->dead > MT_SMALL_MIN && m->dead * 2 > m->nbig + m->nsmall)
        m->compact = 1;
    return 0;
}

/* Last range of v[0..n) starting at or below addr that is live and holds addr, stepping over
 * dead ones; NULL when none. Live ranges do not overlap in a sane log, so the first live one
 * found decides; overlapping ranges (a corrupt log) just resolve to one of them. */
static const mt_range_t *mt_ranges_find(mt_modules_t *m, const mt_range_t *v, size_t n,
                                        uint64_t addr)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo, steps = 0; k-- > 0;) {
        const mt_range_t *r = &v[k];
        if (m->mods[r->index].loaded)
            return addr < r->end ? r : NULL;
        if (++steps > MT_DEAD_SCAN) {
            m->compact = 1;
            steps = 0;
        }
    }
    return NULL;
}

uint32_t mt_modules_find(mt_modules_t *m, uint64_t addr)
{
    if (m->compact)
        mt_ranges_compact(m);
    const mt_range_t *a = mt_ranges_find(m, m->big, m->nbig, addr);
    const mt_range_t *b = mt_ranges_find(m, m->small, m->nsmall, addr);
    if (a && b) /* overlapping loaded modules (a corrupt log): the later start */
        return a->start >= b->start ? a->index : b->index;
    return a ? a->index : b ? b->index : MT_NO_MODULE;
}

size_t mt_modules_count(const mt_modules_t *m)
{
    return m->count;
}

const mt_module_t *mt_modules_get(const mt_modules_t *m, uint32_t index)
{
    return index < m->count ? &m->mods[index] : NULL;
}

// SPDX-License-Identifier: MIT
// Python records of a log (see python_info.h). Tables are indexed by the dense ids the
// recorder hands out from 1; a record whose id is far beyond them is corrupt and refused, so a
// bad log cannot make us allocate without bound.
#include "python_info.h"
#include "grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Ids are dense: more than this beyond the highest seen means a corrupt record. */
#define MT_PY_ID_SLACK 65536u

void mt_pyinfo_init(mt_pyinfo_t *p)
{
    memset(p, 0, sizeof *p);
    p->interp_module = MT_NO_MODULE;
}

void mt_pyinfo_destroy(mt_pyinfo_t *p)
{
    for (uint32_t i = 0; i < p->ncodes; i++) {
        free(p->codes[i].qualname);
        free(p->codes[i].file);
    }
    free(p->codes);
    free(p->locs);
    free(p->end_bytes);
    free(p->end_blocks);
    free(p->end_heap_v);
    free(p->arenas);
    mt_pyinfo_init(p);
}

/* Makes v (n entries of sz bytes) hold index id; new entries are zero. */
static int mt_py_reserve(void **v, uint32_t *n, size_t sz, uint64_t id)
{
    if (id == 0 || id > (uint64_t)*n + MT_PY_ID_SLACK || id >= (UINT32_MAX >> 1))
        return -EINVAL;
    if (id < *n)
        return 0;
    uint32_t nn = *n ? *n : 64;
    while (nn <= id)
        nn *= 2;
    void *nv = realloc(*v, (size_t)nn * sz);
    if (!nv)
        return -ENOMEM;
    memset((char *)nv + (size_t)*n * sz, 0, (size_t)(nn - *n) * sz);
    *v = nv;
    *n = nn;
    return 0;
}

static char *mt_py_strdup(mt_str_t s)
{
    char *d = malloc(s.len + 1);
    if (d) {
        memcpy(d, s.ptr, s.len);
        d[s.len] = '\0';
    }
    return d;
}

/* The per-node live heap, copied at the end of the script. */
static void mt_py_copy_heap_block(const mt_block_t *b, void *arg)
{
    mt_pyinfo_t *p = arg;
    if (b->size < MT_REPLAY_SMALL_BLOCK && !mt_pyinfo_in_arena(b))
        p->end_heap_v[p->end_heap_n++] = *b;
}

static int mt_py_snapshot(mt_pyinfo_t *p, const mt_replay_t *r)
{
    uint32_t n = mt_replay_node_count(r);
    free(p->end_bytes);
    free(p->end_blocks);
    p->end_bytes = calloc(n ? n : 1, sizeof *p->end_bytes);
    p->end_blocks = calloc(n ? n : 1, sizeof *p->end_blocks);
    p->nend = 0;
    if (!p->end_bytes || !p->end_blocks)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        mt_node_stats_t st = mt_replay_node(r, i);
        p->end_bytes[i] = st.live_bytes;
        p->end_blocks[i] = st.live_blocks;
    }
    p->nend = n;
    p->end_heap_bytes = r->heap_bytes;
    p->end_heap_blocks = r->heap_blocks;
    free(p->end_heap_v);
    p->end_heap_n = 0;
    /* every thread's blocks: the allocator's state (a thread filter leaves it whole) */
    p->end_heap_v = malloc((r->all_heap_blocks ? r->all_heap_blocks : 1) * sizeof *p->end_heap_v);
    if (!p->end_heap_v)
        return -ENOMEM;
    mt_replay_each_live(r, mt_py_copy_heap_block, p);
    p->end_sampled = r->nsamples_total > 0;
    p->end_sample = (mt_sample_point_t){r->last_sample_time_us, r->all_heap_bytes,
                                        r->all_arena_obj_bytes, r->last_sample, p->arena_bytes};
    return 0;
}

static int mt_py_arena_add(mt_pyinfo_t *p, uint64_t addr, uint64_t size)
{
    if (MT_GROW(p->arenas, p->arenas_cap, p->narenas + 1, 64) < 0)
        return -ENOMEM;
    p->arenas[p->narenas++] = (mt_pyarena_t){addr, size};
    p->arena_allocs++;
    p->arena_bytes += size;
    if (p->arena_bytes > p->arena_peak_bytes) {
        p->arena_peak_bytes = p->arena_bytes;
        p->arena_peak_count = p->narenas;
    }
    return 0;
}

static void mt_py_arena_remove(mt_pyinfo_t *p, uint64_t addr)
{
    /* Few arenas are live at once (each holds 256 KiB), and frees are rare: a scan is fine. */
    for (size_t i = p->narenas; i-- > 0;) {
        if (p->arenas[i].addr == addr) {
            p->arena_frees++;
            p->arena_bytes -= p->arenas[i].size;
            p->arenas[i] = p->arenas[--p->narenas];
            return;
        }
    }
}

int mt_pyinfo_record(mt_pyinfo_t *p, const mt_record_t *rec, mt_modules_t *mods,
                     const mt_replay_t *r)
{
    int rc;
    switch (rec->tag) {
    case MT_TAG_PY_INTERP:
        p->present = 1;
        p->major = (unsigned)rec->a;
        p->minor = (unsigned)rec->b;
        p->flags = (unsigned)rec->c;
        p->eval_lo = rec->addr;
        p->eval_hi = rec->size;
        if (rec->addr) { /* compared with frames' modules: the canonical index */
            const mt_module_t *m = mt_modules_get(mods, mt_modules_find(mods, rec->addr));
            p->interp_module = m ? m->canonical : MT_NO_MODULE;
        } else {
            p->interp_module = MT_NO_MODULE;
        }
        return 0;
    case MT_TAG_PY_CODE: {
        if ((rc = mt_py_reserve((void **)&p->codes, &p->ncodes, sizeof *p->codes, rec->id)) < 0)
            return rc;
        mt_pycode_info_t *c = &p->codes[rec->id];
        free(c->qualname);
        free(c->file);
        c->qualname = mt_py_strdup(rec->str);
        c->file = mt_py_strdup(rec->str2);
        c->firstlineno = (uint32_t)rec->a;
        return c->qualname && c->file ? 0 : -ENOMEM;
    }
    case MT_TAG_PY_LOCATION:
        if ((rc = mt_py_reserve((void **)&p->locs, &p->nlocs, sizeof *p->locs, rec->id)) < 0)
            return rc;
        if (rec->parent == 0 || rec->parent > UINT32_MAX)
            return -EINVAL;
        p->locs[rec->id] = (mt_pyloc_info_t){(uint32_t)rec->parent, (uint32_t)rec->a};
        return 0;
    case MT_TAG_PY_SCRIPT_END:
        p->script_end = 1;
        p->script_end_us = rec->time_us;
        if ((rc = mt_py_snapshot(p, r)) < 0)
            return rc;
        return mt_pyinfo_arena_usage(p, r, rec->time_us, &p->end_arenas);
    case MT_TAG_PY_ARENA_ALLOC:
        return mt_py_arena_add(p, rec->addr, rec->size);
    case MT_TAG_PY_ARENA_FREE:
        mt_py_arena_remove(p, rec->addr);
        return 0;
    default:
        return 0;
    }
}

int mt_pyinfo_frame(const mt_pyinfo_t *p, uint64_t ip, const char **qualname, const char **file,
                    uint32_t *line)
{
    uint64_t id = ip & ~MT_PY_IP_BIT;
    if (id == 0 || id >= p->nlocs || !p->locs[id].code)
        return -ENOENT;
    const mt_pyloc_info_t *l = &p->locs[id];
    if (l->code >= p->ncodes || !p->codes[l->code].qualname)
        return -ENOENT;
    *qualname = p->codes[l->code].qualname;
    *file = p->codes[l->code].file;
    *line = l->line;
    return 0;
}

static int mt_py_arena_cmp(const void *a, const void *b)
{
    const mt_pyarena_t *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

typedef struct mt_py_usage_ctx {
    const mt_pyarena_t *v;
    size_t n;
    uint64_t *used;
    mt_pyarena_usage_t *out;
} mt_py_usage_ctx_t;

static void mt_py_usage_block(const mt_block_t *b, void *arg)
{
    mt_py_usage_ctx_t *c = arg;
    if (!mt_pyinfo_in_arena(b))
        return;
    size_t lo = 0, hi = c->n; /* the last arena starting at or below the block */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->v[mid].addr <= b->addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || b->addr >= c->v[lo - 1].addr + c->v[lo - 1].size)
        return;
    c->used[lo - 1] += b->size;
    c->out->used_bytes += b->size;
    c->out->blocks++;
}

int mt_pyinfo_arena_usage(const mt_pyinfo_t *p, const mt_replay_t *r, uint64_t time_us,
                          mt_pyarena_usage_t *out)
{
    memset(out, 0, sizeof *out);
    out->time_us = time_us;
    size_t n = p->narenas;
    mt_pyarena_t *v = malloc((n ? n : 1) * sizeof *v);
    uint64_t *used = calloc(n ? n : 1, sizeof *used);
    if (!v || !used) {
        free(v);
        free(used);
        return -ENOMEM;
    }
    if (n) { /* arenas is NULL when there are none: memcpy and qsort must not see it */
        memcpy(v, p->arenas, n * sizeof *v);
        qsort(v, n, sizeof *v, mt_py_arena_cmp);
    }
    mt_py_usage_ctx_t c = {v, n, used, out};
    mt_replay_each_live(r, mt_py_usage_block, &c);
    for (size_t i = 0; i < n; i++) {
        out->arenas++;
        out->arena_bytes += v[i].size;
        unsigned q = v[i].size ? (unsigned)(used[i] * 4 / v[i].size) : 0;
        out->fullness[q > 3 ? 3 : q]++;
    }
    out->valid = 1;
    free(v);
    free(used);
    return 0;
}

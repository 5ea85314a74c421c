// SPDX-License-Identifier: MIT
// Builds the leak report (see leaks.h). Symbolizes each node with leaked blocks once, merges
// equal symbolized stacks per kind, then applies suppressions. Runs once per report: it may
// allocate freely but stays linear in groups times stack depth.
#include "leaks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame_filter.h"
#include "python_files.h"
#include "sites.h"
#include "grow.h"

/* A group is one kind at one stack. */
static uint64_t mt_leaks_hash(unsigned kind, const mt_frame_t *f, size_t n)
{
    return mt_sites_stack_hash(f, n) ^ ((uint64_t)kind << 56);
}

static int mt_leaks_same(const mt_leak_t *k, unsigned kind, const mt_frame_t *f, size_t n)
{
    return k->kind == kind && mt_sites_stack_equal(k->frames, k->nframes, f, n);
}

typedef struct mt_leaks_builder {
    mt_leaks_t *l;
    size_t cap;
    size_t *table; /* leak index + 1, 0 = empty */
    size_t hcap;
} mt_leaks_builder_t;

static int mt_leaks_rehash(mt_leaks_builder_t *b)
{
    size_t nh = b->hcap ? b->hcap * 2 : 256;
    size_t *nt = calloc(nh, sizeof *nt);
    if (!nt)
        return -ENOMEM;
    for (size_t i = 0; i < b->l->n; i++) {
        const mt_leak_t *k = &b->l->v[i];
        size_t j = mt_leaks_hash(k->kind, k->frames, k->nframes) & (nh - 1);
        while (nt[j])
            j = (j + 1) & (nh - 1);
        nt[j] = i + 1;
    }
    free(b->table);
    b->table = nt;
    b->hcap = nh;
    return 0;
}

static int mt_leaks_add(mt_leaks_builder_t *b, unsigned kind, const mt_frame_t *f, size_t n,
                        uint64_t bytes, uint64_t blocks, uint64_t indirect)
{
    mt_leaks_t *l = b->l;
    if ((l->n + 1) * 2 > b->hcap && mt_leaks_rehash(b) < 0)
        return -ENOMEM;
    size_t j = mt_leaks_hash(kind, f, n) & (b->hcap - 1);
    for (; b->table[j]; j = (j + 1) & (b->hcap - 1)) {
        mt_leak_t *k = &l->v[b->table[j] - 1];
        if (mt_leaks_same(k, kind, f, n)) {
            k->bytes += bytes;
            k->blocks += blocks;
            k->indirect_bytes += indirect;
            return 0;
        }
    }
    if (MT_GROW(l->v, b->cap, l->n + 1, 64) < 0)
        return -ENOMEM;
    mt_frame_t *copy = malloc((n ? n : 1) * sizeof *copy);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, f, n * sizeof *f);
    l->v[l->n] = (mt_leak_t){kind, bytes, blocks, indirect, copy, n, -1};
    b->table[j] = ++l->n;
    return 0;
}

static int mt_leaks_cmp(const void *pa, const void *pb)
{
    const mt_leak_t *a = pa, *b = pb;
    uint64_t ta = mt_leak_total_bytes(a), tb = mt_leak_total_bytes(b);
    if (ta != tb)
        return ta > tb ? -1 : 1;
    if (a->blocks != b->blocks)
        return a->blocks > b->blocks ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    /* then by the innermost frame that differs, so the order is stable between runs */
    for (size_t i = 0; i < a->nframes && i < b->nframes; i++) {
        const char *fa = a->frames[i].function ? a->frames[i].function : "";
        const char *fb = b->frames[i].function ? b->frames[i].function : "";
        int c = strcmp(fa, fb);
        if (c)
            return c;
        if (a->frames[i].line != b->frames[i].line)
            return a->frames[i].line < b->frames[i].line ? -1 : 1;
        if (a->frames[i].address != b->frames[i].address)
            return a->frames[i].address < b->frames[i].address ? -1 : 1;
    }
    return (a->nframes > b->nframes) - (a->nframes < b->nframes);
}

static int mt_leaks_node(mt_leaks_builder_t *b, uint32_t node, unsigned kind, uint64_t bytes,
                         uint64_t blocks, uint64_t indirect, mt_frame_t **frames, int *nframes,
                         uint32_t *cached)
{
    const mt_analysis_t *a = b->l->a;
    if (*cached != node || !*frames) {
        free(*frames);
        *frames = NULL;
        if (node >= a->nodes.n || !mt_nodes_valid(&a->nodes, node))
            node = 0; /* cannot happen: replay only holds blocks with valid nodes */
        int n = mt_sites_node_stack(a, b->l->sym, node, frames);
        if (n < 0)
            return n;
        size_t skip = mt_filter_top(*frames, (size_t)n, a->modules);
        memmove(*frames, *frames + skip, ((size_t)n - skip) * sizeof **frames);
        *nframes = n - (int)skip;
        /* Below main is the C runtime and memtrace's own entry wrapper: noise that would only
         * keep equal stacks apart (valgrind stops there too, --show-below-main=no). */
        for (int i = 0; i < *nframes; i++) {
            /* C's main only: a Python function may be called main too */
            if (!(*frames)[i].python && (*frames)[i].function &&
                strcmp((*frames)[i].function, "main") == 0) {
                *nframes = i + 1;
                break;
            }
        }
        *cached = node;
    }
    return mt_leaks_add(b, kind, *frames, (size_t)*nframes, bytes, blocks, indirect);
}

static void mt_leaks_suppress(mt_leaks_t *l)
{
    size_t cap = 0;
    mt_supp_frame_t *sf = NULL;
    for (size_t i = 0; i < l->n; i++) {
        mt_leak_t *k = &l->v[i];
        if (l->supps && l->supps->n) {
            if (k->nframes > cap) {
                mt_supp_frame_t *ns = realloc(sf, k->nframes * sizeof *ns);
                if (ns) {
                    sf = ns;
                    cap = k->nframes;
                }
            }
            if (k->nframes <= cap) {
                for (size_t f = 0; f < k->nframes; f++) {
                    const mt_module_t *m = mt_modules_get(l->a->modules, k->frames[f].module);
                    sf[f] = (mt_supp_frame_t){k->frames[f].function, m ? m->path : NULL,
                                              k->frames[f].file, k->frames[f].line};
                }
                k->suppressed_by = mt_supps_match(l->supps, k->kind, sf, k->nframes);
            }
        }
        if (k->suppressed_by >= 0) {
            mt_supp_t *s = &l->supps->v[k->suppressed_by];
            s->matched_leaks++;
            s->matched_bytes += k->bytes;
            s->matched_blocks += k->blocks;
            l->suppressed_bytes += k->bytes;
            l->suppressed_blocks += k->blocks;
        } else {
            l->bytes[k->kind] += k->bytes;
            l->blocks[k->kind] += k->blocks;
        }
    }
    free(sf);
}

/* Walks the innermost MT_STACK_MAX_NODES frames of node (what a report shows: a crafted chain
 * must not cost its depth per node). The innermost Python frame says whose line allocated; an
 * import-machinery frame anywhere, that a module was being imported. Code a library generates
 * and runs with exec ("<string>": namedtuple's, dataclasses', pluggy's) is its caller's: the
 * first frame with a file decides, and a stack of nothing but such code is the script's
 * (python -c). */
enum mt_leaks_owner mt_leaks_python_owner(const mt_analysis_t *a, uint32_t node)
{
    uint32_t steps = 0;
    int python = 0, decided = 0, library = 0;
    for (uint32_t id = node; id != 0 && id < a->nodes.n && steps < MT_STACK_MAX_NODES;
         id = a->nodes.v[id].parent, steps++) {
        uint64_t ip = mt_nodes_ip(&a->nodes, id);
        if (!(ip & MT_PY_IP_BIT))
            continue;
        const char *name, *file = NULL;
        uint32_t line;
        if (mt_pyinfo_frame(&a->python, ip, &name, &file, &line) < 0)
            file = NULL;
        if (mt_pyfile_is_import_machinery(file))
            return MT_LEAKS_OWNER_LIBRARY;
        python = 1;
        if (!decided && file && (file[0] != '<' || mt_pyfile_is_library(file))) {
            library = mt_pyfile_is_library(file);
            decided = 1;
        }
    }
    if (!python)
        return MT_LEAKS_OWNER_INTERPRETER;
    return library ? MT_LEAKS_OWNER_LIBRARY : MT_LEAKS_OWNER_SCRIPT;
}

/* What a Python script held when it ended, before finalization frees (or, for module
 * globals, deliberately does not free) the rest. */
static int mt_leaks_script_end(mt_leaks_builder_t *b, mt_frame_t **frames, int *nframes,
                               uint32_t *cached)
{
    mt_leaks_t *l = b->l;
    const mt_analysis_t *a = l->a;
    int rc = 0;
    for (uint32_t id = 0; id < a->python.nend && rc == 0; id++) {
        if (!a->python.end_blocks[id])
            continue;
        /* Without Python frames (an unsupported version) nothing can be told apart: all is
         * the script's. */
        enum mt_leaks_owner owner =
            a->python.flags & MT_PY_FRAMES ? mt_leaks_python_owner(a, id) : MT_LEAKS_OWNER_SCRIPT;
        if (owner == MT_LEAKS_OWNER_INTERPRETER) { /* counted apart, never listed */
            l->interp_bytes += a->python.end_bytes[id];
            l->interp_blocks += a->python.end_blocks[id];
            continue;
        }
        unsigned kind = owner == MT_LEAKS_OWNER_SCRIPT ? MT_LEAKS_UNCLASSIFIED : MT_LEAKS_REACHABLE;
        rc = mt_leaks_node(b, id, kind, a->python.end_bytes[id], a->python.end_blocks[id], 0,
                           frames, nframes, cached);
    }
    return rc;
}

int mt_leaks_build(mt_leaks_t *l, const mt_analysis_t *a, mt_symbolizer_t *sym, mt_supps_t *supps,
                   unsigned show)
{
    return mt_leaks_build_at(l, a, sym, supps, show, MT_LEAKS_AT_SCRIPT_END);
}

int mt_leaks_build_at(mt_leaks_t *l, const mt_analysis_t *a, mt_symbolizer_t *sym,
                      mt_supps_t *supps, unsigned show, enum mt_leaks_moment at)
{
    memset(l, 0, sizeof *l);
    l->a = a;
    l->sym = sym;
    l->supps = supps;
    l->show = show;
    /* A Python script's end wins over the scan, which ran after finalization and judges what
     * CPython's shutdown left (its own static state), not what the script held. Without
     * Python frames, the owners cannot be told apart: the scan then stays the verdict. */
    l->python_end = at == MT_LEAKS_AT_SCRIPT_END && a->python.script_end &&
                    ((a->python.flags & MT_PY_FRAMES) || !a->leaks.complete);
    l->classified = a->leaks.complete && !l->python_end;
    l->command = mt_analysis_command(a);
    if (!l->command)
        return -ENOMEM;
    mt_leaks_builder_t b = {l, 0, NULL, 0};
    mt_frame_t *frames = NULL;
    int nframes = 0, rc = 0;
    uint32_t cached = UINT32_MAX;
    if (l->python_end) {
        rc = mt_leaks_script_end(&b, &frames, &nframes, &cached);
    } else if (l->classified) {
        for (size_t i = 0; i < a->leaks.ngroups && rc == 0; i++) {
            const mt_leak_group_t *g = &a->leaks.groups[i];
            rc = mt_leaks_node(&b, g->node, g->kind, g->bytes, g->blocks, g->indirect_bytes,
                               &frames, &nframes, &cached);
        }
    } else {
        uint32_t nn = mt_replay_node_count(&a->replay);
        for (uint32_t id = 0; id < nn && rc == 0; id++) {
            mt_node_stats_t st = mt_replay_node(&a->replay, id);
            if (st.live_blocks)
                rc = mt_leaks_node(&b, id, MT_LEAKS_UNCLASSIFIED, st.live_bytes, st.live_blocks, 0,
                                   &frames, &nframes, &cached);
        }
    }
    free(frames);
    free(b.table);
    if (rc < 0) {
        mt_leaks_destroy(l);
        return rc;
    }
    if (l->n) /* qsort(NULL, 0) is undefined: a log without leaks has no array */
        qsort(l->v, l->n, sizeof *l->v, mt_leaks_cmp);
    mt_leaks_suppress(l);
    return 0;
}

void mt_leaks_destroy(mt_leaks_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].frames);
    free(l->v);
    free(l->command);
    memset(l, 0, sizeof *l);
}

int mt_leaks_listed(const mt_leaks_t *l, const mt_leak_t *k)
{
    return k->suppressed_by < 0 && (l->show & (1u << k->kind));
}

uint64_t mt_leaks_failing_bytes(const mt_leaks_t *l, unsigned fail)
{
    uint64_t sum = 0;
    for (unsigned k = 0; k < MT_LEAKS_NKINDS; k++)
        if (fail & (1u << k))
            sum += l->bytes[k];
    unsigned lost =
        (1u << MT_LEAKS_DEFINITE) | (1u << MT_LEAKS_INDIRECT) | (1u << MT_LEAKS_POSSIBLE);
    if (!l->classified && (fail & lost))
        sum += l->bytes[MT_LEAKS_UNCLASSIFIED];
    return sum;
}

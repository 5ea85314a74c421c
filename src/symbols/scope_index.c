// SPDX-License-Identifier: MIT
// Per-unit index of the functions containing a pc (see scope_index.h). Every answer still comes
// from the same libdw calls as before; the index only decides when an earlier answer is
// provably the same: both walks below look at a DIE's pc only through dwarf_haspc, so two pcs
// that every DIE range of the unit contains or excludes alike get the same functions. Units
// whose ranges cannot all be read are never cached: each pc asks libdw.
#include "scope_index.h"
#include "grow.h"

#include <dwarf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A DIE tree deeper than this, or more imported units than that, is not indexed. */
enum { MT_INDEX_MAX_DEPTH = 512, MT_INDEX_MAX_IMPORTS = 4096 };

typedef struct mt_chain_ref {
    uint32_t first, count; /* dies[first .. first+count) */
} mt_chain_ref_t;

typedef struct mt_scope_unit {
    const void *key;  /* the unit DIE's address in the DWARF data */
    int indexed;      /* 0: some range could not be read, every pc asks libdw */
    uint64_t *bounds; /* sorted, distinct: each begin and end of a DIE range under the unit */
    size_t nbounds;   /* interval i is [bounds[i-1], bounds[i]), 0 <= i <= nbounds */
    uint8_t *covered; /* per interval: some DIE range contains it */
    uint32_t *answer; /* per interval: refs index + 1, 0 when not asked yet (calloc'ed) */
} mt_scope_unit_t;

struct mt_scope_index {
    mt_scope_unit_t *units;
    size_t nunits, units_cap;
    uint32_t *by_key; /* open addressing on key: unit index + 1, 0 = empty */
    size_t key_cap;
    mt_chain_ref_t *refs;
    size_t nrefs, refs_cap;
    Dwarf_Die *dies;
    size_t ndies, dies_cap;
    Dwarf_Die scratch[MT_MAX_INLINE_DEPTH];
};

int mt_scope_index_new(mt_scope_index_t **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

void mt_scope_index_free(mt_scope_index_t *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->nunits; i++) {
        free(x->units[i].bounds);
        free(x->units[i].covered);
        free(x->units[i].answer);
    }
    free(x->units);
    free(x->by_key);
    free(x->refs);
    free(x->dies);
    free(x);
}

/* ---- the chain itself, as libdw and our walk find it ---- */

static int mt_is_function(int tag)
{
    return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
}

/* libdw's way: dwarf_getscopes stops at the innermost inlined instance; each step out goes
 * through dwarf_getscopes_die on the instance, whose chain holds the enclosing function.
 * Fills chain innermost first; returns its length. */
static int mt_chain_libdw(Dwarf_Die *cudie, Dwarf_Addr pc, Dwarf_Die *chain)
{
    Dwarf_Die *scopes = NULL;
    int n = dwarf_getscopes(cudie, pc, &scopes);
    int count = 0;
    for (int i = 0; i < n && count == 0; i++)
        if (mt_is_function(dwarf_tag(&scopes[i])))
            chain[count++] = scopes[i];
    free(scopes);
    while (count > 0 && count < MT_MAX_INLINE_DEPTH &&
           dwarf_tag(&chain[count - 1]) == DW_TAG_inlined_subroutine) {
        Dwarf_Die *outer = NULL;
        int nc = dwarf_getscopes_die(&chain[count - 1], &outer);
        int found = 0;
        for (int j = 1; j < nc && !found; j++)
            if (mt_is_function(dwarf_tag(&outer[j])))
                chain[count++] = outer[j], found = 1;
        free(outer);
        if (!found)
            break;
    }
    return count;
}

/* Our own descent, for what elfutils 0.188's dwarf_getscopes prunes: it skips every DIE
 * without an address range, so clang's function definitions nested in DW_TAG_namespace (gcc
 * puts them at unit level) and code under clang's range-less lexical blocks are never found.
 * Appends to out (outermost first) the functions under parent containing pc; returns the new
 * length, or -1 when nothing under parent contains pc. */
static int mt_chain_walk(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *out, int n, int depth)
{
    Dwarf_Die child;
    if (depth > MT_MAX_INLINE_DEPTH || dwarf_child(parent, &child) != 0)
        return -1;
    do {
        int tag = dwarf_tag(&child), r = -1;
        switch (tag) {
        case DW_TAG_subprogram:
        case DW_TAG_inlined_subroutine:
        case DW_TAG_lexical_block:
        case DW_TAG_try_block:
        case DW_TAG_catch_block:
        case DW_TAG_entry_point: {
            if (!dwarf_hasattr(&child, DW_AT_low_pc) && !dwarf_hasattr(&child, DW_AT_ranges)) {
                if (tag == DW_TAG_lexical_block) /* a block with no range: look inside */
                    r = mt_chain_walk(&child, pc, out, n, depth + 1);
                break;
            }
            if (dwarf_haspc(&child, pc) <= 0)
                break;
            int m = n;
            if (mt_is_function(tag) && m < MT_MAX_INLINE_DEPTH)
                out[m++] = child;
            r = mt_chain_walk(&child, pc, out, m, depth + 1);
            return r >= 0 ? r : m;
        }
        case DW_TAG_namespace:
        case DW_TAG_module:
            r = mt_chain_walk(&child, pc, out, n, depth + 1);
            break;
        default:
            break;
        }
        if (r >= 0)
            return r;
    } while (dwarf_siblingof(&child, &child) == 0);
    return -1;
}

/* The functions containing pc in the unit, innermost first; returns how many. libdw's answer
 * when it reaches a function that is not inlined, else our walk's when that goes further. */
int mt_scope_index_chain_direct(Dwarf_Die *cudie, Dwarf_Addr pc, Dwarf_Die *chain)
{
    int n = mt_chain_libdw(cudie, pc, chain);
    if (n > 0 && dwarf_tag(&chain[n - 1]) == DW_TAG_subprogram)
        return n;
    Dwarf_Die walked[MT_MAX_INLINE_DEPTH];
    int w = mt_chain_walk(cudie, pc, walked, 0, 0);
    if (w <= n)
        return n;
    for (int i = 0; i < w; i++)
        chain[i] = walked[w - 1 - i];
    return w;
}

/* ---- the unit's range boundaries ---- */

typedef struct mt_range_set {
    uint64_t *v; /* begin, end, begin, end, ... */
    size_t n, cap;
    unsigned imports;
    int failed;
} mt_range_set_t;

static void mt_range_push(mt_range_set_t *r, uint64_t begin, uint64_t end)
{
    if (MT_GROW(r->v, r->cap, r->n + 2, 256) < 0) {
        r->failed = 1;
        return;
    }
    r->v[r->n++] = begin;
    r->v[r->n++] = end;
}

/* The ranges dwarf_haspc reads for one DIE. An error before the first range is the same for
 * every pc (dwarf_haspc fails alike); one after it would depend on the pc: not indexed. */
static void mt_range_die(mt_range_set_t *r, Dwarf_Die *die)
{
    if (!dwarf_hasattr(die, DW_AT_low_pc) && !dwarf_hasattr(die, DW_AT_ranges))
        return;
    Dwarf_Addr base, begin, end;
    ptrdiff_t off = 0;
    int got = 0;
    while ((off = dwarf_ranges(die, off, &base, &begin, &end)) > 0) {
        got = 1;
        if (begin < end)
            mt_range_push(r, begin, end);
    }
    if (off < 0 && got)
        r->failed = 1;
}

/* Every DIE under parent, imported units' included (libdw's walk enters them). */
static void mt_range_tree(mt_range_set_t *r, Dwarf_Die *parent, int depth)
{
    Dwarf_Die child;
    int rc;
    if (depth > MT_INDEX_MAX_DEPTH) {
        r->failed = 1;
        return;
    }
    if ((rc = dwarf_child(parent, &child)) != 0) {
        r->failed |= rc < 0;
        return;
    }
    do {
        if (dwarf_tag(&child) == DW_TAG_imported_unit) {
            Dwarf_Attribute attr;
            Dwarf_Die unit;
            if (++r->imports > MT_INDEX_MAX_IMPORTS) {
                r->failed = 1;
                return;
            }
            if (dwarf_formref_die(dwarf_attr(&child, DW_AT_import, &attr), &unit))
                mt_range_tree(r, &unit, depth + 1);
        }
        mt_range_die(r, &child);
        if (dwarf_haschildren(&child))
            mt_range_tree(r, &child, depth + 1);
        if (r->failed)
            return;
    } while ((rc = dwarf_siblingof(&child, &child)) == 0);
    r->failed |= rc < 0;
}

static int mt_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Interval of pc: how many bounds are at or below it. */
static size_t mt_interval(const mt_scope_unit_t *u, uint64_t pc)
{
    size_t lo = 0, hi = u->nbounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u->bounds[mid] <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Bounds, and which intervals some range covers (a difference array over intervals). */
static int mt_unit_build(mt_scope_unit_t *u, const mt_range_set_t *r)
{
    u->bounds = malloc((r->n ? r->n : 1) * sizeof *u->bounds);
    int *diff = calloc(r->n + 2, sizeof *diff);
    if (!u->bounds || !diff) {
        free(diff);
        return -ENOMEM;
    }
    if (r->n)
        memcpy(u->bounds, r->v, r->n * sizeof *u->bounds);
    if (r->n)
        qsort(u->bounds, r->n, sizeof *u->bounds, mt_u64_cmp);
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++)
        if (k == 0 || u->bounds[k - 1] != u->bounds[i])
            u->bounds[k++] = u->bounds[i];
    u->nbounds = k;
    /* range [b, e) covers intervals mt_interval(b) .. mt_interval(e) - 1 */
    for (size_t i = 0; i < r->n; i += 2) {
        diff[mt_interval(u, r->v[i])]++;
        diff[mt_interval(u, r->v[i + 1])]--;
    }
    u->covered = malloc(k + 1);
    u->answer = calloc(k + 1, sizeof *u->answer);
    if (!u->covered || !u->answer) {
        free(diff);
        return -ENOMEM;
    }
    int depth = 0;
    for (size_t i = 0; i <= k; i++) {
        depth += diff[i];
        u->covered[i] = depth > 0;
    }
    free(diff);
    return 0;
}

/* ---- the units, by their DIE ---- */

static uint64_t mt_key_hash(const void *key)
{
    uint64_t h = (uint64_t)(uintptr_t)key * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static uint64_t mt_unit_key_hash(const void *arg, size_t i)
{
    const mt_scope_index_t *x = arg;
    return mt_key_hash(x->units[i].key);
}

static int mt_keys_grow(mt_scope_index_t *x)
{
    return mt_grow_slots(&x->by_key, &x->key_cap, 64, 0, x->nunits, mt_unit_key_hash, x);
}

/* The unit of cudie, indexed at its first use; NULL on ENOMEM. */
static mt_scope_unit_t *mt_unit_get(mt_scope_index_t *x, Dwarf_Die *cudie)
{
    const void *key = cudie->addr;
    if ((x->nunits + 1) * 2 > x->key_cap && mt_keys_grow(x) < 0)
        return NULL;
    size_t j = mt_key_hash(key) & (x->key_cap - 1);
    for (; x->by_key[j]; j = (j + 1) & (x->key_cap - 1))
        if (x->units[x->by_key[j] - 1].key == key)
            return &x->units[x->by_key[j] - 1];
    if (MT_GROW(x->units, x->units_cap, x->nunits + 1, 16) < 0)
        return NULL;
    mt_scope_unit_t *u = &x->units[x->nunits];
    memset(u, 0, sizeof *u);
    u->key = key;
    mt_range_set_t r = {0};
    mt_range_tree(&r, cudie, 0);
    if (!r.failed) {
        if (mt_unit_build(u, &r) < 0) {
            free(r.v);
            free(u->bounds);
            free(u->covered);
            free(u->answer);
            return NULL;
        }
        u->indexed = 1;
    }
    free(r.v);
    x->by_key[j] = (uint32_t)++x->nunits;
    return u;
}

/* Keeps the chain in scratch as the answer of interval i of u. */
static int mt_answer_keep(mt_scope_index_t *x, mt_scope_unit_t *u, size_t i, int n)
{
    if (MT_GROW(x->refs, x->refs_cap, x->nrefs + 1, 64) < 0)
        return -ENOMEM;
    if (MT_GROW(x->dies, x->dies_cap, x->ndies + (size_t)n, 256) < 0)
        return -ENOMEM;
    memcpy(x->dies + x->ndies, x->scratch, (size_t)n * sizeof *x->dies);
    x->refs[x->nrefs] = (mt_chain_ref_t){(uint32_t)x->ndies, (uint32_t)n};
    x->ndies += (size_t)n;
    u->answer[i] = (uint32_t)++x->nrefs;
    return 0;
}

int mt_scope_index_chain(mt_scope_index_t *x, Dwarf_Die *cudie, Dwarf_Addr pc,
                         const Dwarf_Die **chain)
{
    *chain = x->scratch;
    mt_scope_unit_t *u = mt_unit_get(x, cudie);
    if (!u)
        return -ENOMEM;
    if (!u->indexed)
        return mt_scope_index_chain_direct(cudie, pc, x->scratch);
    size_t i = mt_interval(u, pc);
    if (!u->covered[i]) /* no DIE under the unit contains pc: both walks find nothing */
        return 0;
    if (u->answer[i]) {
        const mt_chain_ref_t *ref = &x->refs[u->answer[i] - 1];
        *chain = x->dies + ref->first;
        return (int)ref->count;
    }
    int n = mt_scope_index_chain_direct(cudie, pc, x->scratch);
    if (mt_answer_keep(x, u, i, n) < 0)
        return -ENOMEM;
    return n;
}

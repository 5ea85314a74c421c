// SPDX-License-Identifier: MIT
// Trace-node table, a dense array indexed by node id. Ids must stay near the highest one seen
// (the recorder numbers nodes 1, 2, 3, ...), so a hostile id cannot make us allocate much:
// the table grows to at most twice the number of defined nodes plus a small slack. Only
// entries below n are ever written or read: growing the array touches no new memory.
#include "nodes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MT_NODES_SLACK 4096u

int mt_nodes_init(mt_nodes_t *t)
{
    memset(t, 0, sizeof *t);
    t->cap = 1024;
    t->v = malloc(t->cap * sizeof *t->v);
    t->locs_cap = 256;
    t->locs = malloc(t->locs_cap * sizeof *t->locs);
    t->loc_table_cap = 512;
    t->loc_table = calloc(t->loc_table_cap, sizeof *t->loc_table);
    if (!t->v || !t->locs || !t->loc_table) {
        mt_nodes_destroy(t);
        return -ENOMEM;
    }
    t->v[0] = (mt_node_t){.parent = 0, .loc = 0};
    t->locs[0] = (mt_node_loc_t){.module = MT_NO_MODULE, .loaded = MT_NO_MODULE};
    t->nlocs = 1;
    t->n = 1;
    return 0;
}

void mt_nodes_destroy(mt_nodes_t *t)
{
    free(t->v);
    free(t->locs);
    free(t->loc_table);
    memset(t, 0, sizeof *t);
}

uint32_t mt_nodes_depth(const mt_nodes_t *t, uint32_t id)
{
    uint32_t depth = 0;
    for (; id != 0; id = t->v[id].parent)
        depth++;
    return depth;
}

static uint64_t mt_loc_hash(uint64_t ip, uint32_t loaded)
{
    uint64_t h = (ip ^ ((uint64_t)loaded << 47)) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 31);
}

static int mt_loc_table_grow(mt_nodes_t *t)
{
    uint32_t nc = t->loc_table_cap * 2;
    uint32_t *nt = calloc(nc, sizeof *nt);
    if (!nt)
        return -ENOMEM;
    for (uint32_t i = 1; i < t->nlocs; i++) {
        size_t j = mt_loc_hash(t->locs[i].ip, t->locs[i].loaded) & (nc - 1);
        while (nt[j])
            j = (j + 1) & (nc - 1);
        nt[j] = i + 1;
    }
    free(t->loc_table);
    t->loc_table = nt;
    t->loc_table_cap = nc;
    return 0;
}

/* The location of ip as the modules loaded now place it; MT_NODE_UNDEFINED on ENOMEM. */
static uint32_t mt_loc_intern(mt_nodes_t *t, mt_modules_t *mods, uint64_t ip)
{
    uint32_t loaded = mt_modules_find(mods, ip);
    if ((t->nlocs + 1) * 2 > t->loc_table_cap && mt_loc_table_grow(t) < 0)
        return MT_NODE_UNDEFINED;
    size_t j = mt_loc_hash(ip, loaded) & (t->loc_table_cap - 1);
    for (; t->loc_table[j]; j = (j + 1) & (t->loc_table_cap - 1)) {
        const mt_node_loc_t *l = &t->locs[t->loc_table[j] - 1];
        if (l->ip == ip && l->loaded == loaded)
            return t->loc_table[j] - 1;
    }
    if (t->nlocs == t->locs_cap) {
        if (t->locs_cap >= MT_NODE_UNDEFINED / 2)
            return MT_NODE_UNDEFINED;
        mt_node_loc_t *nl = realloc(t->locs, (size_t)t->locs_cap * 2 * sizeof *nl);
        if (!nl)
            return MT_NODE_UNDEFINED;
        t->locs = nl;
        t->locs_cap *= 2;
    }
    /* The offset comes from the instance loaded now; the node names the first load of the same
     * file, so a library reloaded at another address symbolizes and merges as one. */
    const mt_module_t *m = mt_modules_get(mods, loaded);
    t->locs[t->nlocs] = (mt_node_loc_t){.ip = ip,
                                        .rel = m ? ip - m->bias : ip,
                                        .module = m ? m->canonical : MT_NO_MODULE,
                                        .loaded = loaded};
    t->loc_table[j] = ++t->nlocs;
    return t->nlocs - 1;
}

int mt_nodes_define(mt_nodes_t *t, mt_modules_t *mods, uint64_t id, uint64_t parent, uint64_t ip)
{
    if (id == 0 || id > (uint64_t)t->defined * 2 + MT_NODES_SLACK || id >= UINT32_MAX)
        return -EINVAL;
    if (parent >= t->n || !mt_nodes_valid(t, (uint32_t)parent))
        return -EINVAL;
    if (id < t->n && t->v[id].loc != MT_NODE_UNDEFINED) {
        const mt_node_t *old = &t->v[id];
        return old->parent == parent && t->locs[old->loc].ip == ip ? 0 : -EEXIST;
    }
    if (id >= t->cap) {
        uint32_t nc = t->cap;
        while (nc <= id)
            nc *= 2;
        mt_node_t *nv = realloc(t->v, (size_t)nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        t->v = nv;
        t->cap = nc;
    }
    uint32_t loc = mt_loc_intern(t, mods, ip);
    if (loc == MT_NODE_UNDEFINED)
        return -ENOMEM;
    for (uint32_t gap = t->n; gap < id; gap++) { /* ids skipped so far, maybe defined later */
        memset(&t->v[gap], 0, sizeof t->v[gap]); /* whole: the index copies it byte for byte */
        t->v[gap].loc = MT_NODE_UNDEFINED;
    }
    t->v[id] = (mt_node_t){.parent = (uint32_t)parent, .loc = loc};
    t->defined++;
    if (id >= t->n)
        t->n = (uint32_t)id + 1;
    return 0;
}

// SPDX-License-Identifier: MIT
// Trace-node table, a dense array indexed by node id. Ids must stay near the highest one seen
// (the recorder numbers nodes 1, 2, 3, ...), so a hostile id cannot make us allocate much:
// the table grows to at most twice the number of defined nodes plus a small slack.
#include "nodes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MT_NODES_SLACK 4096u

int mt_nodes_init(mt_nodes_t *t)
{
    memset(t, 0, sizeof *t);
    t->cap = 1024;
    t->v = calloc(t->cap, sizeof *t->v);
    if (!t->v)
        return -ENOMEM;
    t->v[0].defined = 1;
    t->v[0].module = MT_NO_MODULE;
    t->n = 1;
    return 0;
}

void mt_nodes_destroy(mt_nodes_t *t)
{
    free(t->v);
    memset(t, 0, sizeof *t);
}

int mt_nodes_define(mt_nodes_t *t, mt_modules_t *mods, uint64_t id, uint64_t parent, uint64_t ip)
{
    if (id == 0 || id > (uint64_t)t->defined * 2 + MT_NODES_SLACK || id >= UINT32_MAX)
        return -EINVAL;
    if (parent >= t->n || !t->v[parent].defined)
        return -EINVAL;
    if (id < t->n && t->v[id].defined) {
        const mt_node_t *old = &t->v[id];
        return old->parent == parent && old->ip == ip ? 0 : -EEXIST;
    }
    if (id >= t->cap) {
        uint32_t nc = t->cap;
        while (nc <= id)
            nc *= 2;
        mt_node_t *nv = realloc(t->v, (size_t)nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        memset(nv + t->cap, 0, (size_t)(nc - t->cap) * sizeof *nv);
        t->v = nv;
        t->cap = nc;
    }
    mt_node_t *nd = &t->v[id];
    nd->ip = ip;
    nd->parent = (uint32_t)parent;
    nd->depth = t->v[parent].depth + 1;
    /* The offset comes from the instance loaded now; the node names the first load of the same
     * file, so a library reloaded at another address symbolizes and merges as one. */
    const mt_module_t *m = mt_modules_get(mods, mt_modules_find(mods, ip));
    nd->rel = m ? ip - m->bias : ip;
    nd->module = m ? m->canonical : MT_NO_MODULE;
    nd->defined = 1;
    t->defined++;
    if (id >= t->n)
        t->n = (uint32_t)id + 1;
    return 0;
}

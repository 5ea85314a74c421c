// SPDX-License-Identifier: MIT
// The trace-node table: the log's deduplicated stacks. Node 0 is the root (empty stack); each
// TRACE_NODE adds (id -> parent, ip), and each node's ip is resolved to (module, relative
// address) when it is defined, with the modules loaded at that moment.
// It never accepts a node whose parent is unknown, so walking parents always terminates.
// A node is 8 bytes (a clang compile defines 2.6 million): its parent and its location, one
// entry per distinct (ip, module instance), shared by every node at that return address.
#ifndef MT_NODES_H
#define MT_NODES_H

#include <stdint.h>

#include "modules.h"

/* The location of a gap in the id space (an id not defined). */
#define MT_NODE_UNDEFINED UINT32_MAX

typedef struct mt_node {
    uint32_t parent; /* 0 = the root */
    uint32_t loc;    /* index into mt_nodes_t.locs, MT_NODE_UNDEFINED for gaps in the id space */
} mt_node_t;

typedef struct mt_node_loc {
    uint64_t ip;     /* as recorded (absolute) */
    uint64_t rel;    /* ip - module bias, or ip when module == MT_NO_MODULE */
    uint32_t module; /* canonical module index (mt_module_t.canonical) or MT_NO_MODULE */
    uint32_t loaded; /* the instance loaded when it was met (tells reloads apart) */
} mt_node_loc_t;

typedef struct mt_nodes {
    mt_node_t *v; /* indexed by id; v[0] is the root */
    uint32_t cap; /* entries allocated */
    uint32_t n;   /* one past the highest defined id */
    uint32_t defined;
    mt_node_loc_t *locs; /* locs[0] is the root's */
    uint32_t nlocs, locs_cap;
    uint32_t *loc_table; /* open addressing on (ip, loaded): loc index + 1, 0 = empty */
    uint32_t loc_table_cap;
} mt_nodes_t;

int mt_nodes_init(mt_nodes_t *t) MT_WUR;
void mt_nodes_destroy(mt_nodes_t *t);

/* TRACE_NODE. -EINVAL for a corrupt node (id 0, an unknown parent, an id far beyond the ones
 * seen: ids are handed out densely from 1), -EEXIST for a conflicting redefinition. */
int mt_nodes_define(mt_nodes_t *t, mt_modules_t *mods, uint64_t id, uint64_t parent,
                    uint64_t ip) MT_WUR;

/* True when an event may refer to id (the root or a defined node). */
static inline int mt_nodes_valid(const mt_nodes_t *t, uint32_t id)
{
    return id == 0 || (id < t->n && t->v[id].loc != MT_NODE_UNDEFINED);
}

/* The location of a valid node. */
static inline const mt_node_loc_t *mt_nodes_loc(const mt_nodes_t *t, uint32_t id)
{
    return &t->locs[t->v[id].loc];
}

static inline uint64_t mt_nodes_ip(const mt_nodes_t *t, uint32_t id)
{
    return mt_nodes_loc(t, id)->ip;
}

/* Frames from the root: 1 for a child of the root (a walk up the parents). */
uint32_t mt_nodes_depth(const mt_nodes_t *t, uint32_t id);

#endif

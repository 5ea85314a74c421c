// SPDX-License-Identifier: MIT
// The allocation sites merged into one call tree, root -> leaf, for flame graphs (SVG, HTML) and
// exports: a node per distinct path of functions, each carrying the sum of the sites below it.
// Built from mt_sites (stacks already symbolized, allocator frames dropped); prints nothing.
// Size is bounded by the caller's pruning, never by the number of events in the log.
#ifndef MT_FLAME_TREE_H
#define MT_FLAME_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "sites.h"
#include "symbolizer.h"

enum mt_flame_kind {
    MT_FLAME_ROOT,    /* the whole program */
    MT_FLAME_PROGRAM, /* native code of the traced executable */
    MT_FLAME_LIBRARY, /* native code of a shared library */
    MT_FLAME_PYTHON,  /* a Python frame */
    MT_FLAME_UNKNOWN, /* no module: an address nothing was loaded at */
    MT_FLAME_OTHER,   /* the children that were pruned, merged into one */
};

/* Sums over the sites whose stacks pass through the node (for the root: every site counted). */
typedef struct mt_flame_figures {
    uint64_t allocations, bytes_allocated;
    uint64_t peak_bytes, peak_blocks;
    uint64_t leaked_bytes, leaked_blocks;
    uint64_t temporary;
} mt_flame_figures_t;

typedef struct mt_flame_node {
    mt_frame_t frame; /* strings borrowed from the symbolizer; line 0 when several lines */
    uint32_t parent;  /* index of the parent; the root (index 0) is its own parent */
    uint32_t depth;   /* 0 for the root */
    uint32_t end;     /* one past the last node of this subtree (nodes are in preorder) */
    uint32_t merged;  /* MT_FLAME_OTHER: how many frames were merged into it */
    unsigned kind;    /* enum mt_flame_kind */
    uint64_t value;   /* the cost of this subtree */
    uint64_t self;    /* the cost of stacks that end here */
    uint64_t offset;  /* cost of the siblings-and-cousins left of it: x = offset / total */
    mt_flame_figures_t fig;
} mt_flame_node_t;

/*
 * Nodes in preorder: the root first, children biggest first (ties by name, then by the order
 * the sites were found, so the output is stable). The children of i are i + 1, then the end of
 * each child, up to v[i].end. Frames are merged by function and file (and module), Python
 * frames by function, file and line (each line a node of its own); a native frame without a
 * function by address. Only sites with a non-zero cost are counted.
 */
typedef struct mt_flame_tree {
    mt_flame_node_t *v;
    size_t n;
    enum mt_cost cost;
    uint32_t max_depth;
    uint64_t min_value;    /* the threshold used: children below it were merged */
    uint64_t pruned_value; /* cost in the MT_FLAME_OTHER nodes */
    size_t pruned_frames;  /* frames merged into them */
} mt_flame_tree_t;

typedef struct mt_flame_opts {
    enum mt_cost cost;
    /* Children whose subtree costs less than this share of the total (0.001 = 0.1%) are merged
     * into one "other" node under their parent; 0 keeps every frame. */
    double min_share;
    /* When the tree would still have more nodes, the threshold rises to the smallest one at which
     * it has at most max_nodes (0: no cap). That threshold depends on the tree alone, so a
     * bigger min_share never gives more nodes. */
    size_t max_nodes;
    /* Optional: the size of what the tree becomes (a renderer's bytes), at most max_size. It is
     * measured on the tree at the cap's threshold; while over, the cap shrinks in proportion.
     * Then min_share applies. */
    size_t (*size)(const mt_flame_tree_t *t, void *arg);
    void *size_arg;
    size_t max_size;
} mt_flame_opts_t;

/* Builds the tree of a log from its sites. 0 or -ENOMEM. */
int mt_flame_tree_build(mt_flame_tree_t *t, const mt_analysis_t *a, mt_sites_t *sites,
                        const mt_flame_opts_t *o) MT_WUR;
void mt_flame_tree_destroy(mt_flame_tree_t *t);

/* For each site i, out[i] = the node its cost is drawn in: the node of its innermost frame, or
 * the "other" node its stack was merged into; 0 (the root) for a site of no cost. Walks each
 * stack down the built tree (frames loaded and dropped one site at a time). 0 or -ENOMEM. */
int mt_flame_tree_site_nodes(const mt_flame_tree_t *t, mt_sites_t *sites, uint32_t *out) MT_WUR;

/* The figure a cost stands for, from a node's sums. */
uint64_t mt_flame_figures_cost(const mt_flame_figures_t *f, enum mt_cost cost);

#endif

// SPDX-License-Identifier: MIT
// Allocation sites: the trace nodes that allocated, symbolized, stripped of allocator frames and
// merged when their symbolized stacks are identical (two return addresses on the same line are
// one site for a person; in code without line information each return address is its own, as
// memcheck counts loss records). Shared by every report that ranks stacks (summary, peak, leaks).
// A site keeps its figures and its first trace node, not its frames: a clang compile has
// 360,000 sites 90 frames deep. Frames are rebuilt from the node for the sites a report shows
// (mt_sites_load), one address costing one symbolizer cache lookup.
#ifndef MT_SITES_H
#define MT_SITES_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "cost.h"
#include "frame_filter.h"
#include "symbolizer.h"

/* 96 bytes: a clang compile makes 360,000 sites. */
typedef struct mt_site {
    mt_frame_t *frames;   /* innermost first, allocator frames removed; NULL until mt_sites_load */
    uint32_t *threads;    /* with nthreads > 1: their indices, ascending; malloc'ed (else NULL) */
    uint64_t allocations; /* allocation calls made here */
    uint64_t bytes_allocated; /* bytes requested by those calls */
    uint64_t leaked_bytes;    /* still allocated at the end of the log */
    uint64_t leaked_blocks;
    uint64_t peak_bytes; /* held at the global heap peak */
    uint64_t peak_blocks;
    uint64_t temporary; /* freed before the same thread allocated again */
    uint32_t nframes;   /* known from the start */
    uint32_t nodes;     /* trace nodes merged into this site */
    uint32_t imported;  /* of those, made while a module was imported (mt_sites_node_imported) */
    uint32_t node;      /* the first of them: its stack, filtered, is the site's */
    uint32_t nthreads;  /* threads that allocated here (mt_site_thread) */
    uint32_t thread;    /* the one when nthreads == 1: most sites need no list */
} mt_site_t;

/* The index (mt_replay_thread) of the i-th thread that allocated at s, 0 <= i < nthreads. */
static inline uint32_t mt_site_thread(const mt_site_t *s, uint32_t i)
{
    return s->nthreads > 1 ? s->threads[i] : s->thread;
}

typedef struct mt_sites {
    mt_site_t *v;
    size_t n;
    const mt_analysis_t *a; /* what frames are rebuilt from */
    mt_symbolizer_t *sym;
    struct mt_stack_memo *memo; /* private: the symbolizer's answer per trace-node location */
    /* private, read through mt_sites_node_site: by mt_replay_node_index of the nodes that
     * allocated (ids below nnode_site) */
    uint32_t *node_site;
    uint32_t nnode_site;
} mt_sites_t;

/* The index + 1 of the site trace node id was merged into, 0 for none: what reads the heap at
 * other moments than the replay's (massif's detailed snapshots) adds node figures up per site
 * with it. */
uint32_t mt_sites_node_site(const mt_sites_t *s, uint32_t id);

/* The figure of a site for a cost (cost.h). */
uint64_t mt_site_cost(const mt_site_t *s, enum mt_cost cost);

/* Builds the sites of every node that allocated on the heap, without their frames. 0 or
 * -ENOMEM. a and sym must outlive the sites. */
int mt_sites_build(mt_sites_t *out, const mt_analysis_t *a, mt_symbolizer_t *sym) MT_WUR;
void mt_sites_destroy(mt_sites_t *s);

/* Gives v[i].frames: 1 when this call built them (the caller may mt_sites_drop them when done),
 * 0 when they were there already, -ENOMEM. */
int mt_sites_load(mt_sites_t *s, size_t i) MT_WUR;
/* Frees v[i].frames (they can be loaded again). */
void mt_sites_drop(mt_sites_t *s, size_t i);
/* Loads the frames of every site in idx[0..n) (a report's top list); 0 or -ENOMEM. */
int mt_sites_load_list(mt_sites_t *s, const size_t *idx, size_t n) MT_WUR;
/* Loads the frames of every site (what tests, and exports that keep them all, need). */
int mt_sites_load_all(mt_sites_t *s) MT_WUR;

/* Writes the indices of the (at most) n biggest sites by key into idx, biggest first, ties
 * broken by the other figures then by stack so the order is stable; sites whose key is 0 are
 * left out. Returns how many were written. */
size_t mt_sites_top(const mt_sites_t *s, enum mt_cost key, size_t n, size_t *idx);

/* The recorder writes at most 384 frames a stack (preload/stack/unwinder.h, MT_STACK_MAX: 256
 * native frames with the Python frames between them), so no log it writes has a deeper
 * stack. A crafted log may: the analyzer keeps the innermost MT_STACK_MAX_NODES trace nodes
 * of a stack and ends it with one frame whose function is MT_STACK_CUT_FUNCTION (no module,
 * no address), which bounds every report's memory by the number of stacks, whatever their
 * depth. */
#define MT_STACK_MAX_NODES 384u
#define MT_STACK_CUT_FUNCTION "[deeper frames not shown]"
/* The function of the frame that stands for Python frames the recorder left out of a deep
 * stack (log_format.h: MT_PY_IP_GAP), with their number. */
#define MT_STACK_GAP_FUNCTION "[%u Python frames not shown]"

/* A walk up the stack of a node, innermost node first, that skips memtrace's own frames
 * under the program's (mt_filter_walk_skip). Parents are always defined before children, so
 * it ends at the root; it takes at most MT_STACK_MAX_NODES steps, so a crafted chain of
 * 20,000 frames under 20,000 leaves costs 20,000 short stacks, not 400 million frames. */
typedef struct mt_stack_walk {
    const mt_analysis_t *a;
    uint32_t next, steps;
    mt_filter_walk_t filter;
} mt_stack_walk_t;

static inline mt_stack_walk_t mt_stack_walk_begin(const mt_analysis_t *a, uint32_t node)
{
    return (mt_stack_walk_t){.a = a, .next = node};
}

/* The next node the walk does not skip, with its location in *nd; 0 at the end. */
static inline uint32_t mt_stack_walk_next(mt_stack_walk_t *s, const mt_node_loc_t **nd)
{
    while (s->next != 0 && s->steps < MT_STACK_MAX_NODES) {
        uint32_t id = s->next;
        s->next = s->a->nodes.v[id].parent;
        s->steps++;
        *nd = mt_nodes_loc(&s->a->nodes, id);
        if (!mt_filter_walk_skip(&s->filter, s->a->modules, (*nd)->module))
            return id;
    }
    return 0;
}

/* True when the walk stopped before the root: the stack is cut (MT_STACK_CUT_FUNCTION). */
static inline int mt_stack_walk_cut(const mt_stack_walk_t *s)
{
    return s->next != 0;
}

/* The frames of the stack of one node, innermost first, unfiltered (except the interpreter's
 * frames around Python ones, see mt_sites_hide_interpreter, and the import machinery unless
 * a->show_import_machinery, see mt_sites_hide_import). Used by sites and by
 * reports that show single nodes. Returns the count or -ENOMEM; *out is malloc'ed. */
int mt_sites_node_stack(const mt_analysis_t *a, mt_symbolizer_t *sym, uint32_t node,
                        mt_frame_t **out) MT_WUR;

/* In a stack with Python frames, the interpreter's own C frames say nothing a Python user
 * can act on: drops every native frame of interp_module (in place), returns the new count.
 * Extension modules' frames (numpy's C code) stay where they are. */
size_t mt_sites_hide_interpreter(mt_frame_t *v, size_t n, uint32_t interp_module);

/* In a stack with Python frames, the frames of Python's import machinery (importlib's
 * bootstrap, zipimport: mt_pyfile_is_import_machinery) are not the user's code: drops them (in
 * place) so that what a module allocates while it is imported is charged to its own lines and
 * to the line that imported it. A stack left with no Python frame keeps its outermost
 * import-machinery frame (an import the interpreter made itself, at start-up). The
 * interpreter's C frames between them are already gone (mt_sites_hide_interpreter); an
 * extension module's init function is the module's own code and stays. Returns the new count. */
size_t mt_sites_hide_import(mt_frame_t *v, size_t n);
/* True when node's stack (its innermost MT_STACK_MAX_NODES frames) has a frame of the import
 * machinery: an allocation made while a module was imported, which hiding the machinery no
 * longer shows. */
int mt_sites_node_imported(const mt_analysis_t *a, uint32_t node);

/* Hash and equality of a stack as a person reads it: names, files, lines, modules, and raw
 * addresses only where there is no name. Symbolizer strings are interned, so pointers
 * compare. */
uint64_t mt_sites_stack_hash(const mt_frame_t *f, size_t n);
int mt_sites_stack_equal(const mt_frame_t *a, size_t na, const mt_frame_t *b, size_t nb);

/* The final mix of the stack hashes here and in stack_ids.c (murmur3's fmix64): every input bit
 * reaches the low bits, which tables index by. */
static inline uint64_t mt_sites_hash_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

#endif

// SPDX-License-Identifier: MIT
// Reachability classification of heap blocks, with memcheck's rules: definite, indirect,
// possible, reachable. Pure computation: it reads only pages the caller's page_ok accepts, and
// never allocates, locks or makes a system call, so it can run while the other threads are stopped.
#ifndef MT_LEAK_GRAPH_H
#define MT_LEAK_GRAPH_H

#include <stddef.h>
#include <stdint.h>

/* The order is part of the log format (LEAK_BLOCK records carry it). */
enum mt_leak_kind {
    MT_LEAK_DEFINITE = 0,
    MT_LEAK_INDIRECT = 1,
    MT_LEAK_POSSIBLE = 2,
    MT_LEAK_REACHABLE = 3,
};

typedef struct mt_leak_block {
    uintptr_t addr;
    uint64_t size;
    uint64_t indirect_bytes; /* for a definite block: bytes of the blocks only it reaches */
    uint64_t meta_offset;    /* an interior offset that is allocator metadata, not a pointer
                                target (glibc's next-chunk header); 0 when none */
    uint32_t leader;         /* for an indirect block: index of the definite block owning it */
    uint8_t state;           /* internal while running; an mt_leak_kind after mt_leakgraph_finish */
    uint8_t via_heuristic;   /* reached through an interior pointer accepted by a heuristic */
    uint8_t not_glibc;       /* not a glibc chunk (pymalloc's): no allocator metadata known */
    uint64_t live_from;      /* words below this offset are not looked at: a thread's stack
                                pointer is in the block, and below it the frames are dead */
} mt_leak_block_t;

/* Whether addr is where a C++ object's vtable pointer points: memcheck's test for its
 * multipleinheritance heuristic. Called with the world stopped; must not fault. */
typedef int (*mt_leak_vtable_fn)(void *ctx, uintptr_t addr);

/* Whether the thread whose glibc descriptor (struct pthread, its TCB) is at tcb has ended, its
 * stack and DTV left in glibc's cache for the next thread. Called with the world stopped on a
 * descriptor whose first words were checked; must not fault. */
typedef int (*mt_leak_tcb_fn)(uintptr_t tcb);

typedef struct mt_leak_graph {
    mt_leak_block_t *blocks; /* sorted by addr, non-overlapping */
    size_t count;
    uint32_t *stack; /* mark stack, room for 2 * count entries */
    size_t depth;
    uintptr_t lo, hi;            /* [lo, hi) spans every block: a fast reject for most words */
    mt_leak_vtable_fn is_vtable; /* NULL (the default): multipleinheritance never matches */
    void *vtable_ctx;
    mt_leak_tcb_fn tcb_ended; /* NULL (the default): no DTV is held by glibc's stack cache */
    /* Set by the caller after init when some memory may be unreadable (guard pages, file
     * mappings past their end): nonzero when the 4 KiB page at `page` can be read. NULL: all
     * memory given is readable. Consulted before every page of a root or a block is read. */
    int (*page_ok)(uintptr_t page);
} mt_leak_graph_t;

/* Prepares the graph; blocks must be sorted. stack must hold 2 * count entries. */
void mt_leakgraph_init(mt_leak_graph_t *g, mt_leak_block_t *blocks, size_t count, uint32_t *stack);

/* Enables the multipleinheritance heuristic with a vtable test (before the first scan). */
void mt_leakgraph_set_vtable_check(mt_leak_graph_t *g, mt_leak_vtable_fn fn, void *ctx);

/* Scans [begin, end) as a root: every aligned word that points into a block reaches it. */
void mt_leakgraph_scan_root(mt_leak_graph_t *g, uintptr_t begin, uintptr_t end);

/* Follows pointers from everything reached so far, then groups the unreached blocks into
 * definite leaders and their indirect blocks, and sets each block's final mt_leak_kind. */
void mt_leakgraph_finish(mt_leak_graph_t *g);

/* Index of the block containing addr (start or interior), or -1. */
long mt_leakgraph_find(const mt_leak_graph_t *g, uintptr_t addr);

#endif

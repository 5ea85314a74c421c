// SPDX-License-Identifier: MIT
// Reachability classification of heap blocks (see leak_graph.h). Runs with the world stopped:
// no allocation, no locks, no system calls; memory comes from the caller.
//
// The rules are memcheck's, so results agree with valgrind block for block:
//  - from a root, a start pointer makes a block reachable; an interior pointer makes it
//    possibly lost, unless one of memcheck's heuristics accepts it (std::string, length prefix,
//    new[] cookie, multiple inheritance);
//  - from a reachable block the same; from a possibly-lost block any pointer only makes the
//    target possibly lost (the chain is no better than its weakest link);
//  - each block still unreached is a definite leak that "owns" the unreached blocks it points
//    to (start or interior); those become indirect and their bytes count under it.
#include "leak/leak_graph.h"

enum { STATE_UNREACHED = 0xff };

void mt_leakgraph_init(mt_leak_graph_t *g, mt_leak_block_t *blocks, size_t count, uint32_t *stack)
{
    g->blocks = blocks;
    g->count = count;
    g->stack = stack;
    g->depth = 0;
    g->is_vtable = NULL;
    g->vtable_ctx = NULL;
    g->tcb_ended = NULL;
    g->lo = count ? blocks[0].addr : 0;
    g->hi = 0;
    g->page_ok = NULL;
    for (size_t i = 0; i < count; i++) {
        blocks[i].state = STATE_UNREACHED;
        blocks[i].indirect_bytes = 0;
        blocks[i].leader = (uint32_t)i;
        blocks[i].via_heuristic = 0;
        blocks[i].live_from = 0;
        uintptr_t end = blocks[i].addr + (blocks[i].size ? blocks[i].size : 1);
        if (end > g->hi)
            g->hi = end;
    }
}

void mt_leakgraph_set_vtable_check(mt_leak_graph_t *g, mt_leak_vtable_fn fn, void *ctx)
{
    g->is_vtable = fn;
    g->vtable_ctx = ctx;
}

long mt_leakgraph_find(const mt_leak_graph_t *g, uintptr_t addr)
{
    if (addr < g->lo || addr >= g->hi)
        return -1;
    size_t lo = 0, hi = g->count; /* first block with start > addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->blocks[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    const mt_leak_block_t *b = &g->blocks[lo - 1];
    /* A zero-size block is reached only by a pointer to its start, as in memcheck. */
    if (addr == b->addr || addr - b->addr < b->size)
        return (long)(lo - 1);
    return -1;
}

#define PAGE_MASK ((uintptr_t)4095)

/* True when the bytes [addr, addr + len) lie in pages that can be read (len <= 4096). */
static int readable(const mt_leak_graph_t *g, uintptr_t addr, size_t len)
{
    if (!g->page_ok)
        return 1;
    uintptr_t first = addr & ~PAGE_MASK, last = (addr + len - 1) & ~PAGE_MASK;
    return g->page_ok(first) && (last == first || g->page_ok(last));
}

/* A plausible vtable pointer: word aligned and above page 0 (memcheck's cheap pre-test, which
 * keeps small integers away from the costlier vtable check). */
static int vtable_candidate(uint64_t w)
{
    return (w & 7) == 0 && w >= 4096;
}

/* Interior pointers that are, by construction, the way a program refers to its block. These
 * are memcheck's four default heuristics (--leak-check-heuristics=all, see its manual and
 * mc_leakcheck.c), each matched exactly: a looser rule makes blocks reachable that valgrind
 * calls possibly lost, a stricter one the reverse. memcheck also requires the words it reads
 * to be initialised; memtrace cannot know that, so an uninitialised word that happens to fit
 * is accepted here. ptr is inside the block and not its start. Every word is read only from
 * a page the caller's page_ok accepts. */
static int accepted_by_heuristic(const mt_leak_graph_t *g, const mt_leak_block_t *b, uintptr_t ptr)
{
    const uint64_t *w = (const uint64_t *)b->addr;
    uint64_t off = ptr - b->addr, size = b->size;
    /* CPython's objects: a PyObject * to a garbage-collected object points past its 16-byte
     * PyGC_Head, and past two more words where 3.11 keeps the dict and weakref pointers in
     * front of it: the canonical references to a pymalloc block, as valgrind never sees them
     * (it sees pymalloc's arenas only). */
    if (b->not_glibc && (off == 16 || off == 32))
        return 1;
    if (!readable(g, b->addr, 16)) /* the words the heuristics look at */
        return 0;
    /* stdstring: libstdc++'s pre-C++11 (COW) string rep {length, capacity, refcount} with the
     * characters and their terminating NUL after it; the std::string points at the characters.
     * The block is exactly that big: 3 words + capacity + 1. */
    if (off == 24 && size - 25 == w[1] && w[0] <= w[1])
        return 1;
    if (off == 8 && w[0] != 0) {
        /* length64: a 64-bit count of the bytes that follow it (sqlite's allocations). */
        if (w[0] == size - 8)
            return 1;
        /* newarray: new T[n] for a T with a destructor puts n in front of the elements. */
        if ((size - 8) % w[0] == 0)
            return 1;
    }
    /* multipleinheritance: a pointer to a second base class sub-object points at that base's
     * vtable pointer; the block's first word is the most derived object's vtable pointer. The
     * word at ptr must lie whole inside the block. */
    if (g->is_vtable && (ptr & 7) == 0 && size >= 8 && off <= size - 8 && vtable_candidate(w[0])) {
        /* The first word first: it is the one the other heuristics read too, so a block whose
         * start does not look like an object never has its interior word loaded. */
        if (!readable(g, ptr, 8))
            return 0;
        uint64_t inner = *(const uint64_t *)ptr;
        if (vtable_candidate(inner) && g->is_vtable(g->vtable_ctx, (uintptr_t)inner) &&
            g->is_vtable(g->vtable_ctx, (uintptr_t)w[0]))
            return 1;
    }
    return 0;
}

/*
 * glibc's x86_64 thread descriptor (64-byte aligned) starts with tcbhead_t {tcb, dtv, self}:
 * tcb and self point at the descriptor, dtv 16 bytes into the thread's DTV, a block calloc'ed
 * by pthread_create with its entry count n in the first word, n + 2 entries of 16 bytes in all.
 * A thread that ended leaves descriptor and DTV with its stack in glibc's cache for the next
 * thread. memcheck never reports those: valgrind frees the cache (__libc_freeres) first, which
 * memtrace does only when no other thread is left (freeres.c). They are held by glibc, so
 * reachable, not possibly lost as the interior pointer alone would make them (a failing kind:
 * every program with a pool thread still running at exit failed the check). A running
 * thread's DTV stays possibly lost, as memcheck says. holder: where the word ptr was read.
 */
static int cached_dtv(const mt_leak_graph_t *g, const mt_leak_block_t *b, uintptr_t ptr,
                      uintptr_t holder)
{
    if (!g->tcb_ended || ptr - b->addr != 16 || (holder & 63) != 8 || b->not_glibc)
        return 0;
    uintptr_t tcb = holder - 8;
    if (!readable(g, tcb, 24) || !readable(g, b->addr, 8))
        return 0;
    const uint64_t *t = (const uint64_t *)tcb;
    uint64_t n = *(const uint64_t *)b->addr;
    /* The block is recorded as big as without memtrace's own TLS modules (hooks.c), whose
     * entries n counts: it may be smaller than n + 2 entries, never larger. */
    return t[0] == tcb && t[2] == tcb && n < ((uint64_t)1 << 32) && b->size >= 32 &&
           b->size <= (n + 2) * 16 && g->tcb_ended(tcb);
}

static void push(mt_leak_graph_t *g, long i)
{
    g->stack[g->depth++] = (uint32_t)i;
}

/* A word found in memory at holder, which is reachable (definite = 1) or only possibly so. */
static void reach(mt_leak_graph_t *g, uintptr_t ptr, int definite, uintptr_t holder)
{
    long i = mt_leakgraph_find(g, ptr);
    if (i < 0)
        return;
    mt_leak_block_t *b = &g->blocks[i];
    if (b->state == MT_LEAK_REACHABLE)
        return;
    int start = ptr == b->addr || (definite && cached_dtv(g, b, ptr, holder));
    /* malloc's bins point at the next chunk's header, which overlaps the last usable bytes of
     * this block; such a word says nothing about this block. */
    if (!start && b->meta_offset && ptr - b->addr == b->meta_offset)
        return;
    int heuristic = !start && accepted_by_heuristic(g, b, ptr);
    if (definite && (start || heuristic)) {
        b->state = MT_LEAK_REACHABLE;
        b->via_heuristic = (uint8_t)heuristic;
        push(g, i); /* scanned again if it was possible: its targets improve too */
    } else if (b->state == STATE_UNREACHED) {
        b->state = MT_LEAK_POSSIBLE;
        push(g, i);
    }
}

/* A conservative scan reads any word of any root, poisoned or not (LSan's scanner does the
 * same): under AddressSanitizer (the unit tests' sanitizer build) the load must not be
 * instrumented, or it would read the shadow of ASan's own shadow memory. */
#if defined(__SANITIZE_ADDRESS__)
#define MT_NO_ASAN __attribute__((no_sanitize_address))
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MT_NO_ASAN __attribute__((no_sanitize_address))
#endif
#endif
#ifndef MT_NO_ASAN
#define MT_NO_ASAN
#endif

/* The end of the run of words from p (8-aligned) that lie in p's page and before end; sets
 * *ok to whether that page can be read. Words never straddle pages. */
static uintptr_t page_run(const mt_leak_graph_t *g, uintptr_t p, uintptr_t end, int *ok)
{
    uintptr_t page_end = (p | PAGE_MASK) + 1;
    *ok = !g->page_ok || g->page_ok(p & ~PAGE_MASK);
    return page_end < end ? page_end : end;
}

MT_NO_ASAN static void scan_words(mt_leak_graph_t *g, uintptr_t begin, uintptr_t end, int definite)
{
    int ok;
    for (uintptr_t p = (begin + 7) & ~(uintptr_t)7; p + 8 <= end;) {
        uintptr_t stop = page_run(g, p, end, &ok);
        if (!ok) {
            p = stop;
            continue;
        }
        for (; p + 8 <= stop; p += 8) {
            uintptr_t v = *(const uintptr_t *)p;
            if (v >= g->lo && v < g->hi)
                reach(g, v, definite, p);
        }
    }
}

static void drain(mt_leak_graph_t *g)
{
    while (g->depth > 0) {
        const mt_leak_block_t *b = &g->blocks[g->stack[--g->depth]];
        scan_words(g, b->addr + b->live_from, b->addr + b->size, b->state == MT_LEAK_REACHABLE);
    }
}

void mt_leakgraph_scan_root(mt_leak_graph_t *g, uintptr_t begin, uintptr_t end)
{
    scan_words(g, begin, end, 1);
    drain(g);
}

/* Marks every unreached block that leader's memory reaches as indirect, owned by leader. */
static void collect_clique(mt_leak_graph_t *g, uint32_t leader)
{
    push(g, leader);
    while (g->depth > 0) {
        const mt_leak_block_t *b = &g->blocks[g->stack[--g->depth]];
        uintptr_t end = b->addr + b->size;
        int ok;
        for (uintptr_t p = b->addr + b->live_from, stop = p; p + 8 <= end; p += 8) {
            if (p >= stop) {
                stop = page_run(g, p, end, &ok);
                if (!ok) {
                    p = stop - 8;
                    continue;
                }
            }
            long i = mt_leakgraph_find(g, *(const uintptr_t *)p);
            if (i < 0 || (uint32_t)i == leader)
                continue;
            mt_leak_block_t *t = &g->blocks[i];
            if (t->state != STATE_UNREACHED)
                continue;
            t->state = MT_LEAK_INDIRECT;
            t->leader = leader;
            /* A block that led its own clique earlier joins this one with all it owned. */
            g->blocks[leader].indirect_bytes += t->size + t->indirect_bytes;
            t->indirect_bytes = 0;
            push(g, i);
        }
    }
}

void mt_leakgraph_finish(mt_leak_graph_t *g)
{
    drain(g);
    for (size_t i = 0; i < g->count; i++)
        if (g->blocks[i].state == STATE_UNREACHED)
            collect_clique(g, (uint32_t)i);
    /* Earlier leaders absorbed by a later clique point at a stale leader; re-point them. */
    for (size_t i = 0; i < g->count; i++) {
        mt_leak_block_t *b = &g->blocks[i];
        if (b->state == STATE_UNREACHED) {
            b->state = MT_LEAK_DEFINITE;
            b->leader = (uint32_t)i;
        }
    }
    for (size_t i = 0; i < g->count; i++) {
        mt_leak_block_t *b = &g->blocks[i];
        uint32_t l = b->leader;
        while (b->state == MT_LEAK_INDIRECT && g->blocks[l].state == MT_LEAK_INDIRECT)
            l = g->blocks[l].leader;
        b->leader = l;
    }
}

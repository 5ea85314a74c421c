/* SPDX-License-Identifier: MIT
 *
 * memtrace.h: tell memtrace about the blocks of your own allocator, and mark moments of a run.
 *
 * Copy this header into your project or include it from where `meson install` put it; there is
 * nothing to link. Every call below does nothing, and costs a test of one address, unless the
 * program runs under `memtrace run` (which preloads libmemtrace_preload.so): the functions it
 * calls are declared weak, so the program links and runs without memtrace, and the dynamic
 * loader binds them to memtrace's definitions when memtrace is loaded.
 *
 *   memtrace_alloc(p, size)          your allocator handed out the block p of size bytes
 *   memtrace_free(p)                 the block p (from memtrace_alloc) went back to your allocator
 *   memtrace_realloc(old, p, size)   old was resized to p: memtrace_free(old), memtrace_alloc(p)
 *   memtrace_mark("name")            a named point in time, listed by the reports
 *
 * The blocks you report are of their own kind, "custom": they take part in every report (sites,
 * peak, flame graphs, `memtrace leaks`, the `--leak-check` scan at exit) with the stack of the
 * call to memtrace_alloc, which is your allocator's caller's stack. A block you never free is a
 * leak. They usually live inside memory your allocator got from malloc (its slab): that memory
 * is recorded as well, as the malloc call that made it, so the totals count both; the reports
 * give the custom blocks' own count and bytes apart ("custom" in `memtrace report`). Under
 * `--leak-check` a malloc block that holds custom blocks is the pool's slab: it is not itself
 * checked for leaks, only the blocks in it are (as valgrind's memcheck treats mempools).
 *
 * Rules: report a block only while it is allocated, once; free it with memtrace_free (not
 * free()) before your allocator reuses its memory. The calls are thread-safe. Names given to
 * memtrace_mark are copied (at most 255 bytes are kept).
 *
 * Weak symbols need a dynamically linked program (the usual case). Position-independent code
 * (the default) works everywhere; code built with -fno-pie on x86-64 too (see MEMTRACE_FN_).
 * In a fully static program memtrace cannot be preloaded anyway and the calls stay no-ops.
 * Define MEMTRACE_DISABLE before including this header to compile every call away.
 */
#ifndef MEMTRACE_H
#define MEMTRACE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if !defined(MEMTRACE_DISABLE) && (defined(__GNUC__) || defined(__clang__))

/* Defined by libmemtrace_preload.so; not to be called directly (their names may change). */
extern void memtrace_api_alloc(void *p, size_t size) __attribute__((weak));
extern void memtrace_api_free(void *p) __attribute__((weak));
extern void memtrace_api_mark(const char *name) __attribute__((weak));

/*
 * The address of a weak function, 0 when nothing defines it. Position-independent code (PIE,
 * the default of today's compilers, and shared libraries) reads it from the GOT, which the
 * dynamic loader fills in, memtrace's definitions included. Code built with -fno-pie reads it
 * as a constant, which the static linker sets to 0 for good: on x86-64 the load is written
 * through the GOT here, which makes the linker keep a GOT entry for the loader to fill in.
 */
#if defined(__x86_64__) && !defined(__PIC__) && !defined(__PIE__)
__asm__(".weak memtrace_api_alloc\n\t.weak memtrace_api_free\n\t.weak memtrace_api_mark");
#define MEMTRACE_FN_(sym, var) __asm__("movq " #sym "@GOTPCREL(%%rip), %0" : "=r"(var))
#else
#define MEMTRACE_FN_(sym, var) ((var) = (sym))
#endif

/* Your allocator handed out p, size bytes. p == NULL is ignored. */
static inline void memtrace_alloc(void *p, size_t size)
{
    void (*fn)(void *, size_t);
    MEMTRACE_FN_(memtrace_api_alloc, fn);
    if (fn)
        fn(p, size);
}

/* p, reported by memtrace_alloc, is free again. p == NULL is ignored. */
static inline void memtrace_free(void *p)
{
    void (*fn)(void *);
    MEMTRACE_FN_(memtrace_api_free, fn);
    if (fn)
        fn(p);
}

/* The block old (may be NULL) now lives at p with size bytes (p == NULL: the resize failed and
 * old is still allocated, nothing changes). */
static inline void memtrace_realloc(void *old, void *p, size_t size)
{
    if (!p)
        return;
    if (old)
        memtrace_free(old);
    memtrace_alloc(p, size);
}

/* A named point in time ("phase 2", "request 17 done"): reports list the marks in order, with
 * their time since the start; the HTML page draws them on the timeline. */
static inline void memtrace_mark(const char *name)
{
    void (*fn)(const char *);
    MEMTRACE_FN_(memtrace_api_mark, fn);
    if (fn && name)
        fn(name);
}

#else /* no weak symbols, or disabled: the calls compile to nothing */

static inline void memtrace_alloc(void *p, size_t size)
{
    (void)p;
    (void)size;
}
static inline void memtrace_free(void *p)
{
    (void)p;
}
static inline void memtrace_realloc(void *old, void *p, size_t size)
{
    (void)old;
    (void)p;
    (void)size;
}
static inline void memtrace_mark(const char *name)
{
    (void)name;
}

#endif

#ifdef __cplusplus
}
#endif

#endif /* MEMTRACE_H */

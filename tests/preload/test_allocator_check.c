// SPDX-License-Identifier: MIT
// Unit tests for the glibc chunk header read of preload/base/allocator_check.h: that it is
// malloc_usable_size's answer for every kind of block the hooks see (heap and mmapped chunks,
// a thread's arena, calloc, realloc, every aligned allocation), that the start-up check
// accepts glibc and refuses an allocator that answers otherwise, and that the check leaves
// glibc's mmap threshold as it was. Under a sanitizer (its own malloc) only the refusal runs.
#include <check.h>

#include "check_main.h"
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/allocator_check.h"

#define MIB ((size_t)1 << 20)

/* The malloc the recorder would forward to is glibc's (not a sanitizer's). */
static int glibc_heap(void)
{
    return mt_acheck_glibc_usable() != NULL;
}

static void *volatile sink;

/* Chunks mmapped now (mallinfo2's hblks). */
static size_t mmapped_chunks(void)
{
    return mallinfo2().hblks;
}

static void same(void *p, const char *what)
{
    ck_assert_msg(p != NULL, "%s: no block", what);
    ck_assert_msg(mt_acheck_chunk_usable(p) == malloc_usable_size(p),
                  "%s: header read %zu, malloc_usable_size %zu", what, mt_acheck_chunk_usable(p),
                  malloc_usable_size(p));
}

/* The same as same(), and the block must be an mmapped chunk (counted by glibc itself). */
static void *same_mmapped(void *(*make)(size_t), size_t size, const char *what)
{
    size_t before = mmapped_chunks();
    void *p = make(size);
    ck_assert_msg(mmapped_chunks() == before + 1, "%s: not an mmapped chunk", what);
    same(p, what);
    /* an mmapped chunk's usable bytes end where its mapping does (no next chunk whose
     * prev_size word it could use): a heap chunk's formula would say 8 more */
    ck_assert_uint_eq(((uintptr_t)p + malloc_usable_size(p)) % 4096, 0);
    return p;
}

static void *big_malloc(size_t n)
{
    return malloc(n);
}
static void *big_calloc(size_t n)
{
    return calloc(1, n);
}
static void *big_memalign(size_t n)
{
    return memalign(4096, n);
}
static void *big_posix_memalign(size_t n)
{
    void *p = NULL;
    return posix_memalign(&p, 65536, n) == 0 ? p : NULL;
}
static void *big_realloc(size_t n)
{
    void *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    return realloc(p, n + 3 * MIB); /* mremap */
}

/* The blocks of one thread: sizes from 0 to a page and beyond, every allocating function. */
static void *heap_blocks(void *arg)
{
    (void)arg;
    void *keep[64];
    int n = 0;
    for (size_t size = 0; size <= 5000; size += size < 300 ? 1 : 97) {
        void *p = malloc(size);
        same(p, "malloc");
        if (n < 64)
            keep[n++] = p; /* some stay live while the next ones are carved */
        else
            free(p);
    }
    void *c = calloc(7, 13);
    same(c, "calloc");
    free(c);
    void *r = malloc(40);
    r = realloc(r, 2000);
    same(r, "realloc grown");
    r = realloc(r, 100);
    same(r, "realloc shrunk");
    free(r);
    static const size_t aligns[] = {32, 64, 256, 4096};
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        void *p = memalign(aligns[i], 100 + i * 1000);
        same(p, "memalign");
        free(p);
        ck_assert_int_eq(posix_memalign(&p, aligns[i], 3000), 0);
        same(p, "posix_memalign");
        free(p);
        p = aligned_alloc(aligns[i], aligns[i] * 3);
        same(p, "aligned_alloc");
        free(p);
    }
    void *v = valloc(100);
    same(v, "valloc");
    free(v);
    v = pvalloc(100);
    same(v, "pvalloc");
    free(v);
    for (int i = 0; i < 64; i++)
        free(keep[i]);
    return NULL;
}

START_TEST(header_is_malloc_usable_size)
{
    if (!glibc_heap())
        return;
    heap_blocks(NULL);
    /* a second thread gets an arena of its own: NON_MAIN_ARENA is set in its chunks */
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, heap_blocks, NULL), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    /* over glibc's largest dynamic mmap threshold (32 MiB): mmapped whatever came before */
    void *m[] = {
        same_mmapped(big_malloc, 40 * MIB, "malloc mmapped"),
        same_mmapped(big_calloc, 40 * MIB + 1, "calloc mmapped"),
        same_mmapped(big_memalign, 40 * MIB + 2, "memalign mmapped"),
        same_mmapped(big_posix_memalign, 40 * MIB + 3, "posix_memalign mmapped"),
        same_mmapped(big_realloc, 40 * MIB + 4, "realloc mmapped"),
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        free(m[i]);
}
END_TEST

START_TEST(check_accepts_glibc)
{
    /* a sanitizer's malloc is no glibc chunk: then there is no header read at all */
    ck_assert_int_eq(mt_acheck_chunk_header_ok(mt_acheck_glibc_usable()), glibc_heap());
    ck_assert_int_eq(mt_acheck_chunk_header_ok(NULL), 0);
}
END_TEST

/* malloc_usable_size as it would be if mmapped chunks had a heap chunk's layout. */
static size_t usable_mmapped_wrong(void *p)
{
    size_t head;
    memcpy(&head, (char *)p - sizeof head, sizeof head);
    return malloc_usable_size(p) + ((head & 2) ? 8 : 0);
}

/* What a malloc debugging library answers (MALLOC_CHECK_ keeps a byte at the end). */
static size_t usable_debug(void *p)
{
    return malloc_usable_size(p) - 1;
}

/* A malloc with mmap turned off (M_MMAP_MAX 0) or no address space: no big block. */
static void *malloc_small_only(size_t n)
{
    return n > 32 * MIB ? NULL : malloc(n);
}

static size_t usable_glibc(void *p)
{
    return malloc_usable_size(p);
}

static mt_acheck_heap_fns_t glibc_fns(void)
{
    return (mt_acheck_heap_fns_t){malloc,         calloc,        realloc, free,    memalign,
                                  posix_memalign, aligned_alloc, valloc,  pvalloc, usable_glibc};
}

START_TEST(check_refuses_other_answers)
{
    if (!glibc_heap())
        return;
    mt_acheck_heap_fns_t f = glibc_fns();
    ck_assert_int_eq(mt_acheck_chunk_verify(&f), 1);
    f.valloc = f.pvalloc = NULL; /* a libc without the obsolete two */
    ck_assert_int_eq(mt_acheck_chunk_verify(&f), 1);
    f = glibc_fns();
    f.usable = usable_mmapped_wrong;
    ck_assert_int_eq(mt_acheck_chunk_verify(&f), 0);
    f.usable = usable_debug;
    ck_assert_int_eq(mt_acheck_chunk_verify(&f), 0);
    f = glibc_fns();
    f.malloc = malloc_small_only; /* never saw an mmapped chunk: not proven, not used */
    ck_assert_int_eq(mt_acheck_chunk_verify(&f), 0);
}
END_TEST

START_TEST(check_keeps_mmap_threshold)
{
    if (!glibc_heap())
        return;
    /* 200 KiB is over the default threshold (128 KiB), which this fresh process (Check forks
     * one per test) has not raised: mmapped after the check too. Had the check freed an
     * mmapped chunk under 32 MiB, glibc would have raised the threshold to that chunk's
     * size, and this block would come from the heap. */
    ck_assert_int_eq(mt_acheck_chunk_header_ok(mt_acheck_glibc_usable()), 1);
    /* glibc mmaps a block only when neither a free chunk nor the top of the heap can hold
     * it: none free can (asserted), and the top is used up first */
    struct mallinfo2 mi = mallinfo2();
    ck_assert_uint_lt(mi.fordblks - mi.keepcost, 200 * 1024);
    void *top = mi.keepcost > 4096 ? malloc(mi.keepcost - 4096) : NULL;
    sink = top;
    size_t before = mmapped_chunks();
    void *p = malloc(200 * 1024);
    sink = p; /* or the compiler drops the malloc and free pair */
    ck_assert_uint_eq(mmapped_chunks(), before + 1);
    free(p);
    free(top);
}
END_TEST

MT_SUITE(.name = "allocator_check",
         .tests = MT_TESTS(header_is_malloc_usable_size, check_accepts_glibc,
                           check_refuses_other_answers, check_keeps_mmap_threshold));

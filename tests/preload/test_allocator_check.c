// SPDX-License-Identifier: MIT
// Unit tests for the glibc chunk header read of preload/base/allocator_check.h: that it is
// malloc_usable_size's answer for every kind of block the hooks see (heap and mmapped chunks,
// a thread's arena, calloc, realloc, every aligned allocation), and that it is used for a kind
// of chunk only once it agreed with malloc_usable_size on enough blocks of that kind, never
// after a difference. Under a sanitizer (its own malloc) the blocks are not glibc's: skipped.
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

static size_t usable_glibc(void *p)
{
    return malloc_usable_size(p);
}

/* n live blocks of size at once, each asked through t, with what the asker would be told. */
static void ask(mt_acheck_trust_t *t, mt_usable_fn usable, unsigned n, size_t size)
{
    void *b[300];
    ck_assert_uint_le(n, 300);
    for (unsigned i = 0; i < n; i++) {
        b[i] = malloc(size + i % 50);
        ck_assert_ptr_nonnull(b[i]);
        /* the header lies before the block: hide from the compiler where the pointer came
         * from, or -Warray-bounds sees a read outside the object */
        __asm__("" : "+r"(b[i]));
        ck_assert_uint_eq(mt_acheck_usable(t, b[i], usable), usable(b[i]));
    }
    for (unsigned i = 0; i < n; i++)
        free(b[i]);
}

/* The header is read for a kind of chunk only after it agreed with malloc_usable_size on the
 * program's own blocks of that kind, MT_ACHECK_TRUST_* of them; meanwhile the answer is the
 * function's. */
START_TEST(trusted_after_agreeing)
{
    if (!glibc_heap())
        return;
    mt_acheck_trust_t t = {0};
    ask(&t, usable_glibc, MT_ACHECK_TRUST_HEAP - 1, 24);
    ck_assert_uint_eq(t.trusted, 0);
    ask(&t, usable_glibc, 1, 100);
    ck_assert_uint_eq(t.trusted, MT_ACHECK_HEAP);
    ask(&t, usable_glibc, MT_ACHECK_TRUST_MMAPPED - 1, 40 * MIB);
    ck_assert_uint_eq(t.trusted, MT_ACHECK_HEAP);
    ask(&t, usable_glibc, 1, 40 * MIB);
    ck_assert_uint_eq(t.trusted, MT_ACHECK_HEAP | MT_ACHECK_MMAPPED);
    ask(&t, usable_glibc, 200, 5000); /* read from the header now: the same answers */
    ck_assert_uint_eq(t.agreed[MT_ACHECK_HEAP], MT_ACHECK_TRUST_HEAP);
}
END_TEST

/* One difference and the header is never read again: an allocator whose mmapped chunks read
 * otherwise (after the heap kind was trusted), or a debugging malloc that answers less. */
START_TEST(refused_on_a_difference)
{
    if (!glibc_heap())
        return;
    mt_acheck_trust_t t = {0};
    ask(&t, usable_mmapped_wrong, MT_ACHECK_TRUST_HEAP, 64);
    ck_assert_uint_eq(t.trusted, MT_ACHECK_HEAP);
    ask(&t, usable_mmapped_wrong, 1, 40 * MIB);
    ck_assert_uint_eq(t.trusted, MT_ACHECK_REFUSED);
    ask(&t, usable_mmapped_wrong, MT_ACHECK_TRUST_HEAP, 64); /* answered by the function */
    ask(&t, usable_mmapped_wrong, MT_ACHECK_TRUST_MMAPPED + 1, 40 * MIB);
    ck_assert_uint_eq(t.trusted, MT_ACHECK_REFUSED);
    mt_acheck_trust_t d = {0};
    ask(&d, usable_debug, 1, 64);
    ck_assert_uint_eq(d.trusted, MT_ACHECK_REFUSED);
    ask(&d, usable_debug, MT_ACHECK_TRUST_HEAP + 1, 64);
    ck_assert_uint_eq(d.trusted, MT_ACHECK_REFUSED);
}
END_TEST

/* The recorder's own function: glibc's under a plain build, none under a sanitizer's malloc
 * (then there is no heap total, and no header read). */
START_TEST(glibc_usable_found)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    ck_assert(!glibc_heap());
#else
    ck_assert(glibc_heap());
#endif
}
END_TEST

MT_SUITE(.name = "allocator_check",
         .tests = MT_TESTS(header_is_malloc_usable_size, trusted_after_agreeing,
                           refused_on_a_difference, glibc_usable_found));

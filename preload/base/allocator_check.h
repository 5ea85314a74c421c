// SPDX-License-Identifier: MIT
// Start-up check that the program's allocations reach memtrace's hooks (see allocator_check.c).
#ifndef MT_ALLOCATOR_CHECK_H
#define MT_ALLOCATOR_CHECK_H

#include <stddef.h>

/* How a finding is told: a NOTICE record (enum mt_notice_code, text). The recorder passes its
 * own (mt_rec_notice), so that this check, below it, never calls up into it. */
typedef void (*mt_acheck_notice_fn)(unsigned code, const char *text);

/* Tells notice what it found (and, when allocations are lost, writes one stderr line). Guard
 * set, log open. */
void mt_acheck_run(mt_acheck_notice_fn notice);

/* When the malloc the hooks forward to is not glibc's, tells own_ranges.h where its code is,
 * so that the mappings it makes for itself are no roots for the leak check. Guard set. */
void mt_acheck_foreign_allocator(void);

typedef size_t (*mt_usable_fn)(void *);
/* glibc's malloc_usable_size when the malloc the hooks forward to is glibc's (then it and
 * mallinfo2 describe the blocks we record); NULL for any other allocator. Guard set. */
mt_usable_fn mt_acheck_glibc_usable(void);

/*
 * The usable size of an in-use glibc chunk, read from its header: what glibc's
 * malloc_usable_size returns for it, without its cost. glibc (this layout is older than 2.26;
 * targets with memory tagging differ) keeps each chunk's size, with three flag bits
 * (PREV_INUSE 1, IS_MMAPPED 2, NON_MAIN_ARENA 4), in the word before the block; the block's
 * usable bytes are that size less the header's 16 bytes, plus the next chunk's prev_size word
 * (8 bytes) that an in-use chunk may use, except for an mmapped chunk, which has no next chunk.
 * malloc_usable_size (through a call, no inlining) also reads the next chunk's header to tell
 * a free chunk (0) from an in-use one: another cache line per event, and pointless here, where
 * every block asked about is live (just allocated, or about to be freed or reallocated).
 * Only valid once mt_acheck_chunk_header_ok said so (a malloc debugging library, another
 * allocator or a glibc of another layout would read differently).
 */
static inline size_t mt_acheck_chunk_usable(const void *p)
{
    size_t head;
    __builtin_memcpy(&head, (const char *)p - sizeof head, sizeof head);
    return (head & ~(size_t)7) - ((head & 2) ? 2 : 1) * sizeof head;
}

/* The real allocation functions that a header check allocates its test blocks with. */
typedef struct mt_acheck_heap_fns {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    void *(*memalign)(size_t, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*valloc)(size_t); /* these two may be NULL (obsolete) */
    void *(*pvalloc)(size_t);
    mt_usable_fn usable; /* the malloc_usable_size the header read must agree with */
} mt_acheck_heap_fns_t;

/*
 * Allocates one block of every kind the hooks see (small, tcache and larger sizes, mmapped
 * chunks, calloc, realloc'd in place and moved, and every aligned allocation), compares
 * mt_acheck_chunk_usable with f->usable on each, and frees them. 1 when every one agrees and
 * both mmapped and heap chunks were among them; 0 on any difference, or when a block could not
 * be had. Leaves the allocator's tunables as they were: its mmapped blocks are over 32 MiB,
 * which glibc's free never takes as its new mmap threshold. Guard set; the blocks come from f,
 * never from the hooks.
 */
int mt_acheck_chunk_verify(const mt_acheck_heap_fns_t *f);

/* mt_acheck_chunk_verify of the malloc family the hooks forward to, against usable (from
 * mt_acheck_glibc_usable; NULL: 0). Guard set. */
int mt_acheck_chunk_header_ok(mt_usable_fn usable);

#endif

// SPDX-License-Identifier: MIT
// Start-up check that the program's allocations reach memtrace's hooks (see allocator_check.c).
#ifndef MT_ALLOCATOR_CHECK_H
#define MT_ALLOCATOR_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a finding is told: a NOTICE record (enum mt_notice_code, text). The recorder passes its
 * own (mt_rec_notice), so that this check, below it, never calls up into it. */
typedef void (*mt_acheck_notice_fn)(unsigned code, const char *text);

/* Tells notice what it found (and, when allocations are lost, writes one stderr line). Guard
 * set, log open. */
void mt_acheck_run(mt_acheck_notice_fn notice);

/* When the malloc the hooks forward to is not glibc's, tells own_ranges.h where its code is,
 * so that the mappings it makes for itself are no roots for the leak check. Guard set. */
/* The executable segment (PT_LOAD with PF_X) of the loaded object that holds addr, into [*lo,
 * *hi); false (0, 0) when no object holds it. Takes the loader's lock (dl_iterate_phdr). */
bool mt_acheck_text_holding(uintptr_t addr, uintptr_t *lo, uintptr_t *hi);
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
 *
 * Only used once it has proven itself on the program's own blocks (mt_acheck_usable): a
 * malloc debugging library, another allocator or a glibc of another layout would read
 * differently. Not with test blocks of our own at start: any block allocated and freed then
 * changes where the program's blocks land (tcache and bins keep it), which memtrace must not.
 */
/* The two kinds of chunk, as bits of mt_acheck_trust_t.trusted, which MT_ACHECK_REFUSED ends. */
enum { MT_ACHECK_HEAP = 1, MT_ACHECK_MMAPPED = 2, MT_ACHECK_REFUSED = 4 };

/* Blocks of a kind whose header read must agree with malloc_usable_size before it is used
 * for that kind. */
#define MT_ACHECK_TRUST_HEAP 256u
#define MT_ACHECK_TRUST_MMAPPED 4u

typedef struct mt_acheck_trust {
    /* MT_ACHECK_HEAP | MT_ACHECK_MMAPPED: the kinds read from the header; MT_ACHECK_REFUSED
     * alone once the header read disagreed: then never again */
    unsigned trusted;
    uint32_t agreed[3]; /* by kind: blocks on which it agreed so far */
} mt_acheck_trust_t;

/* The kind of p's chunk (MT_ACHECK_HEAP or MT_ACHECK_MMAPPED) and its header word. */
static inline unsigned mt_acheck_chunk_kind(const void *p, size_t *head)
{
    __builtin_memcpy(head, (const char *)p - sizeof *head, sizeof *head);
    return (*head & 2) ? MT_ACHECK_MMAPPED : MT_ACHECK_HEAP;
}

static inline size_t mt_acheck_chunk_usable(const void *p)
{
    size_t head;
    unsigned kind = mt_acheck_chunk_kind(p, &head);
    return (head & ~(size_t)7) - kind * sizeof head; /* kind: 1 or 2 words of overhead */
}

/* Out of line: usable(p), compared with the header read; counts an agreement of p's kind,
 * trusting the kind after enough of them, or refuses for good on a difference. Any thread,
 * no lock (relaxed atomics: a race costs a few more comparisons at most). */
size_t mt_acheck_usable_learn(mt_acheck_trust_t *t, const void *p, mt_usable_fn usable);

/* The usable size of p, a live block of the glibc malloc family (usable is
 * malloc_usable_size): from the header once its kind is trusted, else from usable. */
static inline size_t mt_acheck_usable(mt_acheck_trust_t *t, const void *p, mt_usable_fn usable)
{
    size_t head;
    unsigned kind = mt_acheck_chunk_kind(p, &head);
    if (__builtin_expect((__atomic_load_n(&t->trusted, __ATOMIC_RELAXED) & kind) != 0, 1))
        return (head & ~(size_t)7) - kind * sizeof head;
    return mt_acheck_usable_learn(t, p, usable);
}

#endif

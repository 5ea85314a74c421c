// SPDX-License-Identifier: MIT
// Unit tests for the reachability classifier (preload/leak/leak_graph.c) on synthetic memory: one
// arena carved into blocks at known offsets, and a root array whose words point into them.
#include <check.h>

#include "check_main.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "leak/leak_graph.h"
#include "leak/leak_vtable.h"

#define ARENA_WORDS 1024
#define MAX_BLOCKS 16

static uint64_t arena[ARENA_WORDS] __attribute__((aligned(16)));
static uint64_t roots[16];
static mt_leak_block_t blocks[MAX_BLOCKS];
static uint32_t stack[2 * MAX_BLOCKS];
static size_t nblocks;
static mt_leak_graph_t graph;
static mt_leak_vtable_fn vtable_check; /* NULL: multipleinheritance off */

static void setup(void)
{
    memset(arena, 0, sizeof arena);
    memset(roots, 0, sizeof roots);
    memset(blocks, 0, sizeof blocks);
    nblocks = 0;
    vtable_check = NULL;
}

/* Adds a block of size bytes at word offset off; returns its index. Call in address order. */
static size_t add_block(size_t off, size_t size)
{
    blocks[nblocks].addr = (uintptr_t)&arena[off];
    blocks[nblocks].size = size;
    return nblocks++;
}

static uint64_t addr_of(size_t block, size_t byte_offset)
{
    return (uint64_t)(blocks[block].addr + byte_offset);
}

static uint64_t *words(size_t block)
{
    return (uint64_t *)blocks[block].addr;
}

static void classify(void)
{
    mt_leakgraph_init(&graph, blocks, nblocks, stack);
    if (vtable_check)
        mt_leakgraph_set_vtable_check(&graph, vtable_check, NULL);
    mt_leakgraph_scan_root(&graph, (uintptr_t)roots, (uintptr_t)(roots + 16));
    mt_leakgraph_finish(&graph);
}

START_TEST(start_pointer_chain_is_reachable)
{
    size_t a = add_block(0, 32), b = add_block(8, 40);
    roots[3] = addr_of(a, 0);
    words(a)[1] = addr_of(b, 0);
    classify();
    ck_assert_int_eq(blocks[a].state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(blocks[b].state, MT_LEAK_REACHABLE);
}
END_TEST

START_TEST(unreferenced_block_is_definite_and_owns_what_it_reaches)
{
    size_t d = add_block(0, 48), e = add_block(16, 24), f = add_block(32, 100);
    words(d)[2] = addr_of(e, 0);
    words(e)[0] = addr_of(f, 40); /* interior pointers count inside a lost clique */
    classify();
    ck_assert_int_eq(blocks[d].state, MT_LEAK_DEFINITE);
    ck_assert_int_eq(blocks[e].state, MT_LEAK_INDIRECT);
    ck_assert_int_eq(blocks[f].state, MT_LEAK_INDIRECT);
    ck_assert_uint_eq(blocks[d].indirect_bytes, 124);
    ck_assert_uint_eq(blocks[e].leader, d);
    ck_assert_uint_eq(blocks[f].leader, d);
}
END_TEST

START_TEST(interior_pointer_from_root_is_possible_and_so_is_its_chain)
{
    size_t g = add_block(0, 64), h = add_block(16, 16);
    roots[0] = addr_of(g, 24);
    words(g)[0] = addr_of(h, 0); /* a start pointer, but held by a possibly-lost block */
    classify();
    ck_assert_int_eq(blocks[g].state, MT_LEAK_POSSIBLE);
    ck_assert_int_eq(blocks[h].state, MT_LEAK_POSSIBLE);
}
END_TEST

START_TEST(possible_block_upgrades_when_a_start_pointer_appears_later)
{
    size_t a = add_block(0, 64), b = add_block(16, 16);
    roots[0] = addr_of(a, 8 * 3); /* interior first ... */
    roots[5] = addr_of(a, 0);     /* ... then a start pointer */
    words(a)[1] = addr_of(b, 0);
    classify();
    ck_assert_int_eq(blocks[a].state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(blocks[b].state, MT_LEAK_REACHABLE);
}
END_TEST

START_TEST(cycle_without_root_is_one_definite_and_one_indirect)
{
    size_t i = add_block(0, 32), j = add_block(8, 56);
    words(i)[0] = addr_of(j, 0);
    words(j)[0] = addr_of(i, 0);
    classify();
    ck_assert_int_eq(blocks[i].state, MT_LEAK_DEFINITE);
    ck_assert_int_eq(blocks[j].state, MT_LEAK_INDIRECT);
    ck_assert_uint_eq(blocks[i].indirect_bytes, 56);
    ck_assert_uint_eq(blocks[j].indirect_bytes, 0);
}
END_TEST

START_TEST(earlier_leader_is_absorbed_with_everything_it_owned)
{
    /* l (lowest address) leads a clique {l, n} first; m, found later, points to l. */
    size_t l = add_block(0, 16), n = add_block(8, 24), m = add_block(16, 40);
    words(l)[0] = addr_of(n, 0);
    words(m)[0] = addr_of(l, 0);
    classify();
    ck_assert_int_eq(blocks[m].state, MT_LEAK_DEFINITE);
    ck_assert_int_eq(blocks[l].state, MT_LEAK_INDIRECT);
    ck_assert_int_eq(blocks[n].state, MT_LEAK_INDIRECT);
    ck_assert_uint_eq(blocks[m].indirect_bytes, 16 + 24);
    ck_assert_uint_eq(blocks[l].indirect_bytes, 0);
    ck_assert_uint_eq(blocks[l].leader, m);
    ck_assert_uint_eq(blocks[n].leader, m);
}
END_TEST

START_TEST(length_prefix_and_new_array_cookies_count_as_start_pointers)
{
    size_t k = add_block(0, 72), c = add_block(16, 8 + 5 * 12), s = add_block(32, 64);
    words(k)[0] = 72 - 8; /* length64 */
    words(c)[0] = 5;      /* new T[5] with sizeof(T) == 12 */
    words(s)[0] = 5;      /* neither: 5 does not divide 56 and is not 56 */
    roots[1] = addr_of(k, 8);
    roots[2] = addr_of(c, 8);
    roots[3] = addr_of(s, 8);
    classify();
    ck_assert_int_eq(blocks[k].state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(blocks[k].via_heuristic, 1);
    ck_assert_int_eq(blocks[c].state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(blocks[s].state, MT_LEAK_POSSIBLE);
}
END_TEST

START_TEST(pointer_one_past_the_end_reaches_nothing)
{
    size_t a = add_block(0, 32), b = add_block(8, 32);
    roots[0] = addr_of(a, 32); /* a's end lies in the gap before b (b starts at byte 64) */
    roots[1] = addr_of(b, 32);
    classify();
    ck_assert_int_eq(blocks[a].state, MT_LEAK_DEFINITE);
    ck_assert_int_eq(blocks[b].state, MT_LEAK_DEFINITE);
    ck_assert_int_eq(mt_leakgraph_find(&graph, addr_of(a, 31)), (long)a);
    ck_assert_int_eq(mt_leakgraph_find(&graph, addr_of(a, 32)), -1);
}
END_TEST

START_TEST(allocator_metadata_offset_is_not_a_pointer)
{
    size_t a = add_block(0, 24), b = add_block(8, 24);
    blocks[a].meta_offset = 16; /* as if the next chunk's header began 16 bytes in */
    roots[0] = addr_of(a, 16);
    roots[1] = addr_of(b, 16); /* the same offset in a block without metadata: possible */
    classify();
    ck_assert_int_eq(blocks[a].state, MT_LEAK_DEFINITE);
    ck_assert_int_eq(blocks[b].state, MT_LEAK_POSSIBLE);
}
END_TEST

START_TEST(stdstring_needs_the_exact_rep_size)
{
    /* {length, capacity, refcount}, then capacity + 1 bytes: exactly 25 + capacity long. */
    size_t ok = add_block(0, 24 + 40 + 1), big = add_block(16, 64), len = add_block(32, 41);
    words(ok)[0] = 11, words(ok)[1] = 40;
    words(big)[0] = 1, words(big)[1] = 2; /* the block: was reachable, memcheck: possible */
    words(len)[0] = 17, words(len)[1] = 16; /* length above capacity */
    roots[0] = addr_of(ok, 24);
    roots[1] = addr_of(big, 24);
    roots[2] = addr_of(len, 24);
    classify();
    ck_assert_int_eq(blocks[ok].state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(blocks[ok].via_heuristic, 1);
    ck_assert_int_eq(blocks[big].state, MT_LEAK_POSSIBLE);
    ck_assert_int_eq(blocks[len].state, MT_LEAK_POSSIBLE);
}
END_TEST

START_TEST(zero_count_is_neither_length_nor_array)
{
    size_t z = add_block(0, 48);
    roots[0] = addr_of(z, 8);
    classify();
    ck_assert_int_eq(blocks[z].state, MT_LEAK_POSSIBLE);
}
END_TEST

#define VT_PRIMARY 0x10000u
#define VT_SECONDARY 0x20000u

static int fake_vtables(void *ctx, uintptr_t addr)
{
    (void)ctx;
    return addr == VT_PRIMARY || addr == VT_SECONDARY;
}

START_TEST(multiple_inheritance_needs_two_vtable_pointers)
{
    size_t ok = add_block(0, 32), other = add_block(8, 32), first = add_block(16, 32),
           past = add_block(24, 20), odd = add_block(32, 32);
    for (size_t b = 0; b < nblocks; b++)
        words(b)[0] = VT_PRIMARY, words(b)[2] = VT_SECONDARY;
    words(other)[2] = VT_SECONDARY + 8; /* the word at ptr is no vtable pointer */
    words(first)[0] = 4096 * 3;         /* the block's first word is none */
    roots[0] = addr_of(ok, 16);
    roots[1] = addr_of(other, 16);
    roots[2] = addr_of(first, 16);
    roots[3] = addr_of(past, 16); /* the word at ptr would end past the 20-byte block */
    roots[4] = addr_of(odd, 17);  /* not word aligned */
    vtable_check = fake_vtables;
    classify();
    ck_assert_int_eq(blocks[ok].state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(blocks[ok].via_heuristic, 1);
    ck_assert_int_eq(blocks[other].state, MT_LEAK_POSSIBLE);
    ck_assert_int_eq(blocks[first].state, MT_LEAK_POSSIBLE);
    ck_assert_int_eq(blocks[past].state, MT_LEAK_POSSIBLE);
    ck_assert_int_eq(blocks[odd].state, MT_LEAK_POSSIBLE);
}
END_TEST

START_TEST(multiple_inheritance_is_off_without_a_vtable_check)
{
    size_t ok = add_block(0, 32);
    words(ok)[0] = VT_PRIMARY, words(ok)[2] = VT_SECONDARY;
    roots[0] = addr_of(ok, 16);
    classify();
    ck_assert_int_eq(blocks[ok].state, MT_LEAK_POSSIBLE);
}
END_TEST

static void f1(void)
{
}
static void f2(void)
{
}
typedef void (*fn_t)(void);
static fn_t const table_code[] = {0, f1, f2};
static fn_t const table_one[] = {f1, (fn_t)(uintptr_t)table_code, f2};
static const char *const table_data[] = {"a", "b"};

START_TEST(vtable_check_reads_real_mappings_without_faulting)
{
    mt_leak_graph_t g;
    mt_leakgraph_init(&g, NULL, 0, NULL);
    mt_leakvtable_attach(&g);
    ck_assert(g.is_vtable == mt_leakvtable_check);
    ck_assert_int_eq(mt_leakvtable_check(NULL, (uintptr_t)table_code), 1);
    ck_assert_int_eq(mt_leakvtable_check(NULL, (uintptr_t)table_code), 1); /* cached */
    ck_assert_int_eq(mt_leakvtable_check(NULL, (uintptr_t)table_one), 0);
    ck_assert_int_eq(mt_leakvtable_check(NULL, (uintptr_t)table_data), 0);
    fn_t *heap = malloc(4 * sizeof *heap);
    heap[0] = f1, heap[1] = f2;
    ck_assert_int_eq(mt_leakvtable_check(NULL, (uintptr_t)heap), 0); /* not a file mapping */
    free(heap);
    ck_assert_int_eq(mt_leakvtable_check(NULL, 4096), 0);
    /* A readable file mapping past the end of its (empty) file: a load would raise SIGBUS. */
    char path[] = "/tmp/mt-vtable-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    void *m = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
    ck_assert_ptr_ne(m, MAP_FAILED);
    mt_leakvtable_attach(&g); /* a new scan reads the mappings again */
    ck_assert_int_eq(mt_leakvtable_check(NULL, (uintptr_t)m + 8), 0);
    munmap(m, 8192);
    close(fd);
}
END_TEST

/* Pages the caller says cannot be read (guard pages, file mappings past their end) are never
 * read: neither as part of a root nor of a block (issue 13.1). */
static uint64_t paged[4 * 512] __attribute__((aligned(4096)));
static uintptr_t bad_page;

static int all_but_bad_page(uintptr_t page)
{
    return page != bad_page;
}

START_TEST(unreadable_pages_are_skipped)
{
    memset(paged, 0, sizeof paged);
    nblocks = 0;
    /* a: three pages, the middle one unreadable; b, c, d, e: small blocks in the fourth */
    blocks[nblocks++] = (mt_leak_block_t){.addr = (uintptr_t)&paged[0], .size = 3 * 4096};
    for (size_t i = 0; i < 4; i++)
        blocks[nblocks++] =
            (mt_leak_block_t){.addr = (uintptr_t)&paged[3 * 512 + 8 * i], .size = 32};
    bad_page = (uintptr_t)&paged[512];
    roots[0] = blocks[0].addr;
    paged[512 + 7] = blocks[1].addr;      /* in the unreadable page: not seen */
    paged[1024 + 3] = blocks[2].addr;     /* after it: seen */
    paged[3 * 512 + 17] = blocks[4].addr; /* d (lost) holds e: e is indirect */
    mt_leakgraph_init(&graph, blocks, nblocks, stack);
    graph.page_ok = all_but_bad_page;
    mt_leakgraph_scan_root(&graph, (uintptr_t)roots, (uintptr_t)(roots + 16));
    mt_leakgraph_finish(&graph);
    ck_assert_int_eq(blocks[0].state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(blocks[1].state, MT_LEAK_DEFINITE);
    ck_assert_int_eq(blocks[2].state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(blocks[3].state, MT_LEAK_DEFINITE);
    ck_assert_int_eq(blocks[4].state, MT_LEAK_INDIRECT);
    /* no root: a is lost, and owns c but not b, which only its unreadable page points to */
    mt_leakgraph_init(&graph, blocks, nblocks, stack);
    graph.page_ok = all_but_bad_page;
    mt_leakgraph_finish(&graph);
    ck_assert_int_eq(blocks[0].state, MT_LEAK_DEFINITE);
    ck_assert_int_eq(blocks[1].state, MT_LEAK_DEFINITE);
    ck_assert_int_eq(blocks[2].state, MT_LEAK_INDIRECT);
    ck_assert_uint_eq(blocks[0].indirect_bytes, 32);
    /* the same root scanned when its own page is the bad one: nothing reached */
    for (size_t i = 0; i < nblocks; i++)
        blocks[i].state = 0;
    bad_page = (uintptr_t)roots & ~(uintptr_t)4095;
    mt_leakgraph_init(&graph, blocks, nblocks, stack);
    graph.page_ok = all_but_bad_page;
    mt_leakgraph_scan_root(&graph, (uintptr_t)roots, (uintptr_t)(roots + 16));
    mt_leakgraph_finish(&graph);
    ck_assert_int_eq(blocks[0].state, MT_LEAK_DEFINITE);
}
END_TEST

START_TEST(python_object_references_are_start_pointers)
{
    /* A PyObject * points past the 16-byte PyGC_Head, or 32 bytes in where 3.11 keeps two
     * words in front of it: for pymalloc's blocks (not_glibc) only. */
    size_t gc = add_block(0, 64), pre = add_block(16, 64), other = add_block(32, 64),
           glibc = add_block(48, 64);
    blocks[gc].not_glibc = blocks[pre].not_glibc = blocks[other].not_glibc = 1;
    roots[0] = addr_of(gc, 16);
    roots[1] = addr_of(pre, 32);
    roots[2] = addr_of(other, 24); /* no Python layout puts an object there */
    roots[3] = addr_of(glibc, 16); /* a glibc block: an interior pointer like any */
    classify();
    ck_assert_int_eq(blocks[gc].state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(blocks[pre].state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(blocks[other].state, MT_LEAK_POSSIBLE);
    ck_assert_int_eq(blocks[glibc].state, MT_LEAK_POSSIBLE);
}
END_TEST

START_TEST(dead_frames_of_a_stack_block_are_not_scanned)
{
    /* A coroutine's stack is a heap block: below its thread's stack pointer lie dead frames
     * (live_from), whose stale pointers reach nothing; above it, pointers count. */
    size_t st = add_block(0, 512), dead = add_block(80, 16), live = add_block(96, 16);
    words(st)[2] = addr_of(dead, 0);  /* byte 16: below live_from */
    words(st)[40] = addr_of(live, 0); /* byte 320: above it */
    roots[0] = addr_of(st, 0);
    mt_leakgraph_init(&graph, blocks, nblocks, stack);
    blocks[st].live_from = 256;
    mt_leakgraph_scan_root(&graph, (uintptr_t)roots, (uintptr_t)(roots + 16));
    mt_leakgraph_finish(&graph);
    ck_assert_int_eq(blocks[st].state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(blocks[live].state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(blocks[dead].state, MT_LEAK_DEFINITE);
}
END_TEST

MT_SUITE(.name = "leak_graph", .setup = setup,
         .tests = MT_TESTS(
             start_pointer_chain_is_reachable,
             unreferenced_block_is_definite_and_owns_what_it_reaches,
             interior_pointer_from_root_is_possible_and_so_is_its_chain,
             possible_block_upgrades_when_a_start_pointer_appears_later,
             cycle_without_root_is_one_definite_and_one_indirect,
             earlier_leader_is_absorbed_with_everything_it_owned,
             length_prefix_and_new_array_cookies_count_as_start_pointers,
             pointer_one_past_the_end_reaches_nothing, allocator_metadata_offset_is_not_a_pointer,
             python_object_references_are_start_pointers,
             dead_frames_of_a_stack_block_are_not_scanned, stdstring_needs_the_exact_rep_size,
             zero_count_is_neither_length_nor_array, multiple_inheritance_needs_two_vtable_pointers,
             multiple_inheritance_is_off_without_a_vtable_check,
             vtable_check_reads_real_mappings_without_faulting, unreadable_pages_are_skipped));

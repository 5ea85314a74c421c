// SPDX-License-Identifier: MIT
// A leaking program in miniature for the leak tests (leak_program.h): its allocation sites are
// real functions of the test binary, so a log of them symbolizes to their names and this file.
#include "leak_program.h"

#include <check.h>

__attribute__((noinline)) static uint64_t here(void)
{
    uint64_t ip = (uint64_t)__builtin_return_address(0);
    __asm__ volatile("" ::: "memory");
    return ip;
}

/* Distinct stores keep the compiler from folding the identical site functions into one. */
static volatile int sink;

__attribute__((noinline)) static uint64_t lost_block_site(void)
{
    uint64_t ip = here();
    sink = 1;
    __asm__ volatile("" ::: "memory");
    return ip;
}

__attribute__((noinline)) static uint64_t lost_list_site(void)
{
    uint64_t ip = here();
    sink = 2;
    __asm__ volatile("" ::: "memory");
    return ip;
}

__attribute__((noinline)) static uint64_t node_site(void)
{
    uint64_t ip = here();
    sink = 3;
    __asm__ volatile("" ::: "memory");
    return ip;
}

__attribute__((noinline)) static uint64_t possible_site(void)
{
    uint64_t ip = here();
    sink = 4;
    __asm__ volatile("" ::: "memory");
    return ip;
}

__attribute__((noinline)) static uint64_t reachable_site(void)
{
    uint64_t ip = here();
    sink = 5;
    __asm__ volatile("" ::: "memory");
    return ip;
}

__attribute__((noinline)) static uint64_t caller_site(void)
{
    uint64_t ip = here();
    sink = 6;
    __asm__ volatile("" ::: "memory");
    return ip;
}

void mt_leak_program(mt_lb_t *b, int self)
{
    mt_lb_init(b, 1, 0);
    if (self)
        mt_lb_self_modules(b, 1);
    mt_lb_node(b, 1, 0, caller_site());
    mt_lb_node(b, 2, 1, lost_block_site());
    mt_lb_node(b, 3, 1, lost_list_site());
    mt_lb_node(b, 4, 1, node_site());
    mt_lb_node(b, 5, 1, possible_site());
    mt_lb_node(b, 6, 1, reachable_site());
    mt_lb_thread(b, 1);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 1, 100, A, 2);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 2, 96, B, 3);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 3, 48, C, 4);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 4, 48, D, 4);
    mt_lb_alloc(b, MT_ALLOC_CALLOC, 5, 64, E, 5);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 6, 200, F, 6);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 7, 7, 0x70000, 6);
    mt_lb_free_(b, MT_TAG_FREE, 8, 0x70000);
}

void mt_leak_program_scan(mt_lb_t *b)
{
    mt_lb_leak_scan(b, 100, 6, 1, 0, 8192);
    mt_lb_leak_block(b, A, 0, 0);
    mt_lb_leak_block(b, C, 1, B); /* before its leader: order must not matter */
    mt_lb_leak_block(b, B, 0, 96);
    mt_lb_leak_block(b, D, 1, B);
    mt_lb_leak_block(b, E, 2, 0);
    mt_lb_leak_scan_end(b, 5);
}

mt_analysis_t *mt_leak_program_load(mt_lb_t *b)
{
    mt_lb_flush(b);
    mt_analysis_t *a;
    char err[256];
    ck_assert_int_eq(mt_analysis_load_mem(&a, b->file, b->len, "leaks", err, sizeof err), 0);
    mt_lb_free(b);
    return a;
}

mt_analysis_t *mt_leak_program_self(void)
{
    mt_lb_t b;
    mt_leak_program(&b, 1);
    mt_leak_program_scan(&b);
    mt_lb_exit(&b, 300, MT_EXIT_NORMAL, 0);
    return mt_leak_program_load(&b);
}

mt_symbolizer_t *mt_leak_program_symbolizer(const mt_analysis_t *a)
{
    mt_symbolizer_t *sym;
    ck_assert_int_eq(mt_symbolizer_new(&sym, a->modules), 0);
    return sym;
}

void mt_leak_program_report(mt_leaks_t *l, const mt_analysis_t *a, mt_symbolizer_t *sym)
{
    ck_assert_int_eq(mt_leaks_build(l, a, sym, NULL, MT_LEAKS_DEFAULT_SHOW), 0);
}

void mt_leak_program_free(mt_leaks_t *l, mt_symbolizer_t *sym, mt_analysis_t *a)
{
    if (l)
        mt_leaks_destroy(l);
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
}

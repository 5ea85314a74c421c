// SPDX-License-Identifier: MIT
// One crafted log loaded for a report or renderer test (crafted_log.h).
#include "crafted_log.h"

#include <check.h>

mt_lb_t b;
mt_analysis_t *a;
mt_symbolizer_t *sym;
mt_sites_t sites;

void mt_crafted_begin(void)
{
    mt_lb_init(&b, 100, 0);
    mt_lb_thread(&b, 1);
    mt_lb_node(&b, 1, 0, 0x1000);
    mt_lb_node(&b, 2, 0, 0x2000);
    mt_lb_node(&b, 3, 0, 0x3000);
}

void mt_crafted_load(void)
{
    char err[256];
    mt_lb_flush(&b);
    ck_assert_int_eq(mt_analysis_load_mem(&a, b.file, b.len, "test.mtr", err, sizeof err), 0);
    ck_assert_int_eq(mt_symbolizer_new(&sym, a->modules), 0);
}

void mt_crafted_load_sites(void)
{
    mt_crafted_load();
    ck_assert_int_eq(mt_sites_build(&sites, a, sym), 0);
}

void mt_crafted_teardown(void)
{
    mt_sites_destroy(&sites);
    if (sym)
        mt_symbolizer_free(sym);
    mt_analysis_free(a);
    mt_lb_free(&b);
    sym = NULL;
    a = NULL;
}

void mt_crafted_begin_main(void)
{
    mt_lb_init(&b, 100, 0);
    mt_lb_thread(&b, 1);
    mt_lb_node(&b, 1, 0, MAIN);
}

void mt_crafted_flame(void)
{
    mt_crafted_begin_main();
    mt_lb_node(&b, 2, 1, F);
    mt_lb_node(&b, 3, 1, G);
    mt_lb_node(&b, 4, 2, H);
    mt_lb_node(&b, 5, 3, F);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1, 50, 0x30, 3);
    mt_lb_free_(&b, MT_TAG_FREE, 2, 0x30);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 3, 50, 0x31, 3);
    mt_lb_free_(&b, MT_TAG_FREE, 4, 0x31);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 5, 100, 0x10, 2);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 6, 300, 0x20, 4);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 7, 200, 0x21, 4);
    mt_lb_free_(&b, MT_TAG_FREE, 8, 0x20);
    mt_lb_free_(&b, MT_TAG_FREE, 9, 0x21);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 10, 40, 0x40, 5);
    mt_lb_exit(&b, 11, MT_EXIT_NORMAL, 0);
    mt_crafted_load_sites();
}

void mt_crafted_flame_tree(mt_flame_tree_t *t, enum mt_cost cost, double min_share, size_t max)
{
    mt_flame_opts_t o = {.cost = cost, .min_share = min_share, .max_nodes = max};
    ck_assert_int_eq(mt_flame_tree_build(t, a, &sites, &o), 0);
}

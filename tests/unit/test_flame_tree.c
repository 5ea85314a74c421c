// SPDX-License-Identifier: MIT
// Unit tests of the flame tree (flame_tree.c) on crafted logs: the exact cost of every node
// for each cost kind, order, layout, pruning into "other", the node cap.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "crafted_log.h"
#include "flame_tree.h"
#include "render_html.h"

/* One expected node: address (0 for the root, 1 for "other"), depth, value, self, offset. */
typedef struct want {
    uint64_t addr;
    uint32_t depth;
    uint64_t value, self, offset;
} want_t;

static void expect(const mt_flame_tree_t *t, const want_t *w, size_t n)
{
    ck_assert_uint_eq(t->n, n);
    for (size_t i = 0; i < n; i++) {
        const mt_flame_node_t *x = &t->v[i];
        if (w[i].addr == 0)
            ck_assert_uint_eq(x->kind, MT_FLAME_ROOT);
        else if (w[i].addr == 1)
            ck_assert_uint_eq(x->kind, MT_FLAME_OTHER);
        else
            ck_assert_uint_eq(x->frame.address, w[i].addr);
        ck_assert_msg(x->depth == w[i].depth && x->value == w[i].value && x->self == w[i].self &&
                          x->offset == w[i].offset,
                      "node %zu: depth %u value %lu self %lu offset %lu", i, x->depth,
                      (unsigned long)x->value, (unsigned long)x->self, (unsigned long)x->offset);
        if (i)
            ck_assert_uint_eq(t->v[x->parent].depth + 1, x->depth);
    }
}

START_TEST(peak_tree)
{
    mt_crafted_flame();
    mt_flame_tree_t t;
    mt_crafted_flame_tree(&t, MT_COST_PEAK, 0, 0);
    const want_t w[] = {
        {0, 0, 600, 0, 0}, {MAIN, 1, 600, 0, 0}, {F, 2, 600, 100, 0}, {H, 3, 500, 500, 0}};
    expect(&t, w, 4);
    ck_assert_uint_eq(t.max_depth, 3);
    ck_assert_uint_eq(t.v[0].end, 4);
    ck_assert_uint_eq(t.v[2].end, 4);
    /* the other figures come along: h held 2 blocks at the peak, made 2 calls of 500 bytes */
    ck_assert_uint_eq(t.v[3].fig.peak_blocks, 2);
    ck_assert_uint_eq(t.v[3].fig.allocations, 2);
    ck_assert_uint_eq(t.v[3].fig.bytes_allocated, 500);
    ck_assert_uint_eq(t.v[2].fig.leaked_bytes, 100);
    ck_assert_uint_eq(t.v[3].kind, MT_FLAME_UNKNOWN);
    mt_flame_tree_destroy(&t);
}
END_TEST

START_TEST(leaked_tree)
{
    mt_crafted_flame();
    mt_flame_tree_t t;
    mt_crafted_flame_tree(&t, MT_COST_LEAKED, 0, 0);
    /* main's children biggest first: f (100) then g (40), g's f after g */
    const want_t w[] = {{0, 0, 140, 0, 0},
                        {MAIN, 1, 140, 0, 0},
                        {F, 2, 100, 100, 0},
                        {G, 2, 40, 0, 100},
                        {F, 3, 40, 40, 100}};
    expect(&t, w, 5);
    ck_assert_uint_eq(t.v[1].end, 5);
    ck_assert_uint_eq(t.v[2].end, 3);
    ck_assert_uint_eq(t.v[3].end, 5);
    ck_assert_uint_eq(t.v[4].parent, 3);
    ck_assert_uint_eq(t.v[0].fig.leaked_blocks, 2);
    mt_flame_tree_destroy(&t);
}
END_TEST

START_TEST(allocations_and_temporary_trees)
{
    mt_crafted_flame();
    mt_flame_tree_t t;
    mt_crafted_flame_tree(&t, MT_COST_ALLOCATIONS, 0, 0);
    /* f and g tie at 3 calls: the lower address first, so the order is stable */
    const want_t w[] = {{0, 0, 6, 0, 0}, {MAIN, 1, 6, 0, 0}, {F, 2, 3, 1, 0},
                        {H, 3, 2, 2, 0}, {G, 2, 3, 2, 3},    {F, 3, 1, 1, 3}};
    expect(&t, w, 6);
    mt_flame_tree_destroy(&t);

    mt_crafted_flame_tree(&t, MT_COST_TEMPORARY, 0, 0);
    const want_t wt[] = {{0, 0, 2, 0, 0}, {MAIN, 1, 2, 0, 0}, {G, 2, 2, 2, 0}};
    expect(&t, wt, 3);
    mt_flame_tree_destroy(&t);
}
END_TEST

START_TEST(pruned_into_other)
{
    mt_crafted_flame();
    mt_flame_tree_t t;
    /* 40% of 6 calls: frames under 2.4 calls go; h (2) and g>f (1) become "other" */
    mt_crafted_flame_tree(&t, MT_COST_ALLOCATIONS, 0.4, 0);
    const want_t w[] = {{0, 0, 6, 0, 0}, {MAIN, 1, 6, 0, 0}, {F, 2, 3, 1, 0},
                        {1, 3, 2, 2, 0}, {G, 2, 3, 2, 3},    {1, 3, 1, 1, 3}};
    expect(&t, w, 6);
    ck_assert_uint_eq(t.v[3].merged, 1);
    ck_assert_uint_eq(t.v[3].fig.bytes_allocated, 500);
    ck_assert_uint_eq(t.pruned_value, 3);
    ck_assert_uint_eq(t.pruned_frames, 2);
    mt_flame_tree_destroy(&t);

    /* at most 4 nodes: the cut rises until f and g merge too (root, main, other) */
    mt_crafted_flame_tree(&t, MT_COST_ALLOCATIONS, 0, 4);
    const want_t w2[] = {{0, 0, 6, 0, 0}, {MAIN, 1, 6, 0, 0}, {1, 2, 6, 6, 0}};
    expect(&t, w2, 3);
    ck_assert_uint_eq(t.v[2].merged, 2);
    mt_flame_tree_destroy(&t);
}
END_TEST

START_TEST(many_sites_bounded)
{
    /* 3000 sites of one allocation each under one caller: at 0.1% none is kept alone */
    mt_crafted_begin_main();
    for (uint32_t i = 0; i < 3000; i++) {
        mt_lb_node(&b, 2 + i, 1, 0x10000 + 16 * (uint64_t)i);
        mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1 + i, 8, 0x100000 + 16 * (uint64_t)i, 2 + i);
    }
    mt_lb_exit(&b, 5000, MT_EXIT_NORMAL, 0);
    mt_crafted_load_sites();
    mt_flame_tree_t t;
    mt_crafted_flame_tree(&t, MT_COST_LEAKED, 0.001, 0);
    const want_t w[] = {{0, 0, 24000, 0, 0}, {MAIN, 1, 24000, 0, 0}, {1, 2, 24000, 24000, 0}};
    expect(&t, w, 3);
    ck_assert_uint_eq(t.v[2].merged, 3000);
    ck_assert_uint_eq(t.v[2].fig.leaked_blocks, 3000);
    mt_flame_tree_destroy(&t);
    mt_crafted_flame_tree(&t, MT_COST_LEAKED, 0, 0);
    ck_assert_uint_eq(t.n, 3002);
    mt_flame_tree_destroy(&t);

    /* a page asked for 3000 rows per table stops each table at its byte budget */
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    mt_html_opts_t o = {.top = 3000};
    ck_assert_int_eq(mt_render_html(a, sym, f, &o), 0);
    fclose(f);
    ck_assert_ptr_nonnull(
        strstr(out, "more rows not shown (the page keeps each table under 1 MB)"));
    ck_assert_uint_gt(len, 2u << 20);
    ck_assert_uint_lt(len, 5u << 20);
    ck_assert_ptr_nonnull(strstr(out, "</html>\n"));
    free(out);
}
END_TEST

/* A fan of 64 callers under main, caller i with 8 + i leaves of i + 1 bytes each: a tree with
 * many values, where a cap that rose by doubling its share drew more frames for a bigger
 * --min-percent (issue 16, item 5). */
static void fan(void)
{
    mt_crafted_begin_main();
    uint32_t id = 2;
    uint64_t t = 1, addr = 0x100000;
    for (uint32_t i = 0; i < 64; i++) {
        uint32_t caller = id++;
        mt_lb_node(&b, caller, 1, 0x1000 + 16 * (uint64_t)i);
        for (uint32_t k = 0; k < 8 + i; k++) {
            uint32_t leaf = id++;
            mt_lb_node(&b, leaf, caller, 0x100000 + 16 * (uint64_t)leaf);
            mt_lb_alloc(&b, MT_ALLOC_MALLOC, t++, i + 1, addr, leaf);
            addr += 64;
        }
    }
    mt_lb_exit(&b, t, MT_EXIT_NORMAL, 0);
    mt_crafted_load_sites();
}

/* Every node's value is its children's plus its self. */
static void exact_widths(const mt_flame_tree_t *t)
{
    for (size_t i = 0; i < t->n; i++) {
        uint64_t kids = 0;
        for (size_t c = i + 1; c < t->v[i].end; c = t->v[c].end)
            kids += t->v[c].value;
        ck_assert_msg(kids + t->v[i].self == t->v[i].value, "node %zu: %lu + %lu != %lu", i,
                      (unsigned long)kids, (unsigned long)t->v[i].self,
                      (unsigned long)t->v[i].value);
    }
}

START_TEST(cap_monotonic)
{
    fan();
    mt_flame_tree_t t;
    size_t prev = SIZE_MAX;
    for (int k = 0; k <= 400; k++) {
        mt_crafted_flame_tree(&t, MT_COST_LEAKED, k * 0.0001, 300);
        ck_assert_uint_le(t.n, 300);
        ck_assert_msg(t.n <= prev, "min_share %g: %zu nodes, %zu at a smaller one", k * 0.0001, t.n,
                      prev);
        exact_widths(&t);
        prev = t.n;
        mt_flame_tree_destroy(&t);
    }
    /* the cap's threshold is the smallest that fits: one byte less draws too many frames */
    mt_crafted_flame_tree(&t, MT_COST_LEAKED, 0, 300);
    uint64_t cut = t.min_value, total = t.v[0].value;
    ck_assert_uint_gt(cut, 1);
    mt_flame_tree_destroy(&t);
    mt_crafted_flame_tree(&t, MT_COST_LEAKED, ((double)cut - 1.5) / (double)total, 0);
    ck_assert_uint_gt(t.n, 300);
    mt_flame_tree_destroy(&t);
}
END_TEST

/* 100 bytes a node, at most 2000: the cap shrinks to 20 nodes at the most, whatever min_share */
static size_t fake_size(const mt_flame_tree_t *t, void *arg)
{
    (*(int *)arg)++;
    return t->n * 100;
}

START_TEST(cap_byte_budget)
{
    fan();
    int calls = 0;
    mt_flame_tree_t t;
    mt_flame_opts_t o = {.cost = MT_COST_LEAKED,
                         .max_nodes = 1000,
                         .size = fake_size,
                         .size_arg = &calls,
                         .max_size = 2000};
    ck_assert_int_eq(mt_flame_tree_build(&t, a, &sites, &o), 0);
    ck_assert_uint_le(t.n, 20);
    ck_assert_uint_ge(t.n, 10);
    ck_assert_int_ge(calls, 2);
    exact_widths(&t);
    uint64_t cut = t.min_value;
    mt_flame_tree_destroy(&t);
    /* a bigger share than the budget's cut applies as it is */
    o.min_share = 0.05;
    ck_assert_int_eq(mt_flame_tree_build(&t, a, &sites, &o), 0);
    ck_assert_uint_ge(t.min_value, cut);
    ck_assert_uint_le(t.n, 20);
    exact_widths(&t);
    mt_flame_tree_destroy(&t);
}
END_TEST

MT_SUITE(.name = "flame_tree", .tcase = "tree", .teardown = mt_crafted_teardown,
         .tests = MT_TESTS(peak_tree, leaked_tree, allocations_and_temporary_trees,
                           pruned_into_other, many_sites_bounded, cap_monotonic, cap_byte_budget));

// SPDX-License-Identifier: MIT
// Unit tests of the records that link a run's logs (ORIGIN, NEXT_LOG, FORK) and of the heap
// a fork child inherits from its parent's log (inherit.c). Logs are crafted with log_builder
// in a temporary directory (run_logs.h), so every figure is known exactly.
#include <string.h>

#include "analysis.h"
#include "check_main.h"
#include "log_builder.h"
#include "run_logs.h"

static mt_analysis_t *load(const char *path)
{
    mt_analysis_t *a;
    char err[512];
    ck_assert_msg(mt_analysis_load(&a, path, err, sizeof err) == 0, "%s", err);
    return a;
}

/* The parent (pid 100): 3 blocks on nodes 1-2, FORK 1, then frees one and allocates more. */
static void write_parent(const char *name, const char *run)
{
    mt_lb_t b;
    mt_run_log_begin(&b, 100, 1, "parent");
    mt_lb_origin(&b, run, MT_ORIGIN_START, 0, 0, "");
    mt_lb_node(&b, 1, 0, 0x1000);
    mt_lb_node(&b, 2, 1, 0x2000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1, 1000, 0x10000, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2, 2000, 0x20000, 2);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 3, 4000, 0x30000, 2);
    mt_lb_fork(&b, 4, 1);
    mt_lb_free_(&b, MT_TAG_FREE, 5, 0x10000); /* after the fork: still the child's */
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 6, 99999, 0x40000, 1);
    mt_lb_fork(&b, 7, 2);
    mt_lb_exit(&b, 8, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, mt_run_dir_path(name));
    mt_lb_free(&b);
}

/* A child of FORK 1 (pid 101): frees the 2000-byte inherited block, allocates 500 of its own
 * on its own node 1 (ip 0x5000), which the analysis shifts after the parent's two nodes. */
static void write_child(const char *name, const char *run, const char *parent, uint64_t seq)
{
    mt_lb_t b;
    mt_run_log_begin(&b, 101, 100, "child");
    mt_lb_origin(&b, run, MT_ORIGIN_FORK, seq, 0, parent);
    mt_lb_node(&b, 1, 0, 0x5000);
    mt_lb_free_(&b, MT_TAG_FREE, 1, 0x20000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2, 500, 0x50000, 1);
    mt_lb_exit(&b, 3, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, mt_run_dir_path(name));
    mt_lb_free(&b);
}

START_TEST(origin_records_round_trip)
{
    mt_lb_t b;
    mt_run_log_begin(&b, 7, 6, "a");
    mt_lb_origin(&b, "run-1", MT_ORIGIN_EXEC, 0, 0, "/logs/old.7.mtr");
    mt_lb_fork(&b, 5, 1);
    mt_lb_fork(&b, 6, 2);
    mt_lb_next_log(&b, "/logs/new.7.mtr");
    mt_lb_exit(&b, 9, MT_EXIT_EXEC, 0);
    mt_lb_write(&b, mt_run_dir_path("a.mtr"));
    mt_lb_free(&b);
    mt_analysis_t *a = load(mt_run_dir_path("a.mtr"));
    ck_assert_int_eq(a->lineage.has_origin, 1);
    ck_assert_int_eq(a->lineage.how, MT_ORIGIN_EXEC);
    ck_assert_str_eq(a->lineage.run_id, "run-1");
    ck_assert_str_eq(a->lineage.from_log, "/logs/old.7.mtr");
    ck_assert_str_eq(a->lineage.next_log, "/logs/new.7.mtr");
    ck_assert_uint_eq(a->lineage.forks, 2);
    ck_assert_int_eq(a->inherit, MT_INHERIT_NONE);
    ck_assert_int_eq(a->truncated, 0);
    mt_analysis_free(a);
}
END_TEST

START_TEST(child_starts_with_the_parents_heap)
{
    write_parent("p.mtr", "r");
    write_child("c.mtr", "r", "/elsewhere/p.mtr", 1); /* found next to the child */
    mt_analysis_t *a = load(mt_run_dir_path("c.mtr"));
    const mt_replay_t *r = &a->replay;
    ck_assert_int_eq(a->inherit, MT_INHERIT_IMPORTED);
    ck_assert_str_eq(a->inherit_log, mt_run_dir_path("p.mtr"));
    ck_assert_uint_eq(r->inherited_bytes, 7000);
    ck_assert_uint_eq(r->inherited_blocks, 3);
    ck_assert_uint_eq(r->inherited_freed_bytes, 2000);
    ck_assert_uint_eq(r->inherited_freed_blocks, 1);
    ck_assert_uint_eq(r->allocations, 1);
    ck_assert_uint_eq(r->frees, 1);
    ck_assert_uint_eq(r->unknown_frees, 0);
    ck_assert_uint_eq(r->peak_heap_bytes, 7000);
    ck_assert_uint_eq(r->heap_bytes, 5500);
    ck_assert_uint_eq(r->heap_blocks, 3);
    /* the parent's nodes keep their ids; the child's own node 1 is now 3 */
    ck_assert_uint_eq(a->node_base, 2);
    ck_assert_uint_eq(mt_nodes_ip(&a->nodes, 2), 0x2000);
    ck_assert_uint_eq(a->nodes.v[2].parent, 1);
    ck_assert_uint_eq(mt_nodes_ip(&a->nodes, 3), 0x5000);
    ck_assert_uint_eq(mt_replay_node(r, 3).live_bytes, 500);
    ck_assert_uint_eq(mt_replay_node(r, 2).live_bytes, 4000);
    ck_assert_uint_eq(mt_replay_node(r, 2).allocations, 0); /* no call of the child's */
    mt_analysis_free(a);
}
END_TEST

static mt_analysis_t *load_thread(const char *path, const char *spec)
{
    mt_analysis_t *a;
    char err[512];
    const char *specs[] = {spec};
    mt_thread_filter_t f = {specs, 1, 0};
    ck_assert_msg(mt_analysis_load_filtered(&a, path, &f, NULL, NULL, err, sizeof err) == 0, "%s",
                  err);
    return a;
}

/* The inherited blocks belong to no thread of the child: the pseudo-thread of tid 0,
 * "(inherited)", which --thread 0 selects and any other filter leaves out. */
START_TEST(inherited_blocks_are_thread_zero)
{
    write_parent("p.mtr", "r");
    write_child("c.mtr", "r", "/elsewhere/p.mtr", 1);
    mt_analysis_t *a = load(mt_run_dir_path("c.mtr"));
    const mt_replay_t *r = &a->replay;
    ck_assert_uint_eq(r->ntstats, 2);
    mt_thread_stats_t inh = mt_replay_thread(r, 0), own = mt_replay_thread(r, 1);
    ck_assert_uint_eq(inh.tid, 0);
    ck_assert_uint_eq(inh.allocations, 0);
    ck_assert_uint_eq(inh.live_bytes, 5000); /* 7000 inherited, 2000 freed by the child */
    ck_assert_uint_eq(inh.peak_bytes, 7000);
    ck_assert_uint_eq(own.tid, 101);
    ck_assert_uint_eq(own.allocations, 1);
    ck_assert_uint_eq(own.live_bytes, 500);
    char label[64];
    mt_analysis_thread_label(a, 0, label, sizeof label);
    ck_assert_str_eq(label, "(inherited)");
    ck_assert_int_eq(mt_analysis_thread_known(a, "0"), 1);
    mt_analysis_free(a);

    a = load_thread(mt_run_dir_path("c.mtr"), "0");
    r = &a->replay;
    ck_assert_int_eq(a->inherit, MT_INHERIT_IMPORTED);
    ck_assert_int_eq(mt_replay_tid_selected(r, 0), 1);
    ck_assert_uint_eq(r->inherited_bytes, 7000);
    ck_assert_uint_eq(r->inherited_freed_bytes, 2000);
    ck_assert_uint_eq(r->allocations, 0);
    ck_assert_uint_eq(r->frees, 1); /* the child freed an inherited block: it counts with it */
    ck_assert_uint_eq(r->heap_bytes, 5000);
    ck_assert_uint_eq(r->peak_heap_bytes, 7000);
    mt_analysis_free(a);

    a = load_thread(mt_run_dir_path("c.mtr"), "101");
    r = &a->replay;
    ck_assert_int_eq(a->inherit, MT_INHERIT_IMPORTED); /* imported, then left out */
    ck_assert_int_eq(mt_replay_tid_selected(r, 0), 0);
    ck_assert_uint_eq(r->inherited_bytes, 0);
    ck_assert_uint_eq(r->inherited_blocks, 0);
    ck_assert_uint_eq(r->inherited_freed_bytes, 0);
    ck_assert_uint_eq(r->allocations, 1);
    ck_assert_uint_eq(r->frees, 0);
    ck_assert_uint_eq(r->heap_bytes, 500);
    ck_assert_uint_eq(r->all_heap_bytes, 5500);
    ck_assert_uint_eq(r->all_peak_bytes, 7000);
    ck_assert_uint_eq(r->peak_heap_bytes, 0); /* the child's own part of its peak */
    mt_analysis_free(a);
}
END_TEST

START_TEST(grandchild_inherits_through_two_logs)
{
    write_parent("p.mtr", "r");
    write_child("c.mtr", "r", mt_run_dir_path("p.mtr"), 1);
    /* the child forks after its own allocation; its child frees the parent's 4000 block */
    mt_lb_t b;
    mt_run_log_begin(&b, 102, 101, "grandchild");
    mt_lb_origin(&b, "r", MT_ORIGIN_FORK, 1, 0, mt_run_dir_path("c.mtr"));
    mt_lb_free_(&b, MT_TAG_FREE, 1, 0x30000);
    mt_lb_exit(&b, 2, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, mt_run_dir_path("g.mtr"));
    mt_lb_free(&b);
    /* the child's log needs a FORK: rewrite it with one at its end */
    mt_run_log_begin(&b, 101, 100, "child");
    mt_lb_origin(&b, "r", MT_ORIGIN_FORK, 1, 0, mt_run_dir_path("p.mtr"));
    mt_lb_node(&b, 1, 0, 0x5000);
    mt_lb_free_(&b, MT_TAG_FREE, 1, 0x20000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2, 500, 0x50000, 1);
    mt_lb_fork(&b, 3, 1);
    mt_lb_exit(&b, 4, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, mt_run_dir_path("c.mtr"));
    mt_lb_free(&b);
    mt_analysis_t *a = load(mt_run_dir_path("g.mtr"));
    ck_assert_int_eq(a->inherit, MT_INHERIT_IMPORTED);
    ck_assert_uint_eq(a->replay.inherited_bytes, 5500); /* 1000 + 4000 + the child's 500 */
    ck_assert_uint_eq(a->replay.inherited_blocks, 3);
    ck_assert_uint_eq(a->replay.heap_bytes, 1500);
    ck_assert_uint_eq(a->replay.unknown_frees, 0);
    ck_assert_uint_eq(a->node_base, 3);
    mt_analysis_free(a);
}
END_TEST

START_TEST(parent_unusable_says_why)
{
    /* no parent log at all */
    write_child("c.mtr", "r", "/nowhere/p.mtr", 1);
    mt_analysis_t *a = load(mt_run_dir_path("c.mtr"));
    ck_assert_int_eq(a->inherit, MT_INHERIT_UNKNOWN);
    ck_assert_ptr_nonnull(strstr(a->inherit_note, "missing"));
    ck_assert_uint_eq(a->replay.inherited_blocks, 0);
    ck_assert_uint_eq(a->replay.unknown_frees, 1);
    ck_assert_uint_eq(a->replay.heap_bytes, 500); /* its own block, on its own node 1 */
    mt_analysis_free(a);
    static const struct {
        const char *parent_run; /* p.mtr's run, NULL for no p.mtr written */
        const char *parent;     /* the child's parent log, in the run directory */
        uint64_t fork;          /* the child's fork number */
        const char *note;       /* in a->inherit_note; NULL: not checked */
    } cases[] = {
        {"other", "p.mtr", 1, "another run"},  /* a parent's log of another run */
        {"r", "p.mtr", 3, "no fork number 3"}, /* a fork the parent's log does not have */
        {NULL, "c.mtr", 1, NULL}, /* its own parent: the chain ends, at the depth limit */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].parent_run)
            write_parent("p.mtr", cases[i].parent_run);
        write_child("c.mtr", "r", mt_run_dir_path(cases[i].parent), cases[i].fork);
        a = load(mt_run_dir_path("c.mtr"));
        ck_assert_int_eq(a->inherit, MT_INHERIT_UNKNOWN);
        if (cases[i].note)
            ck_assert_ptr_nonnull(strstr(a->inherit_note, cases[i].note));
        mt_analysis_free(a);
    }
}
END_TEST

START_TEST(listed_heap_is_not_imported)
{
    mt_lb_t b;
    mt_run_log_begin(&b, 101, 100, "child");
    mt_lb_origin(&b, "r", MT_ORIGIN_FORK, 1, MT_ORIGIN_HEAP_LISTED, "/nowhere/p.mtr");
    mt_lb_node(&b, 1, 0, 0x1000);
    mt_lb_alloc(&b, MT_ALLOC_INHERITED, 0, 300, 0x10000, 1);
    mt_lb_free_(&b, MT_TAG_FREE, 1, 0x10000);
    mt_lb_exit(&b, 2, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, mt_run_dir_path("c.mtr"));
    mt_lb_free(&b);
    mt_analysis_t *a = load(mt_run_dir_path("c.mtr"));
    ck_assert_int_eq(a->inherit, MT_INHERIT_LISTED);
    ck_assert_uint_eq(a->node_base, 0);
    ck_assert_uint_eq(a->replay.inherited_bytes, 300);
    ck_assert_uint_eq(a->replay.inherited_freed_bytes, 300);
    ck_assert_uint_eq(a->replay.allocations, 0);
    ck_assert_uint_eq(a->replay.peak_heap_bytes, 300);
    mt_analysis_free(a);
}
END_TEST

MT_SUITE(.name = "inherit", .tcase = "core", .setup = mt_run_dir_setup,
         .teardown = mt_run_dir_teardown,
         .tests = MT_TESTS(origin_records_round_trip, child_starts_with_the_parents_heap,
                           inherited_blocks_are_thread_zero, grandchild_inherits_through_two_logs,
                           parent_unusable_says_why, listed_heap_is_not_imported));

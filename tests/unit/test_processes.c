// SPDX-License-Identifier: MIT
// Unit tests of the records that link a run's logs (ORIGIN, NEXT_LOG, FORK), the heap a fork
// child inherits from its parent's log (inherit.c), the process tree built from a directory's
// logs (process_tree.c) and the command line joiner (cmdline.c). Logs are crafted with
// log_builder in a temporary directory, so every figure is known exactly.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "analysis.h"
#include "cmdline.h"
#include "log_builder.h"
#include "process_tree.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/mt-unit-procs.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *in_dir(const char *name)
{
    static char paths[8][160];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 160, "%s/%s", dir, name);
    return p;
}

static void lb_begin(mt_lb_t *b, uint32_t pid, uint32_t ppid, const char *argv0)
{
    const char *argv[] = {argv0, "arg with space"};
    mt_lb_init(b, pid, 0);
    mt_lb_process(b, pid, ppid, "/bin/x", 2, argv);
    mt_lb_thread(b, pid);
}

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
    lb_begin(&b, 100, 1, "parent");
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
    mt_lb_write(&b, in_dir(name));
    mt_lb_free(&b);
}

/* A child of FORK 1 (pid 101): frees the 2000-byte inherited block, allocates 500 of its own
 * on its own node 1 (ip 0x5000), which the analysis shifts after the parent's two nodes. */
static void write_child(const char *name, const char *run, const char *parent, uint64_t seq)
{
    mt_lb_t b;
    lb_begin(&b, 101, 100, "child");
    mt_lb_origin(&b, run, MT_ORIGIN_FORK, seq, 0, parent);
    mt_lb_node(&b, 1, 0, 0x5000);
    mt_lb_free_(&b, MT_TAG_FREE, 1, 0x20000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2, 500, 0x50000, 1);
    mt_lb_exit(&b, 3, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, in_dir(name));
    mt_lb_free(&b);
}

START_TEST(origin_records_round_trip)
{
    mt_lb_t b;
    lb_begin(&b, 7, 6, "a");
    mt_lb_origin(&b, "run-1", MT_ORIGIN_EXEC, 0, 0, "/logs/old.7.mtr");
    mt_lb_fork(&b, 5, 1);
    mt_lb_fork(&b, 6, 2);
    mt_lb_next_log(&b, "/logs/new.7.mtr");
    mt_lb_exit(&b, 9, MT_EXIT_EXEC, 0);
    mt_lb_write(&b, in_dir("a.mtr"));
    mt_lb_free(&b);
    mt_analysis_t *a = load(in_dir("a.mtr"));
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
    mt_analysis_t *a = load(in_dir("c.mtr"));
    const mt_replay_t *r = &a->replay;
    ck_assert_int_eq(a->inherit, MT_INHERIT_IMPORTED);
    ck_assert_str_eq(a->inherit_log, in_dir("p.mtr"));
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
    mt_analysis_t *a = load(in_dir("c.mtr"));
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

    a = load_thread(in_dir("c.mtr"), "0");
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

    a = load_thread(in_dir("c.mtr"), "101");
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
    write_child("c.mtr", "r", in_dir("p.mtr"), 1);
    /* the child forks after its own allocation; its child frees the parent's 4000 block */
    mt_lb_t b;
    lb_begin(&b, 102, 101, "grandchild");
    mt_lb_origin(&b, "r", MT_ORIGIN_FORK, 1, 0, in_dir("c.mtr"));
    mt_lb_free_(&b, MT_TAG_FREE, 1, 0x30000);
    mt_lb_exit(&b, 2, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, in_dir("g.mtr"));
    mt_lb_free(&b);
    /* the child's log needs a FORK: rewrite it with one at its end */
    lb_begin(&b, 101, 100, "child");
    mt_lb_origin(&b, "r", MT_ORIGIN_FORK, 1, 0, in_dir("p.mtr"));
    mt_lb_node(&b, 1, 0, 0x5000);
    mt_lb_free_(&b, MT_TAG_FREE, 1, 0x20000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2, 500, 0x50000, 1);
    mt_lb_fork(&b, 3, 1);
    mt_lb_exit(&b, 4, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, in_dir("c.mtr"));
    mt_lb_free(&b);
    mt_analysis_t *a = load(in_dir("g.mtr"));
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
    mt_analysis_t *a = load(in_dir("c.mtr"));
    ck_assert_int_eq(a->inherit, MT_INHERIT_UNKNOWN);
    ck_assert_ptr_nonnull(strstr(a->inherit_note, "missing"));
    ck_assert_uint_eq(a->replay.inherited_blocks, 0);
    ck_assert_uint_eq(a->replay.unknown_frees, 1);
    ck_assert_uint_eq(a->replay.heap_bytes, 500); /* its own block, on its own node 1 */
    mt_analysis_free(a);
    /* a parent's log of another run */
    write_parent("p.mtr", "other");
    write_child("c.mtr", "r", in_dir("p.mtr"), 1);
    a = load(in_dir("c.mtr"));
    ck_assert_int_eq(a->inherit, MT_INHERIT_UNKNOWN);
    ck_assert_ptr_nonnull(strstr(a->inherit_note, "another run"));
    mt_analysis_free(a);
    /* a fork the parent's log does not have */
    write_parent("p.mtr", "r");
    write_child("c.mtr", "r", in_dir("p.mtr"), 3);
    a = load(in_dir("c.mtr"));
    ck_assert_int_eq(a->inherit, MT_INHERIT_UNKNOWN);
    ck_assert_ptr_nonnull(strstr(a->inherit_note, "no fork number 3"));
    mt_analysis_free(a);
    /* a log that names itself as its parent ends, at the depth limit */
    write_child("c.mtr", "r", in_dir("c.mtr"), 1);
    a = load(in_dir("c.mtr"));
    ck_assert_int_eq(a->inherit, MT_INHERIT_UNKNOWN);
    mt_analysis_free(a);
}
END_TEST

START_TEST(listed_heap_is_not_imported)
{
    mt_lb_t b;
    lb_begin(&b, 101, 100, "child");
    mt_lb_origin(&b, "r", MT_ORIGIN_FORK, 1, MT_ORIGIN_HEAP_LISTED, "/nowhere/p.mtr");
    mt_lb_node(&b, 1, 0, 0x1000);
    mt_lb_alloc(&b, MT_ALLOC_INHERITED, 0, 300, 0x10000, 1);
    mt_lb_free_(&b, MT_TAG_FREE, 1, 0x10000);
    mt_lb_exit(&b, 2, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, in_dir("c.mtr"));
    mt_lb_free(&b);
    mt_analysis_t *a = load(in_dir("c.mtr"));
    ck_assert_int_eq(a->inherit, MT_INHERIT_LISTED);
    ck_assert_uint_eq(a->node_base, 0);
    ck_assert_uint_eq(a->replay.inherited_bytes, 300);
    ck_assert_uint_eq(a->replay.inherited_freed_bytes, 300);
    ck_assert_uint_eq(a->replay.allocations, 0);
    ck_assert_uint_eq(a->replay.peak_heap_bytes, 300);
    mt_analysis_free(a);
}
END_TEST

/* A run: the root (pid 10) execs (NEXT_LOG) into an image that forks child 11 (which execs
 * too) and spawns 12. */
static void write_run(const char *run, uint32_t base)
{
    char path[6][160], name[64];
    const char *names[] = {"sh", "app", "app", "tool", "helper", ""};
    uint32_t pids[] = {base, base, base + 1, base + 1, base + 2};
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "%s.%u.mtr", names[i], pids[i]);
        snprintf(path[i], sizeof path[i], "%s", in_dir(name));
    }
    uint64_t peaks[] = {100, 9000, 0, 5000, 3000};
    for (int i = 0; i < 5; i++) {
        mt_lb_t b;
        uint32_t ppid = i < 2 ? 1 : base;
        lb_begin(&b, pids[i], ppid, names[i]);
        enum mt_origin how = i == 1 || i == 3 ? MT_ORIGIN_EXEC
                             : i == 2         ? MT_ORIGIN_FORK
                                              : MT_ORIGIN_START;
        const char *from = i == 1 ? path[0] : i == 2 ? path[1] : i == 3 ? path[2] : "";
        mt_lb_origin(&b, run, how, i == 2 ? 1 : 0, 0, from);
        mt_lb_node(&b, 1, 0, 0x1000);
        if (peaks[i])
            mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1, peaks[i], 0x10000, 1);
        if (i == 1)
            mt_lb_fork(&b, 2, 1);
        if (i == 4)
            mt_lb_free_(&b, MT_TAG_FREE, 3, 0x10000);
        if (i == 0 || i == 2)
            mt_lb_next_log(&b, i == 0 ? path[1] : path[3]);
        mt_lb_exit(&b, 4, i == 0 || i == 2 ? MT_EXIT_EXEC : MT_EXIT_NORMAL, 0);
        mt_lb_write(&b, path[i]);
        mt_lb_free(&b);
    }
}

static char **list_dir(size_t *n)
{
    static char *v[16];
    static char store[16][256];
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls '%s'", dir);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    char line[128];
    *n = 0;
    while (fgets(line, sizeof line, f) && *n < 16) {
        line[strcspn(line, "\n")] = '\0';
        snprintf(store[*n], sizeof store[*n], "%s/%s", dir, line);
        v[*n] = store[*n];
        (*n)++;
    }
    pclose(f);
    return v;
}

START_TEST(tree_of_a_run)
{
    write_run("run-a", 10);
    size_t n;
    char **paths = list_dir(&n);
    ck_assert_uint_eq(n, 5);
    mt_ptree_t t;
    ck_assert_int_eq(mt_ptree_build(&t, paths, n, NULL, NULL), 0);
    ck_assert_uint_eq(t.nimages, 5);
    ck_assert_uint_eq(t.nprocs, 3);
    ck_assert_uint_eq(t.nskipped, 0);
    ck_assert_str_eq(t.run_id, "run-a");
    /* by peak: 10 (app's 9000), 11 (tool's 5000: its fork image inherited app's 9000 but
     * exec'd at once, which does not count), 12 (helper 3000, freed: held 0) */
    const mt_process_t *p = &t.procs[t.by_peak[0]];
    ck_assert_uint_eq(p->pid, 10);
    ck_assert_uint_eq(p->nimages, 2);
    ck_assert_uint_eq(p->peak_bytes, 9000);
    ck_assert_uint_eq(p->held_bytes, 9000);
    ck_assert_uint_eq(p->parent, MT_PTREE_NONE);
    ck_assert_str_eq(t.images[p->images[0]].command, "sh 'arg with space'");
    p = &t.procs[t.by_peak[1]];
    ck_assert_uint_eq(p->pid, 11);
    ck_assert_uint_eq(p->nimages, 2);
    ck_assert_uint_eq(t.images[p->images[0]].inherited_bytes, 9000); /* app's heap at FORK 1 */
    ck_assert_uint_eq(t.images[p->images[0]].peak_bytes, 9000);
    ck_assert_uint_eq(p->peak_bytes, 5000);
    ck_assert_uint_eq(p->peak_image, p->images[1]);
    ck_assert_uint_eq(t.procs[p->parent].pid, 10); /* the log its fork names */
    ck_assert_uint_eq(p->depth, 1);
    p = &t.procs[t.by_peak[2]];
    ck_assert_uint_eq(p->pid, 12);
    ck_assert_uint_eq(p->held_bytes, 0);
    ck_assert_uint_eq(t.procs[p->parent].pid, 10); /* by its ppid */
    /* tree order: the root first, then its children by peak */
    ck_assert_uint_eq(t.procs[t.tree_order[0]].pid, 10);
    ck_assert_uint_eq(t.procs[t.tree_order[1]].pid, 11);
    ck_assert_uint_eq(t.peak_sum, 9000 + 5000 + 3000);
    ck_assert_uint_eq(t.held_bytes, 9000 + 5000 + 0);
    ck_assert_uint_eq(t.allocations, 4);
    ck_assert_uint_eq(t.frees, 1);
    ck_assert_str_eq(mt_ptree_biggest_log(&t), in_dir("app.10.mtr"));
    ck_assert_uint_eq(t.procs[mt_ptree_most_held(&t)].pid, 10);
    mt_ptree_destroy(&t);
}
END_TEST

START_TEST(tree_keeps_the_newest_run_and_skips_what_is_no_log)
{
    write_run("run-old", 10);
    sleep(1); /* the header's start time tells the runs apart */
    write_run("run-new", 20);
    FILE *f = fopen(in_dir("zz.txt"), "w");
    fputs("no log\n", f);
    fclose(f);
    size_t n;
    char **paths = list_dir(&n);
    ck_assert_uint_eq(n, 11);
    mt_ptree_t t;
    ck_assert_int_eq(mt_ptree_build(&t, paths, n, NULL, NULL), 0);
    ck_assert_str_eq(t.run_id, "run-new");
    ck_assert_uint_eq(t.nprocs, 3);
    ck_assert_uint_eq(t.other_runs, 1);
    ck_assert_uint_eq(t.unreadable, 1);
    ck_assert_uint_eq(t.nskipped, 6);
    ck_assert_uint_eq(t.procs[t.by_peak[0]].pid, 20);
    mt_ptree_destroy(&t);
    /* nothing readable at all */
    char *bad[] = {(char *)in_dir("zz.txt")};
    ck_assert_int_eq(mt_ptree_build(&t, bad, 1, NULL, NULL), -ENOENT);
    ck_assert_uint_eq(t.nskipped, 1);
    mt_ptree_destroy(&t);
}
END_TEST

START_TEST(tree_cuts_a_cycle)
{
    /* two forks that name each other as parent: neither may loop */
    for (int i = 0; i < 2; i++) {
        mt_lb_t b;
        lb_begin(&b, 50 + (uint32_t)i, 51 - (uint32_t)i, "x");
        mt_lb_origin(&b, "r", MT_ORIGIN_FORK, 0, 0, in_dir(i ? "a.mtr" : "b.mtr"));
        mt_lb_exit(&b, 1, MT_EXIT_NORMAL, 0);
        mt_lb_write(&b, in_dir(i ? "b.mtr" : "a.mtr"));
        mt_lb_free(&b);
    }
    size_t n;
    char **paths = list_dir(&n);
    mt_ptree_t t;
    ck_assert_int_eq(mt_ptree_build(&t, paths, n, NULL, NULL), 0);
    ck_assert_uint_eq(t.nprocs, 2);
    int roots = 0;
    for (size_t i = 0; i < t.nprocs; i++)
        roots += t.procs[i].parent == MT_PTREE_NONE;
    ck_assert_int_eq(roots, 1);
    ck_assert_uint_eq(t.procs[t.tree_order[0]].depth, 0);
    mt_ptree_destroy(&t);
}
END_TEST

START_TEST(cmdline_quotes_what_a_shell_would_split)
{
    char *argv[] = {"sh", "-c", "exec ./a 'b'", "", "x=1,y@z:/p%", "$HOME"};
    char *s = mt_cmdline_join(argv, 6);
    ck_assert_str_eq(s, "sh -c 'exec ./a '\\''b'\\''' '' x=1,y@z:/p% '$HOME'");
    free(s);
    s = mt_cmdline_join(argv, 0);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

const mt_suite_t mt_suite = {
    .name = "processes",
    .tcase = "core",
    .setup = setup,
    .teardown = teardown,
    .tests = MT_TESTS(origin_records_round_trip, child_starts_with_the_parents_heap,
                      inherited_blocks_are_thread_zero, grandchild_inherits_through_two_logs,
                      parent_unusable_says_why, listed_heap_is_not_imported, tree_of_a_run,
                      tree_keeps_the_newest_run_and_skips_what_is_no_log, tree_cuts_a_cycle,
                      cmdline_quotes_what_a_shell_would_split),
};

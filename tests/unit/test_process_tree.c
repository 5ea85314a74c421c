// SPDX-License-Identifier: MIT
// Unit tests of the process tree built from a directory's logs (process_tree.c): the
// processes of a run linked by their ORIGIN records, the newest run kept, what is no log
// skipped, a cycle cut. Logs are crafted in a temporary directory (run_logs.h).
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "log_builder.h"
#include "process_tree.h"
#include "run_logs.h"

/* A run: the root (pid 10) execs (NEXT_LOG) into an image that forks child 11 (which execs
 * too) and spawns 12. */
static void write_run(const char *run, uint32_t base)
{
    char path[6][160], name[64];
    const char *names[] = {"sh", "app", "app", "tool", "helper", ""};
    uint32_t pids[] = {base, base, base + 1, base + 1, base + 2};
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "%s.%u.mtr", names[i], pids[i]);
        snprintf(path[i], sizeof path[i], "%s", mt_run_dir_path(name));
    }
    uint64_t peaks[] = {100, 9000, 0, 5000, 3000};
    for (int i = 0; i < 5; i++) {
        mt_lb_t b;
        uint32_t ppid = i < 2 ? 1 : base;
        mt_run_log_begin(&b, pids[i], ppid, names[i]);
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
    snprintf(cmd, sizeof cmd, "ls '%s'", mt_run_dir);
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    char line[128];
    *n = 0;
    while (fgets(line, sizeof line, f) && *n < 16) {
        line[strcspn(line, "\n")] = '\0';
        snprintf(store[*n], sizeof store[*n], "%s/%s", mt_run_dir, line);
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
    ck_assert_str_eq(mt_ptree_biggest_log(&t), mt_run_dir_path("app.10.mtr"));
    ck_assert_uint_eq(t.procs[mt_ptree_most_held(&t)].pid, 10);
    mt_ptree_destroy(&t);
}
END_TEST

START_TEST(tree_keeps_the_newest_run_and_skips_what_is_no_log)
{
    write_run("run-old", 10);
    sleep(1); /* the header's start time tells the runs apart */
    write_run("run-new", 20);
    FILE *f = fopen(mt_run_dir_path("zz.txt"), "w");
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
    char *bad[] = {(char *)mt_run_dir_path("zz.txt")};
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
        mt_run_log_begin(&b, 50 + (uint32_t)i, 51 - (uint32_t)i, "x");
        mt_lb_origin(&b, "r", MT_ORIGIN_FORK, 0, 0, mt_run_dir_path(i ? "a.mtr" : "b.mtr"));
        mt_lb_exit(&b, 1, MT_EXIT_NORMAL, 0);
        mt_lb_write(&b, mt_run_dir_path(i ? "b.mtr" : "a.mtr"));
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

MT_SUITE(.name = "process_tree", .tcase = "core", .setup = mt_run_dir_setup,
         .teardown = mt_run_dir_teardown,
         .tests = MT_TESTS(tree_of_a_run, tree_keeps_the_newest_run_and_skips_what_is_no_log,
                           tree_cuts_a_cycle));

// SPDX-License-Identifier: MIT
// A temporary directory of logs for one test, and the start of a process's log in it
// (run_logs.h).
#include "run_logs.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

char mt_run_dir[64];

void mt_run_dir_setup(void)
{
    snprintf(mt_run_dir, sizeof mt_run_dir, "/tmp/mt-unit-procs.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(mt_run_dir));
}

void mt_run_dir_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", mt_run_dir);
    ck_assert_int_eq(system(cmd), 0);
}

const char *mt_run_dir_path(const char *name)
{
    static char paths[8][160];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 160, "%s/%s", mt_run_dir, name);
    return p;
}

void mt_run_log_begin(mt_lb_t *b, uint32_t pid, uint32_t ppid, const char *argv0)
{
    const char *argv[] = {argv0, "arg with space"};
    mt_lb_init(b, pid, 0);
    mt_lb_process(b, pid, ppid, "/bin/x", 2, argv);
    mt_lb_thread(b, pid);
}

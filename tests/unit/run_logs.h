// SPDX-License-Identifier: MIT
// The fixture of the tests on a run of several logs (test_inherit.c, test_process_tree.c): a
// temporary directory made before each test and removed after it, and the start of a log of
// one process in it. Test-only: fails the test on any error.
#ifndef MT_TEST_RUN_LOGS_H
#define MT_TEST_RUN_LOGS_H

#include <stdint.h>

#include "log_builder.h"

extern char mt_run_dir[64];

/* Check fixture: makes mt_run_dir, and removes it with all it holds. */
void mt_run_dir_setup(void);
void mt_run_dir_teardown(void);
/* DIR/name; the last 8 results stay valid. */
const char *mt_run_dir_path(const char *name);
/* A log of pid (parent ppid) running /bin/x as `argv0 'arg with space'`, on thread pid. */
void mt_run_log_begin(mt_lb_t *b, uint32_t pid, uint32_t ppid, const char *argv0);

#endif

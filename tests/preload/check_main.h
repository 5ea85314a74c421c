// SPDX-License-Identifier: MIT
// The recorder's unit tests share one main() (check_main.c): each test_*.c defines its suite.
#ifndef MT_CHECK_MAIN_H
#define MT_CHECK_MAIN_H

#include <check.h>

/* The test file's suite, built by the shared main before it runs. */
Suite *preload_suite(void);

/* A suite called name with one test case (*tc, to add the file's tests to). */
Suite *preload_suite_new(const char *name, TCase **tc);

/* Set by preload_suite when the cases must run in this process (Check forks by default): a
 * test of the process's own threads, memory or unwind tables. */
extern int preload_nofork;

#endif

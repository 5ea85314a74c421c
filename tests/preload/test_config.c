// SPDX-License-Identifier: MIT
// The recorder's environment (preload/base/config.c): every MEMTRACE_* variable it reads, set,
// unset, empty and malformed (a malformed number falls back to the default), the output
// template made absolute and expanded, and which processes are excluded.
#include <check.h>

#include "check_main.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"

static const char *const vars[] = {
    "MEMTRACE_OUTPUT",    "MEMTRACE_MANIFEST",    "MEMTRACE_RUN_ID",
    "MEMTRACE_SAMPLE_MS", "MEMTRACE_FOLLOW_FORK", "MEMTRACE_LEAK_CHECK",
    "MEMTRACE_ROOT_PID",  "MEMTRACE_FAST_UNWIND", "MEMTRACE_EXEC_FROM",
};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

/* A clean environment, then each {name, value} of kv set. */
static void set_env(const char *const (*kv)[2], size_t n)
{
    clear_env();
    for (size_t i = 0; i < n; i++)
        setenv(kv[i][0], kv[i][1], 1);
}

static const char *cwd_plus(const char *rel)
{
    static char buf[PATH_MAX + 64];
    char cwd[PATH_MAX];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(buf, sizeof buf, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", rel);
    return buf;
}

START_TEST(defaults)
{
    clear_env();
    mt_config_load();
    ck_assert_str_eq(mt_config.output_template, cwd_plus("memtrace.%e.%p.mtr"));
    ck_assert_str_eq(mt_config.manifest, "");
    ck_assert_str_eq(mt_config.run_id, "");
    ck_assert_str_eq(mt_config.exec_from, "");
    ck_assert_uint_eq(mt_config.sample_ms, 10);
    ck_assert(mt_config.follow_fork);
    ck_assert(!mt_config.leak_check);
    ck_assert(mt_config.fast_unwind);
    ck_assert_int_eq(mt_config.root_pid, 0);
    ck_assert_str_eq(mt_config.name, "test_config"); /* AT_EXECFN's last part */
    ck_assert(!mt_config_excluded(getpid()));
}
END_TEST

START_TEST(every_variable_set)
{
    static const char *const env[][2] = {
        {"MEMTRACE_OUTPUT", "/var/tmp/x.%p.mtr"},
        {"MEMTRACE_MANIFEST", "runs/manifest"},
        {"MEMTRACE_RUN_ID", "run-42"},
        {"MEMTRACE_SAMPLE_MS", "250"},
        {"MEMTRACE_FOLLOW_FORK", "0"},
        {"MEMTRACE_LEAK_CHECK", "1"},
        {"MEMTRACE_ROOT_PID", "1234"},
        {"MEMTRACE_FAST_UNWIND", "0"},
    };
    set_env(env, sizeof env / sizeof env[0]);
    mt_config_load();
    ck_assert_str_eq(mt_config.output_template, "/var/tmp/x.%p.mtr"); /* absolute: as given */
    ck_assert_str_eq(mt_config.manifest, cwd_plus("runs/manifest"));  /* relative: made absolute */
    ck_assert_str_eq(mt_config.run_id, "run-42");
    ck_assert_uint_eq(mt_config.sample_ms, 250);
    ck_assert(!mt_config.follow_fork);
    ck_assert(mt_config.leak_check);
    ck_assert_int_eq(mt_config.root_pid, 1234);
    ck_assert(!mt_config.fast_unwind);
    /* not following forks: only the root records */
    ck_assert(!mt_config_excluded(1234));
    ck_assert(mt_config_excluded(1235));
}
END_TEST

/* A number with anything else in it, or empty, is the default, not a prefix of it. */
START_TEST(bad_numbers_take_the_default)
{
    static const char *const env[][2] = {
        {"MEMTRACE_SAMPLE_MS", "10ms"}, {"MEMTRACE_FOLLOW_FORK", "no"},
        {"MEMTRACE_LEAK_CHECK", "yes"}, {"MEMTRACE_ROOT_PID", "-5"},
        {"MEMTRACE_FAST_UNWIND", " 0"}, {"MEMTRACE_OUTPUT", ""},
    };
    set_env(env, sizeof env / sizeof env[0]);
    mt_config_load();
    ck_assert_uint_eq(mt_config.sample_ms, 10);
    ck_assert(mt_config.follow_fork);
    ck_assert(!mt_config.leak_check);
    ck_assert_int_eq(mt_config.root_pid, 0);
    ck_assert(mt_config.fast_unwind);
    ck_assert_str_eq(mt_config.output_template, cwd_plus("memtrace.%e.%p.mtr"));
    setenv("MEMTRACE_SAMPLE_MS", "", 1);
    setenv("MEMTRACE_LEAK_CHECK", "2", 1); /* any number but 0 turns it on */
    mt_config_load();
    ck_assert_uint_eq(mt_config.sample_ms, 10);
    ck_assert(mt_config.leak_check);
    setenv("MEMTRACE_SAMPLE_MS", "0", 1);
    mt_config_load();
    ck_assert_uint_eq(mt_config.sample_ms, 0);
}
END_TEST

/* MEMTRACE_EXEC_FROM=PID:PATH counts for this pid only, and is removed from the environment
 * whatever it says. */
START_TEST(exec_from)
{
    clear_env();
    char v[128];
    snprintf(v, sizeof v, "%d:/logs/before.mtr", (int)getpid());
    setenv("MEMTRACE_EXEC_FROM", v, 1);
    mt_config_load();
    ck_assert_str_eq(mt_config.exec_from, "/logs/before.mtr");
    ck_assert_ptr_null(getenv("MEMTRACE_EXEC_FROM"));
    snprintf(v, sizeof v, "%d:/logs/before.mtr", (int)getpid() + 1);
    setenv("MEMTRACE_EXEC_FROM", v, 1);
    mt_config_load();
    ck_assert_str_eq(mt_config.exec_from, "");
    ck_assert_ptr_null(getenv("MEMTRACE_EXEC_FROM"));
    snprintf(v, sizeof v, "%d:relative.mtr", (int)getpid());
    setenv("MEMTRACE_EXEC_FROM", v, 1);
    mt_config_load();
    ck_assert_str_eq(mt_config.exec_from, "");
}
END_TEST

START_TEST(expand)
{
    clear_env();
    mt_config_load();
    char out[64];
    ck_assert_int_eq(mt_config_expand("/l/%e.%p.%%.mtr", 77, out, sizeof out), 0);
    ck_assert_str_eq(out, "/l/test_config.77.%.mtr");
    ck_assert_int_eq(mt_config_expand("/l/%x", 1, out, sizeof out), 0);
    ck_assert_str_eq(out, "/l/test_config"); /* the executable's own name */
    ck_assert_int_eq(mt_config_expand_as("%e-%p", 9, "gcc", out, sizeof out), 0);
    ck_assert_str_eq(out, "gcc-9");
    ck_assert_int_eq(mt_config_expand("%q", 9, out, sizeof out), 0); /* unknown: kept */
    ck_assert_str_eq(out, "%q");
    char small[24];
    ck_assert_int_eq(mt_config_expand("/a/long/name.%p", 123456, small, sizeof small),
                     -ENAMETOOLONG);
}
END_TEST

START_TEST(log_names_in_turn_then_by_pid)
{
    char out[64];
    ck_assert(mt_config_log_name("/l/x.mtr", 4242, 1, out, sizeof out));
    ck_assert_str_eq(out, "/l/x.mtr");
    ck_assert(mt_config_log_name("/l/x.mtr", 4242, 2, out, sizeof out));
    ck_assert_str_eq(out, "/l/x.mtr.2");
    ck_assert(mt_config_log_name("/l/x.mtr", 4242, 16, out, sizeof out));
    ck_assert_str_eq(out, "/l/x.mtr.16");
    ck_assert(mt_config_log_name("/l/x.mtr", 4242, 17, out, sizeof out));
    ck_assert_str_eq(out, "/l/x.mtr.4242.1");
    ck_assert(mt_config_log_name("/l/x.mtr", 4242, MT_LOG_NAME_TRIES - 1, out, sizeof out));
    ck_assert_str_eq(out, "/l/x.mtr.4242.999");
    ck_assert(!mt_config_log_name("/l/x.mtr", 4242, MT_LOG_NAME_TRIES, out, sizeof out));
    ck_assert(!mt_config_log_name("/l/x.mtr", 4242, 0, out, sizeof out));
    char small[12];
    ck_assert(!mt_config_log_name("/l/x.mtr", 4242, 17, small, sizeof small)); /* too long */
}
END_TEST

MT_SUITE(.name = "config",
         .tests = MT_TESTS(defaults, every_variable_set, bad_numbers_take_the_default, exec_from,
                           expand, log_names_in_turn_then_by_pid));

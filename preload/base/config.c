// SPDX-License-Identifier: MIT
// Environment configuration for the recorder. getenv() and readlink() only: no allocation,
// no stdio. The output path is made absolute here so a later chdir() of the target is harmless.
#include "base/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

mt_config_t mt_config;

/* Where the settings come from: the environment, or what mt_config_set_source was given (the
 * settings file of `memtrace attach`, whose target's environment says nothing of memtrace). */
static const char *mt_config_getenv(const char *name)
{
    return getenv(name);
}

static const char *(*mt_config_source)(const char *name) = mt_config_getenv;

void mt_config_set_source(const char *(*get)(const char *name))
{
    mt_config_source = get ? get : mt_config_getenv;
}

static unsigned long mt_config_ulong(const char *name, unsigned long dflt)
{
    const char *v = mt_config_source(name);
    if (!v || !*v)
        return dflt;
    unsigned long r = 0;
    for (; *v >= '0' && *v <= '9'; v++)
        r = r * 10 + (unsigned long)(*v - '0');
    return *v ? dflt : r;
}

static void mt_config_absolute(char *out, size_t cap, const char *path)
{
    mt_sbuf_t s;
    mt_sbuf_init(&s, out, cap);
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd)) {
            mt_sbuf_add(&s, cwd);
            if (s.len && out[s.len - 1] != '/')
                mt_sbuf_add(&s, "/");
        }
    }
    mt_sbuf_add(&s, path);
}

static const char *mt_config_base(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* AT_EXECFN is the path exec was given, as given; the executable's own name when the kernel
 * gave none (or it ends in '/', which exec would have refused anyway). */
static void mt_config_name(mt_config_t *c)
{
    const char *fn = (const char *)getauxval(AT_EXECFN);
    const char *base = fn && *fn ? mt_config_base(fn) : "";
    if (!*base)
        base = c->exe[0] ? mt_config_base(c->exe) : "unknown";
    mt_sbuf_t s;
    mt_sbuf_init(&s, c->name, sizeof c->name);
    mt_sbuf_add(&s, base);
}

/* MEMTRACE_EXEC_FROM=PID:PATH, set by the image that exec'd this one. It is removed from the
 * environment whatever it says: the program and what it starts must not see it. */
static void mt_config_exec_from(mt_config_t *c)
{
    c->exec_from[0] = '\0';
    const char *v = mt_config_source(MT_CONFIG_EXEC_FROM);
    if (!v)
        return;
    unsigned long pid = 0;
    for (; *v >= '0' && *v <= '9'; v++)
        pid = pid * 10 + (unsigned long)(*v - '0');
    if (*v == ':' && v[1] == '/' && pid == (unsigned long)mt_sys_getpid()) {
        mt_sbuf_t s;
        mt_sbuf_init(&s, c->exec_from, sizeof c->exec_from);
        mt_sbuf_add(&s, v + 1);
    }
    unsetenv(MT_CONFIG_EXEC_FROM);
}

void mt_config_load(void)
{
    mt_config_t *c = &mt_config;
    ssize_t n = readlink("/proc/self/exe", c->exe, sizeof c->exe - 1);
    c->exe[n > 0 ? n : 0] = '\0';
    mt_config_name(c);
    mt_config_exec_from(c);
    const char *run = mt_config_source("MEMTRACE_RUN_ID");
    mt_sbuf_t rs;
    mt_sbuf_init(&rs, c->run_id, sizeof c->run_id);
    mt_sbuf_add(&rs, run ? run : "");

    const char *out = mt_config_source("MEMTRACE_OUTPUT");
    mt_config_absolute(c->output_template, sizeof c->output_template,
                       out && *out ? out : "memtrace.%e.%p.mtr");
    const char *man = mt_config_source("MEMTRACE_MANIFEST");
    c->manifest[0] = '\0';
    if (man && *man)
        mt_config_absolute(c->manifest, sizeof c->manifest, man);
    c->sample_ms = (unsigned)mt_config_ulong("MEMTRACE_SAMPLE_MS", 10);
    c->follow_fork = mt_config_ulong("MEMTRACE_FOLLOW_FORK", 1) != 0;
    c->leak_check = mt_config_ulong("MEMTRACE_LEAK_CHECK", 0) != 0;
    c->fast_unwind = mt_config_ulong("MEMTRACE_FAST_UNWIND", 1) != 0;
    c->rings = mt_config_ulong("MEMTRACE_RINGS", 1) != 0;
    c->log_repeat = mt_config_ulong("MEMTRACE_LOG_REPEAT", 1) != 0;
    c->log_zstd = mt_config_ulong("MEMTRACE_LOG_ZSTD", 1) != 0;
    c->root_pid = (int)mt_config_ulong("MEMTRACE_ROOT_PID", 0);
    c->aggregate = mt_config_ulong("MEMTRACE_AGGREGATE", 0) != 0;
    /* A sample per tick would make the log grow with the run, which is what an aggregated
     * log must not do; its reports have no timeline to put them on. */
    if (c->aggregate)
        c->sample_ms = 0;
}

int mt_config_expand(const char *tmpl, int pid, char *out, unsigned cap)
{
    return mt_config_expand_as(tmpl, pid, mt_config.name, out, cap);
}

#define MT_LOG_NAME_IN_TURN 16 /* base, base.2 ... base.16; then by pid */

bool mt_config_log_name(const char *base, int pid, unsigned n, char *out, size_t cap)
{
    if (n == 0 || n >= MT_LOG_NAME_TRIES)
        return false;
    mt_sbuf_t s;
    mt_sbuf_init(&s, out, cap);
    mt_sbuf_add(&s, base);
    if (n > 1 && n <= MT_LOG_NAME_IN_TURN) {
        mt_sbuf_add(&s, ".");
        mt_sbuf_u64(&s, n);
    } else if (n > MT_LOG_NAME_IN_TURN) {
        mt_sbuf_add(&s, ".");
        mt_sbuf_u64(&s, (uint64_t)pid);
        mt_sbuf_add(&s, ".");
        mt_sbuf_u64(&s, n - MT_LOG_NAME_IN_TURN);
    }
    return s.len + 1 < cap;
}

int mt_config_expand_as(const char *tmpl, int pid, const char *name, char *out, unsigned cap)
{
    const char *exe = mt_config.exe[0] ? mt_config_base(mt_config.exe) : "unknown";
    mt_sbuf_t s;
    mt_sbuf_init(&s, out, cap);
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '%' && p[1] == 'p') {
            mt_sbuf_u64(&s, (uint64_t)pid);
            p++;
        } else if (p[0] == '%' && p[1] == 'e') {
            mt_sbuf_add(&s, name[0] ? name : "unknown");
            p++;
        } else if (p[0] == '%' && p[1] == 'x') {
            mt_sbuf_add(&s, exe);
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            mt_sbuf_add(&s, "%");
            p++;
        } else {
            mt_sbuf_addn(&s, p, 1);
        }
    }
    return s.len + 16 >= cap ? -ENAMETOOLONG : 0;
}

bool mt_config_excluded(int pid)
{
    return !mt_config.follow_fork && mt_config.root_pid != 0 && mt_config.root_pid != pid;
}

// SPDX-License-Identifier: MIT
// Environment configuration for the recorder. getenv() and readlink() only: no allocation,
// no stdio. The output path is made absolute here so a later chdir() of the target is harmless.
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

mt_config_t mt_config;

static unsigned long mt_config_ulong(const char *name, unsigned long dflt)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    unsigned long r = 0;
    for (; *v >= '0' && *v <= '9'; v++)
        r = r * 10 + (unsigned long)(*v - '0');
    return *v ? dflt : r;
}

static void mt_config_absolute(char *out, size_t cap, const char *path)
{
    mt_str_t s;
    mt_str_init(&s, out, cap);
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd)) {
            mt_str_add(&s, cwd);
            if (s.len && out[s.len - 1] != '/')
                mt_str_add(&s, "/");
        }
    }
    mt_str_add(&s, path);
}

void mt_config_load(void)
{
    mt_config_t *c = &mt_config;
    ssize_t n = readlink("/proc/self/exe", c->exe, sizeof c->exe - 1);
    c->exe[n > 0 ? n : 0] = '\0';

    const char *out = getenv("MEMTRACE_OUTPUT");
    mt_config_absolute(c->output_template, sizeof c->output_template,
                       out && *out ? out : "memtrace.%e.%p.mtr");
    const char *man = getenv("MEMTRACE_MANIFEST");
    c->manifest[0] = '\0';
    if (man && *man)
        mt_config_absolute(c->manifest, sizeof c->manifest, man);
    c->sample_ms = (unsigned)mt_config_ulong("MEMTRACE_SAMPLE_MS", 10);
    c->follow_fork = mt_config_ulong("MEMTRACE_FOLLOW_FORK", 1) != 0;
    c->leak_check = mt_config_ulong("MEMTRACE_LEAK_CHECK", 0) != 0;
    c->fast_unwind = mt_config_ulong("MEMTRACE_FAST_UNWIND", 1) != 0;
    c->root_pid = (int)mt_config_ulong("MEMTRACE_ROOT_PID", 0);
}

int mt_config_expand(const char *tmpl, int pid, char *out, unsigned cap)
{
    const char *base = strrchr(mt_config.exe, '/');
    base = base ? base + 1 : (mt_config.exe[0] ? mt_config.exe : "unknown");
    mt_str_t s;
    mt_str_init(&s, out, cap);
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '%' && p[1] == 'p') {
            mt_str_u64(&s, (uint64_t)pid);
            p++;
        } else if (p[0] == '%' && p[1] == 'e') {
            mt_str_add(&s, base);
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            mt_str_add(&s, "%");
            p++;
        } else {
            mt_str_addn(&s, p, 1);
        }
    }
    return s.len + 16 >= cap ? -ENAMETOOLONG : 0;
}

bool mt_config_excluded(int pid)
{
    return !mt_config.follow_fork && mt_config.root_pid != 0 && mt_config.root_pid != pid;
}

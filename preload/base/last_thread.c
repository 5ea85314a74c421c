// SPDX-License-Identifier: MIT
// Notices that every thread of the program is gone while memtrace's writer thread lives on
// (see last_thread.h). Raw syscalls and a stack buffer only: no malloc, no stdio.
#include "base/last_thread.h"

#include <fcntl.h>
#include <string.h>

#include "base/mt_libc.h"
#include "base/proc_dir.h"

static int mt_lt_main_left;
static unsigned mt_lt_calls;

void mt_last_thread_main_left(void)
{
    if (mt_sys_gettid() == mt_sys_getpid())
        __atomic_store_n(&mt_lt_main_left, 1, __ATOMIC_RELAXED);
}

void mt_last_thread_child(void)
{
    __atomic_store_n(&mt_lt_main_left, 0, __ATOMIC_RELAXED);
}

/* The value of a "Key:\t..." line of /proc/self/status, or NULL. */
static const char *mt_lt_value(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    if (!p)
        return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static long mt_lt_number(const char *p)
{
    if (!p || *p < '0' || *p > '9')
        return -1;
    long n = 0;
    while (*p >= '0' && *p <= '9')
        n = n * 10 + (*p++ - '0');
    return n;
}

bool mt_last_thread_only_writer_left(void)
{
    if (!__atomic_load_n(&mt_lt_main_left, __ATOMIC_RELAXED) && ++mt_lt_calls % 50 != 0)
        return false;
    char buf[4096];
    long fd = mt_proc_open("/proc/self/status", O_RDONLY); /* also after a chroot */
    if (fd < 0)
        return false;
    long n = mt_sys_read((int)fd, buf, sizeof buf - 1);
    mt_sys_close((int)fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    /* The group leader stays a zombie, counted in Threads, until the whole group is gone:
     * leader dead and two threads means the writer is alone. */
    const char *state = mt_lt_value(buf, "State:");
    return state && *state == 'Z' && mt_lt_number(mt_lt_value(buf, "Threads:")) == 2;
}

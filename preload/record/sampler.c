// SPDX-License-Identifier: MIT
// RSS and mallinfo2 sampling for the timeline. /proc/self/statm is read with raw syscalls into
// a stack buffer and reopened every time (a cached fd would point at the parent after fork and
// could be closed by a target that closes all descriptors). Never allocates.
#include "record/sampler.h"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include "base/mt_libc.h"

static uint64_t mt_sampler_rss(void)
{
    char buf[128];
    long fd = mt_sys_open("/proc/self/statm", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    long n = mt_sys_read((int)fd, buf, sizeof buf - 1);
    mt_sys_close((int)fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = buf;
    while (*p && *p != ' ') /* skip "size", the second field is "resident" */
        p++;
    while (*p == ' ')
        p++;
    uint64_t pages = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        pages = pages * 10 + (uint64_t)(*p - '0');
    return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

void mt_sampler_read(mt_sample_t *s)
{
    s->rss = mt_sampler_rss();
    struct mallinfo2 mi = mallinfo2();
    s->arena = mi.arena;
    s->ordblks = mi.ordblks;
    s->hblks = mi.hblks;
    s->hblkhd = mi.hblkhd;
    s->uordblks = mi.uordblks;
    s->fordblks = mi.fordblks;
    s->keepcost = mi.keepcost;
}

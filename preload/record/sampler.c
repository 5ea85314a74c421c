// SPDX-License-Identifier: MIT
// RSS and mallinfo2 sampling for the timeline. /proc/self/statm is read with raw syscalls into
// a stack buffer and reopened every time (a cached fd would point at the parent after fork and
// could be closed by a target that closes all descriptors). Never allocates.
#include "record/sampler.h"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include "base/mt_libc.h"
#include "base/proc_dir.h"
#include "io/log_writer.h"

static uint64_t mt_sampler_rss(void)
{
    /* Inside a seccomp sandbox, an open may kill the process: no RSS then (0: not sampled). */
    if (MT_UNLIKELY(mt_sys_confined_here(mt_writer_self)))
        return 0;
    char buf[128];
    /* thread-self: once main has left by pthread_exit, /proc/self is the group leader, a
     * zombie without memory, whose statm says 0; the sampling thread shares the memory. */
    long fd = mt_proc_open("/proc/thread-self/statm", O_RDONLY); /* also after a chroot */
    if (fd < 0)
        fd = mt_proc_open("/proc/self/statm", O_RDONLY); /* Linux before 3.17 */
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

/*
 * mallinfo2 walks every free chunk of every arena, each with its lock held, so a program's
 * malloc waits meanwhile: on a fragmented heap a read takes about a millisecond (a C++
 * compile: 7 to 9% of its CPU at the default 10 ms ticks). At most 1/MT_SAMPLER_BUDGET of the
 * time goes to it; a program whose read takes microseconds is read at every tick as before.
 */
#define MT_SAMPLER_BUDGET 50

static struct {
    uint64_t next_us; /* the allocator's view is read again from then */
    mt_sample_t last; /* its last values */
    int have;
} mt_sampler_tick;

void mt_sampler_read_tick(mt_sample_t *s)
{
    uint64_t start = mt_now_us();
    if (mt_sampler_tick.have && start < mt_sampler_tick.next_us) {
        *s = mt_sampler_tick.last;
        s->rss = mt_sampler_rss();
        return;
    }
    mt_sampler_read(s);
    uint64_t cost = mt_now_us() - start;
    mt_sampler_tick.last = *s;
    mt_sampler_tick.have = 1;
    mt_sampler_tick.next_us = start + cost * MT_SAMPLER_BUDGET;
}

// SPDX-License-Identifier: MIT
// See proc_dir.h. The kept descriptor is close-on-exec and moved to 100 or above where the
// limit allows, out of the way of the program's own low numbers; it costs the program one
// descriptor only when it calls chroot.
#include "base/proc_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "base/mt_libc.h"

#define MT_PROC_PREFIX "/proc/"

static mt_kept_fd_t mt_proc = {.fd = -1};
static int mt_proc_taking; /* a thread is opening it: the first root's only */

void mt_proc_keep(void)
{
    /* the first root's /proc: a second chroot's may have none */
    if (__atomic_exchange_n(&mt_proc_taking, 1, __ATOMIC_ACQ_REL))
        return;
    mt_kept_fd_t k;
    if (!mt_kept_fd_open(&k, "/proc", O_PATH | O_DIRECTORY)) {
        __atomic_store_n(&mt_proc_taking, 0, __ATOMIC_RELEASE); /* the next chroot tries */
        return;
    }
    mt_proc.dev = k.dev;
    mt_proc.ino = k.ino;
    __atomic_store_n(&mt_proc.fd, k.fd, __ATOMIC_RELEASE); /* last: readers check it */
}

long mt_proc_open(const char *path, int flags)
{
    int dir = mt_kept_fd_get(&mt_proc);
    if (dir < 0 || strncmp(path, MT_PROC_PREFIX, sizeof MT_PROC_PREFIX - 1) != 0)
        return mt_sys_open(path, flags | O_CLOEXEC, 0);
    int saved = errno;
    long fd =
        mt_syscall(SYS_openat, dir, (long)(path + sizeof MT_PROC_PREFIX - 1), flags | O_CLOEXEC, 0);
    if (fd < 0)
        fd = -(long)errno;
    errno = saved;
    return fd;
}

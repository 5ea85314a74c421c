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

static int mt_proc_fd = -1;
static dev_t mt_proc_dev;
static ino_t mt_proc_ino;

static void mt_proc_take(void)
{
    long fd = mt_sys_open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return;
    long hi = mt_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 100);
    if (hi >= 0) {
        mt_sys_close((int)fd);
        fd = hi;
    }
    struct stat st;
    if (mt_syscall(SYS_fstat, fd, (long)&st) < 0) {
        mt_sys_close((int)fd);
        return;
    }
    mt_proc_dev = st.st_dev;
    mt_proc_ino = st.st_ino;
    int none = -1;
    if (!__atomic_compare_exchange_n(&mt_proc_fd, &none, (int)fd, false, __ATOMIC_RELEASE,
                                     __ATOMIC_RELAXED))
        mt_sys_close((int)fd); /* another thread's chroot kept one first */
}

void mt_proc_keep(void)
{
    if (__atomic_load_n(&mt_proc_fd, __ATOMIC_ACQUIRE) >= 0)
        return; /* the first root's /proc: a second chroot's may have none */
    int saved = errno;
    mt_proc_take();
    errno = saved;
}

/* The kept descriptor when it is still our /proc, else -1. */
static int mt_proc_kept(void)
{
    int saved = errno;
    int fd = __atomic_load_n(&mt_proc_fd, __ATOMIC_ACQUIRE);
    if (fd < 0)
        return -1;
    struct stat st;
    bool ours = mt_syscall(SYS_fstat, fd, (long)&st) == 0 && st.st_dev == mt_proc_dev &&
                st.st_ino == mt_proc_ino;
    errno = saved;
    return ours ? fd : -1;
}

long mt_proc_open(const char *path, int flags)
{
    int dir = mt_proc_kept();
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

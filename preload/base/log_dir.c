// SPDX-License-Identifier: MIT
// See log_dir.h. Each kept descriptor is close-on-exec and at 100 or above where the limit
// allows: it costs the program one descriptor each, and only once it calls chroot or changes
// its user. A manifest kept open also lets a child that runs as another user append to it.
#include "base/log_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/config.h"
#include "base/mt_libc.h"

typedef struct mt_kept {
    mt_kept_fd_t d;      /* .fd -1: nothing kept */
    char path[PATH_MAX]; /* the directory, without its last '/'; or the file */
} mt_kept_t;

static mt_kept_t mt_kept_dir = {.d.fd = -1}, mt_kept_manifest = {.d.fd = -1};
static bool mt_logdir_done, mt_logdir_user;

/* Opens path into k (O_PATH for a directory), moved to 100 or above. */
static void mt_logdir_take(mt_kept_t *k, const char *path, size_t len, int flags)
{
    if (len == 0 || len >= sizeof k->path)
        return;
    memcpy(k->path, path, len);
    k->path[len] = '\0';
    (void)mt_kept_fd_open(&k->d, k->path, flags);
}

void mt_logdir_keep(const char *log, bool user)
{
    if (user)
        __atomic_store_n(&mt_logdir_user, true, __ATOMIC_RELAXED);
    if (__atomic_exchange_n(&mt_logdir_done, true, __ATOMIC_ACQ_REL))
        return; /* the first root's and user's: a later chroot's view may have neither */
    int saved = errno;
    const char *slash = strrchr(log, '/');
    if (slash && slash != log) /* "/x.mtr": the root itself, which a chroot moves */
        mt_logdir_take(&mt_kept_dir, log, (size_t)(slash - log), O_PATH | O_DIRECTORY);
    if (mt_config.manifest[0])
        mt_logdir_take(&mt_kept_manifest, mt_config.manifest, strlen(mt_config.manifest),
                       O_WRONLY | O_APPEND);
    errno = saved;
}

bool mt_logdir_kept(void)
{
    return __atomic_load_n(&mt_logdir_done, __ATOMIC_ACQUIRE);
}

bool mt_logdir_user_changed(void)
{
    return __atomic_load_n(&mt_logdir_user, __ATOMIC_RELAXED);
}

/* The name of path inside the kept directory, or NULL when path is not directly in it. */
static const char *mt_logdir_name(const char *path)
{
    const mt_kept_t *k = &mt_kept_dir;
    if (k->d.fd < 0)
        return NULL;
    size_t n = strlen(k->path);
    if (strncmp(path, k->path, n) != 0 || path[n] != '/' || strchr(path + n + 1, '/'))
        return NULL;
    return path + n + 1;
}

long mt_logdir_open(const char *path, int flags, int mode)
{
    int saved = errno;
    long fd = -1;
    int dir;
    const char *name;
    if (mt_kept_manifest.d.fd >= 0 && strcmp(path, mt_kept_manifest.path) == 0 &&
        (dir = mt_kept_fd_get(&mt_kept_manifest.d)) >= 0) {
        fd = mt_syscall(SYS_fcntl, dir, F_DUPFD_CLOEXEC, 0);
    } else if ((name = mt_logdir_name(path)) && (dir = mt_kept_fd_get(&mt_kept_dir.d)) >= 0) {
        fd = mt_syscall(SYS_openat, dir, (long)name, flags, mode);
    } else {
        errno = saved;
        return mt_sys_open(path, flags, mode);
    }
    if (fd < 0)
        fd = -(long)errno;
    errno = saved;
    return fd;
}

bool mt_logdir_exists(const char *path)
{
    int saved = errno;
    int dir;
    const char *name = mt_logdir_name(path);
    bool there;
    if (name && (dir = mt_kept_fd_get(&mt_kept_dir.d)) >= 0)
        there = mt_syscall(SYS_faccessat, dir, (long)name, F_OK, 0) == 0;
    else
        there = mt_syscall(SYS_faccessat, AT_FDCWD, (long)path, F_OK, 0) == 0;
    errno = saved;
    return there;
}

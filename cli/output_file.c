// SPDX-License-Identifier: MIT
// The -o file of the report commands (see output_file.h). Writes go through a stdio cookie so
// that the first write error is kept as it happened: stdio's own error flag does not say which.
// Never removes anything but a regular file this command itself opened and truncated.
#include "output_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_format.h"

int mt_out_is_log(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return 0;
    struct stat st;
    char magic[MT_LOG_MAGIC_LEN];
    int yes = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
              read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
              memcmp(magic, MT_LOG_MAGIC, MT_LOG_MAGIC_LEN) == 0;
    close(fd);
    return yes;
}

static ssize_t mt_out_write(void *cookie, const char *buf, size_t len)
{
    mt_out_t *o = cookie;
    size_t done = 0;
    while (done < len && !o->err) {
        ssize_t n = write(o->fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            o->err = n < 0 ? errno : EIO;
            break;
        }
        done += (size_t)n;
    }
    /* fopencookie: a short count is an error, and never a negative one */
    return (ssize_t)done;
}

static int mt_out_cookie_close(void *cookie)
{
    mt_out_t *o = cookie;
    if (close(o->fd) != 0 && !o->err)
        o->err = errno; /* NFS and friends report a failed write-back here */
    o->fd = -1;
    return o->err ? -1 : 0;
}

FILE *mt_out_open(mt_out_t *o, const char *cmd, const char *path)
{
    *o = (mt_out_t){.cmd = cmd, .path = path, .fd = -1};
    if (strcmp(path, "-") == 0)
        return o->f = stdout;
    if (mt_out_is_log(path)) {
        fprintf(stderr,
                "memtrace: %s: %s is a memtrace log: not writing over it (give another -o)\n", cmd,
                path);
        return NULL;
    }
    o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
    if (o->fd < 0) {
        fprintf(stderr, "memtrace: %s: cannot write '%s': %s\n", cmd, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    o->regular = fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode);
    cookie_io_functions_t io = {.write = mt_out_write, .close = mt_out_cookie_close};
    o->f = fopencookie(o, "w", io);
    if (!o->f) {
        fprintf(stderr, "memtrace: %s: %s: %s\n", cmd, path, strerror(errno));
        close(o->fd);
        if (o->regular)
            unlink(path);
        return NULL;
    }
    return o->f;
}

int mt_out_close(mt_out_t *o, int render_rc)
{
    if (o->f == stdout) {
        errno = 0;
        if (fflush(stdout) == 0 && render_rc >= 0)
            return 0;
        int err = render_rc == -ENOMEM ? ENOMEM : errno ? errno : EIO;
        fprintf(stderr, "memtrace: write error: %s\n", strerror(err));
        return 1;
    }
    int closed = fclose(o->f);
    o->f = NULL;
    if (closed == 0 && !o->err && render_rc >= 0)
        return 0;
    /* renderers return -1 or -errno: only ENOMEM is theirs, the rest is the writes' */
    int err = o->err ? o->err : render_rc == -ENOMEM ? ENOMEM : EIO;
    if (o->regular && unlink(o->path) == 0)
        fprintf(stderr, "memtrace: %s: %s: %s (the file is removed: it would be cut short)\n",
                o->cmd, o->path, strerror(err));
    else
        fprintf(stderr, "memtrace: %s: %s: %s\n", o->cmd, o->path, strerror(err));
    return 1;
}

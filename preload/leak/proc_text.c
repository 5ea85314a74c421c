// SPDX-License-Identifier: MIT
// /proc text for the leak scan and its vtable test (see proc_text.h): no stdio, no malloc.
#include "leak/proc_text.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

uintptr_t mt_proc_hex(const char **p)
{
    uintptr_t v = 0;
    for (;; (*p)++) {
        char ch = **p;
        if (ch >= '0' && ch <= '9')
            v = v * 16 + (uintptr_t)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            v = v * 16 + (uintptr_t)(ch - 'a' + 10);
        else
            return v;
    }
}

int mt_proc_lines(const char *path, char *buf, size_t cap, void (*fn)(const char *line, void *ctx),
                  void *ctx)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t have = 0;
    for (;;) {
        long n = syscall(SYS_read, fd, buf + have, cap - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = 0;
        char *line = buf;
        for (char *nl; (nl = strchr(line, '\n'));) {
            *nl = 0;
            fn(line, ctx);
            line = nl + 1;
        }
        have = (size_t)(buf + have - line);
        memmove(buf, line, have);
        if (have == cap - 1)
            have = 0; /* an absurdly long line: drop it */
    }
    syscall(SYS_close, fd);
    return 0;
}

// SPDX-License-Identifier: MIT
// Hostile: a single-threaded program enters a user namespace, as unshare -U, bubblewrap and
// rootless containers do. The kernel refuses CLONE_NEWUSER, and setns into a user namespace,
// to a process with more than one thread (EINVAL), so memtrace's writer thread must not be
// there at that moment. "unshare": unshare(CLONE_NEWUSER), then allocations in it;
// "setns": a forked child enters a new user namespace, and the parent joins it by setns(fd, 0)
// on /proc/CHILD/ns/user. Where user namespaces are not allowed, the plain run says so too.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child: a user namespace of its own, kept until the parent has joined it. */
static int join_childs_namespace(void)
{
    int ready[2], done[2];
    char c = 0;
    if (pipe(ready) || pipe(done))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *mine = malloc(200); /* the child allocates in its namespace too */
        c = unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        free(mine);
        if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) < 0)
            _exit(1);
        _exit(c == 'y' ? 0 : 2);
    }
    int r = -1;
    if (read(ready[0], &c, 1) == 1 && c == 'y') {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        r = fd >= 0 ? setns(fd, 0) : -1;
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
    } else {
        errno = EPERM; /* the child could not make one: as unshare itself would say */
    }
    int e = errno, status;
    if (write(done[1], "x", 1) != 1 || waitpid(pid, &status, 0) != pid)
        return -1;
    errno = e;
    return r;
}

int main(int argc, char **argv)
{
    int use_setns = argc > 1 && strcmp(argv[1], "setns") == 0;
    int mallocs = 0, frees = 0, leaked = 0;
    char *before = malloc(1000);
    mallocs++;
    int r = use_setns ? join_childs_namespace() : unshare(CLONE_NEWUSER);
    int e = r ? errno : 0;
    /* the program goes on allocating in the namespace, and memtrace goes on recording */
    void *keep[100];
    for (int i = 0; i < 100; i++) {
        keep[i] = malloc(64 + i);
        mallocs++;
    }
    for (int i = 0; i < 100; i++) {
        if (i % 2 == 0) {
            free(keep[i]);
            frees++;
        } else {
            leaked += 64 + i;
        }
    }
    free(before);
    frees++;
    printf("userns: %s=%d errno=%s\n", use_setns ? "setns" : "unshare", r, e ? strerror(e) : "0");
    printf("hostile: mallocs=%d frees=%d leaked=%d\n", mallocs, frees, leaked);
    return r ? 3 : 0;
}

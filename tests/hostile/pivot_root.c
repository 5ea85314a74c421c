// SPDX-License-Identifier: MIT
// A program that moves its root as container runtimes do: a mount namespace of its own, the
// new root (argv[1]) bind-mounted, pivot_root (a system call without a libc wrapper) and the
// old root detached; then it forks a worker that allocates. Needs root (CAP_SYS_ADMIN);
// prints "skip" otherwise.
//
//     pivot_root ROOT
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "counted_churn.h"

static counts_t counts;

static int move_root(const char *root)
{
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount(root, root, NULL, MS_BIND, NULL) != 0 || chdir(root) != 0 ||
        (mkdir("old", 0755) != 0 && errno != EEXIST) || syscall(SYS_pivot_root, ".", "old") != 0)
        return -1;
    if (umount2("/old", MNT_DETACH) != 0 || chdir("/") != 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    counted_churn(&counts, 3000, 32, 100);
    if (move_root(argv[1]) != 0) {
        printf("skip: %s\n", strerror(errno));
        return 0;
    }
    counted_churn(&counts, 3000, 40, 100);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        counts_t mine = {0, 0, 0};
        counted_churn(&mine, 2001, 24, 50);
        printf("hostile: worker 1 mallocs=%lu frees=%lu leaked=%lu\n", mine.mallocs, mine.frees,
               mine.leaked);
        fflush(stdout);
        _exit(0);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
        return 3;
    printf("hostile: mallocs=%lu frees=%lu leaked=%lu\n", counts.mallocs, counts.frees,
           counts.leaked);
    return 0;
}

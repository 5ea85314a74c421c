// SPDX-License-Identifier: MIT
// A daemon that confines itself with chroot (as sshd, ntpd and bind do) and then forks: two
// workers allocate, and a third child runs a program found inside the new root. The root
// (argv[1]) holds /true and the libraries it needs; the log's directory is not in it. Run as
// root (chroot needs CAP_SYS_CHROOT); prints "skip" otherwise.
//
//     chroot_children ROOT
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "counted_churn.h"

static counts_t counts;

static int worker(int n)
{
    counts_t mine = {0, 0, 0};
    counted_churn(&mine, 2000 + n, 24, 50);
    printf("hostile: worker %d mallocs=%lu frees=%lu leaked=%lu\n", n, mine.mallocs, mine.frees,
           mine.leaked);
    fflush(stdout);
    return 0;
}

/* Runs child(n) in a forked child; its exit status, or -1. */
static int in_child(int (*child)(int), int n)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child(n));
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int run_true(int n)
{
    (void)n;
    execl("/true", "true", (char *)NULL);
    printf("exec /true: %s\n", strerror(errno));
    return 5;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    counted_churn(&counts, 3000, 32, 100);
    if (chroot(argv[1]) != 0 || chdir("/") != 0) {
        printf("skip: chroot: %s\n", strerror(errno));
        return 0;
    }
    counted_churn(&counts, 3000, 40, 100);
    for (int n = 1; n <= 2; n++)
        if (in_child(worker, n) != 0)
            return 3;
    printf("true exits %d\n", in_child(run_true, 0));
    counted_churn(&counts, 3000, 48, 100);
    printf("hostile: mallocs=%lu frees=%lu leaked=%lu\n", counts.mallocs, counts.frees,
           counts.leaked);
    return 0;
}

// SPDX-License-Identifier: MIT
// A daemon started as root that gives root up for good, as one with a "-u nobody" option does:
// it closes every descriptor (memtrace's log's too), changes to nobody (setgroups, setresgid,
// setresuid), then forks two workers that allocate. "before": the descriptors are closed
// before the change (the usual daemon order), "after": after it. Needs root (exit 77
// otherwise).
//
//     priv_drop before|after
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "counted_churn.h"

#define NOBODY 65534

static counts_t counts;

/* Every descriptor above stderr closed, as a daemon does (memtrace's log's too), and a file
 * opened: the log must be opened again, not written into that file. Nothing is dup2'd onto
 * the numbers: memtrace's reopening takes a descriptor for a moment, and a dup2 onto that
 * number would fail with EBUSY (see README, "closes all file descriptors"). */
static int take_descriptors(void)
{
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    if (open("/dev/null", O_RDONLY) < 0) {
        printf("open /dev/null: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static int worker(int n)
{
    counts_t mine = {0, 0, 0};
    counted_churn(&mine, 2000 + n, 24, 50);
    printf("hostile: worker %d mallocs=%lu frees=%lu leaked=%lu\n", n, mine.mallocs, mine.frees,
           mine.leaked);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (geteuid() != 0) {
        printf("skip: not root\n");
        return 77;
    }
    int before = argc > 1 && strcmp(argv[1], "before") == 0;
    counted_churn(&counts, 3000, 32, 100);
    if (before && take_descriptors() != 0)
        return 2;
    if (setgroups(0, NULL) != 0 || setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
        setresuid(NOBODY, NOBODY, NOBODY) != 0)
        return 3;
    counted_churn(&counts, 3000, 40, 100);
    if (!before && take_descriptors() != 0)
        return 2;
    counted_churn(&counts, 3000, 48, 100);
    for (int n = 1; n <= 2; n++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(worker(n));
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
            return 4;
    }
    printf("hostile: mallocs=%lu frees=%lu leaked=%lu\n", counts.mallocs, counts.frees,
           counts.leaked);
    return 0;
}

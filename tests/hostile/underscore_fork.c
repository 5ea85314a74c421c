// SPDX-License-Identifier: MIT
// glibc's _Fork (2.34 on): a fork that runs no atfork handlers, as an async-signal-safe fork
// in a signal handler or a spawn helper makes it. The child allocates, frees and exits 3;
// each process prints its own counts (the parent's last). Each must have a log of its own,
// whole, with exactly its counts: the child must not write into its parent's log.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "counted_churn.h"

pid_t _Fork(void);

static counts_t counts;

static void churn(int n, size_t size)
{
    counted_churn(&counts, n, size, 4);
}

int main(void)
{
    churn(12, 100);
    fflush(stdout);
    pid_t pid = _Fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        counts = (counts_t){0}; /* the child counts its own */
        churn(9, 200);
        printf("child: mallocs=%lu frees=%lu leaked=%lu\n", counts.mallocs, counts.frees,
               counts.leaked);
        exit(3);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 3)
        return 4;
    churn(5, 300);
    printf("hostile: parent mallocs=%lu frees=%lu leaked=%lu\n", counts.mallocs, counts.frees,
           counts.leaked);
    return 0;
}

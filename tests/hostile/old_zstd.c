// SPDX-License-Identifier: MIT
// A program that ships its own libzstd.so.1, older than 1.4.0, on LD_LIBRARY_PATH (as bundled
// applications do): memtrace's library uses whichever libzstd.so.1 the process has. Enough
// allocations for many log chunks, and a forked child, all counted.
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "counted_churn.h"

int main(void)
{
    counts_t c = {0, 0, 0};
    counted_churn(&c, 200000, 24, 1000);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        counts_t k = {0, 0, 0};
        counted_churn(&k, 50000, 40, 1000);
        _exit(3);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return 1;
    counted_churn(&c, 100000, 32, 1000);
    printf("child exit %d\n", WEXITSTATUS(status));
    printf("hostile: mallocs=%lu frees=%lu leaked=%lu\n", c.mallocs, c.frees, c.leaked);
    return 0;
}

// SPDX-License-Identifier: MIT
// A child made by a raw clone syscall (no fork handlers run) that allocates far more than the
// recorder's buffers hold: it must neither hang nor lose its events (issue 19, item 4).
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    fflush(stdout);
    long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        for (long i = 0; i < n; i++)
            free(malloc(32));
        void *keep = malloc(4242);
        (void)keep;
        printf("hostile: child mallocs=%ld frees=%ld leaked=4242\n", n + 1, n);
        fflush(stdout);
        _exit(0);
    }
    int status;
    if (pid < 0 || waitpid((pid_t)pid, &status, 0) != pid)
        return 2;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

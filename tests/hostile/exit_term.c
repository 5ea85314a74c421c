// SPDX-License-Identifier: MIT
// A process that has called _exit(7) ends with status 7, whatever signal comes after:
// a SIGTERM timed to arrive while memtrace writes the end of the log (a pool's terminate()
// racing a worker's own exit) must not turn the exit into a death by SIGTERM.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void *volatile sink;

static void child(void)
{
    for (int i = 0; i < 200000; i++) { /* events for the end of the log to write */
        void *p = malloc(16 + i % 512);
        sink = p;
        if (i % 2)
            free(p);
    }
    timer_t t;
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGTERM};
    struct itimerspec when = {.it_value = {0, 2 * 1000 * 1000}}; /* 2 ms from now */
    if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0 || timer_settime(t, 0, &when, NULL) != 0)
        _exit(2);
    _exit(7);
}

int main(void)
{
    int exited7 = 0, n = 5;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0)
            child();
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid)
            return 2;
        exited7 += WIFEXITED(st) && WEXITSTATUS(st) == 7;
    }
    return exited7 == n ? 0 : 1;
}

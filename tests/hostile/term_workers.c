// SPDX-License-Identifier: MIT
// Workers killed by SIGTERM while they allocate, as multiprocessing.Pool ends its workers: most
// signals land inside memtrace's hooks, perhaps with the recorder lock held. Each worker's log
// must end with how it ended (issue 17, item 5; issue 19).
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 8

void *volatile sink;

static void work(void)
{
    for (;;) {
        void *p = malloc(48);
        sink = p;
        free(p);
    }
}

int main(void)
{
    pid_t pid[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        pid[i] = fork();
        if (pid[i] < 0)
            return 2;
        if (pid[i] == 0)
            work();
    }
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    int terminated = 0;
    for (int i = 0; i < WORKERS; i++) {
        int status;
        kill(pid[i], SIGTERM);
        if (waitpid(pid[i], &status, 0) == pid[i] && WIFSIGNALED(status) &&
            WTERMSIG(status) == SIGTERM)
            terminated++;
    }
    printf("workers terminated by SIGTERM: %d of %d\n", terminated, WORKERS);
    return terminated == WORKERS ? 0 : 1;
}

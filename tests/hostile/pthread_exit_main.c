// SPDX-License-Identifier: MIT
// main ends with pthread_exit while a worker still runs: the process ends when the worker
// does, with status 0 (issue 19, item 1). memtrace's writer thread must not keep it alive.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *worker(void *arg)
{
    (void)arg;
    usleep(50000);
    void *p = malloc(4321);
    printf("worker: allocated\n");
    fflush(stdout);
    free(p);
    return NULL;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 1;
    printf("main: pthread_exit\n");
    fflush(stdout);
    pthread_exit(NULL);
}

// SPDX-License-Identifier: MIT
// A joined thread's stack is no root: the block only its stack held is lost; the block it
// handed back through pthread_join is reachable.
#include <pthread.h>
#include <stdlib.h>

static void *result;

static void *worker(void *arg)
{
    (void)arg;
    void *volatile mine = malloc(222);
    (void)mine;
    return malloc(333);
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 1;
    pthread_join(t, &result);
    return 0;
}

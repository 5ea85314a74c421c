// SPDX-License-Identifier: MIT
// Threads still running at exit: what their stacks point to is reachable; a block a running
// thread dropped is lost.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static volatile int started;

static void *sleeper(void *arg)
{
    void *volatile held = malloc((size_t)(uintptr_t)arg);
    void *volatile dropped = malloc(11);
    dropped = NULL;
    __sync_fetch_and_add(&started, 1);
    for (;;)
        pause();
    (void)held;
    return NULL;
}

int main(void)
{
    pthread_t t;
    for (uintptr_t i = 1; i <= 3; i++)
        if (pthread_create(&t, NULL, sleeper, (void *)(i * 1000)) != 0)
            return 1;
    while (started < 3)
        usleep(1000);
    return 0;
}

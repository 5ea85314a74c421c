// SPDX-License-Identifier: MIT
// exit() called from a thread while the main thread waits in pthread_join: the main thread's
// stack is still a root, the exiting thread's too.
#include <pthread.h>
#include <stdlib.h>

static void *worker(void *arg)
{
    (void)arg;
    void *volatile held = malloc(1200);
    void *volatile lost = malloc(1300);
    lost = NULL;
    exit(0);
    (void)held;
    return NULL;
}

int main(void)
{
    void *volatile in_main = malloc(1100);
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 1;
    pthread_join(t, NULL);
    (void)in_main;
    return 0;
}

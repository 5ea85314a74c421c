// SPDX-License-Identifier: MIT
// Issue 19.11: one thread created and joined; its stack and DTV stay in glibc's stack cache.
// Valgrind: nothing left.
#include <pthread.h>
#include <stdio.h>

static void *worker(void *arg)
{
    return arg;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, NULL) != 0)
        return 10;
    printf("joined\n");
    return 0;
}

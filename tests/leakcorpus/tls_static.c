// SPDX-License-Identifier: MIT
// Static TLS (__thread in the executable): the main thread's and a still-running thread's TLS are
// roots; a joined thread's TLS is gone, so what only it pointed to is lost.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static __thread void *tls_ptr;
static volatile int ready;

static void *runner(void *arg)
{
    tls_ptr = malloc((size_t)(uintptr_t)arg);
    if ((uintptr_t)arg == 170) {
        ready = 1;
        for (;;)
            pause();
    }
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    tls_ptr = malloc(150);
    if (pthread_create(&a, NULL, runner, (void *)(uintptr_t)160) != 0)
        return 1;
    pthread_join(a, NULL); /* its 160-byte block is lost with its TLS */
    if (pthread_create(&b, NULL, runner, (void *)(uintptr_t)170) != 0)
        return 1;
    while (!ready)
        usleep(1000);
    return 0;
}

// SPDX-License-Identifier: MIT
// memtrace's writer thread starved for good: every thread but ours on one CPU at SCHED_IDLE,
// and a thread of ours spinning on that CPU all along, so the writer runs a few milliseconds a
// second. Producers must not wait for it without end: after a short wait they compress and
// write the buffers themselves (log_writer.c). Every event is still in the log. Plain, there is
// no writer to starve.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "starve.h"

static volatile int stop;

static void *spin(void *arg)
{
    (void)arg;
    while (!stop)
        ;
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    starve_other_threads();
    pthread_t t;
    if (pthread_create(&t, NULL, spin, NULL) != 0) /* on CPU 0 too, at the normal policy */
        return 2;
    long mallocs = 0, frees = 0;
    for (long i = 0; i < n; i++) {
        /* sizes and addresses that vary, so the log does not compress to nothing */
        void *p = malloc(16 + (size_t)(i % 4000));
        void *q = malloc(24 + (size_t)(i * 7 % 3000));
        mallocs += 2;
        free(p);
        free(q);
        frees += 2;
    }
    stop = 1;
    pthread_join(t, NULL);
    printf("hostile: starved writer mallocs=%ld frees=%ld leaked=0\n", mallocs, frees);
    return 0;
}

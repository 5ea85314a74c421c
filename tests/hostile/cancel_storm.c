// SPDX-License-Identifier: MIT
// Threads cancelled while memtrace's writer is starved (SCHED_IDLE, one CPU), so that producers
// wait for buffers inside the hooks: a cancellation there must never act, and never leave a
// memtrace lock held (issue 19, item 2). Plain, there is no other thread to starve.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "starve.h"

static void *allocator(void *arg)
{
    (void)arg;
    for (;;) {
        void *p[64];
        for (int i = 0; i < 64; i++)
            p[i] = malloc(24 + (size_t)i);
        for (int i = 0; i < 64; i++)
            free(p[i]);
        pthread_testcancel();
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    starve_other_threads();
    int cancelled = 0;
    for (int r = 0; r < rounds; r++) {
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            if (pthread_create(&t[i], NULL, allocator, NULL) != 0)
                return 2;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
        for (int i = 0; i < 4; i++) {
            void *res;
            pthread_cancel(t[i]);
            pthread_join(t[i], &res);
            cancelled += res == PTHREAD_CANCELED;
        }
    }
    printf("hostile: rounds=%d cancelled=%d\n", rounds, cancelled);
    return cancelled == 4 * rounds ? 0 : 1;
}

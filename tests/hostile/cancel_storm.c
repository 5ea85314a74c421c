// SPDX-License-Identifier: MIT
// Threads cancelled while memtrace's writer is starved (SCHED_IDLE, one CPU), so that producers
// wait for buffers inside the hooks: a cancellation there must never act, and never leave a
// memtrace lock held (issue 19, item 2). Plain, there is no other thread to starve.
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void starve_other_threads(void)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof one, &one);
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        int tid = atoi(de->d_name);
        if (tid <= 0 || tid == gettid())
            continue;
        struct sched_param sp = {0};
        sched_setaffinity(tid, sizeof one, &one);
        sched_setscheduler(tid, SCHED_IDLE, &sp);
    }
    if (d)
        closedir(d);
}

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

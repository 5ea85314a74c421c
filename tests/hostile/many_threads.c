// SPDX-License-Identifier: MIT
// N threads alive at once (default 10,000), each allocating, then joined (issue 19, item 7).
// With "max" as argv[1] it creates threads until pthread_create fails and prints how many it
// had: memtrace must not lower that number (a benchmark, not a CI case: it takes minutes).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_barrier_t all_up;
static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    void **slot = arg;
    *slot = malloc(16);
    free(malloc(32));
    pthread_barrier_wait(&all_up);
    return NULL;
}

static void *parked(void *arg)
{
    (void)arg;
    free(malloc(8)); /* the thread's first event: memtrace sets up what a thread needs */
    pthread_mutex_lock(&hold);
    pthread_mutex_unlock(&hold);
    return NULL;
}

static int count_max(void)
{
    static pthread_t t[200000];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    pthread_mutex_lock(&hold);
    int n = 0;
    while (n < 200000 && pthread_create(&t[n], &attr, parked, NULL) == 0)
        n++;
    pthread_mutex_unlock(&hold);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    printf("threads created: %d\n", n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "max"))
        return count_max();
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    pthread_t *t = calloc((size_t)n, sizeof *t);
    void **kept = calloc((size_t)n, sizeof *kept);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    pthread_barrier_init(&all_up, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], &attr, worker, &kept[i]) != 0) {
            printf("pthread_create failed at thread %d\n", i);
            return 1;
        }
    pthread_barrier_wait(&all_up);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    /* calloc twice, then per thread: malloc(16) kept, malloc(32) freed */
    printf("hostile: mallocs=%d frees=%d leaked=%d\n", 2 + 2 * n, n,
           (int)(n * sizeof *t + n * sizeof *kept) + 16 * n);
    return 0;
}

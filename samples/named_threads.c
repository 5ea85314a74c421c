// SPDX-License-Identifier: MIT
// Threads with names, each allocating a known amount, named in each of the ways a program can:
// worker-0 names itself with pthread_setname_np, worker-1 is named by main with
// pthread_setname_np after it allocated (its allocations before the rename are worker-1's too),
// worker-2 names itself with prctl(PR_SET_NAME), and two threads are both called "pool".
//
// Ground truth (stdout), one line per thread plus the usual sample line:
//   memtrace-thread: name=NAME tid=TID allocations=A bytes=B own_peak=P at_peak=K held=H
//   memtrace-sample: allocations=... frees=... leaked_bytes=... leaked_blocks=...
// Every figure is of the thread's own malloc calls (no stdio in the threads; the lines are
// printed by main after the joins). Each thread keeps (leaks) its blocks, and first holds
// temporary blocks together, then frees them: own_peak is the larger of the two sets. The
// heap peak is main's 1 MiB buffer after the joins, when every thread holds its kept blocks
// (at_peak). keep_block() is called by every thread (a site of six threads); only worker-0
// calls worker0_scratch() (a site of one).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NTHREADS 5

typedef struct worker {
    const char *name;
    int keep, keep_size; /* blocks kept until the end (leaked) */
    int temp, temp_size; /* blocks held together first, then freed */
    pthread_t th;
    long tid;
    void **kept;
} worker_t;

static worker_t workers[NTHREADS] = {
    {"worker-0", 10, 1024, 8, 4096, 0, 0, NULL}, {"worker-1", 20, 1024, 2, 512, 0, 0, NULL},
    {"worker-2", 30, 1024, 0, 0, 0, 0, NULL},    {"pool", 3, 2048, 1, 100, 0, 0, NULL},
    {"pool", 3, 2048, 1, 100, 0, 0, NULL},
};

static pthread_barrier_t renamed; /* worker-1 and main: allocated; main renamed it */

__attribute__((noinline)) static void *keep_block(size_t n)
{
    void *p = malloc(n);
    memset(p, 1, n);
    return p;
}

__attribute__((noinline)) static void *worker0_scratch(size_t n)
{
    return malloc(n);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    w->tid = (long)syscall(SYS_gettid);
    int self = w - workers;
    if (self == 0 || self >= 3)
        pthread_setname_np(pthread_self(), w->name);
    else if (self == 2)
        prctl(PR_SET_NAME, (unsigned long)w->name, 0, 0, 0);
    void *temp[8];
    for (int i = 0; i < w->temp; i++)
        temp[i] = self == 0 ? worker0_scratch((size_t)w->temp_size) : malloc((size_t)w->temp_size);
    for (int i = 0; i < w->temp; i++)
        free(temp[i]);
    w->kept = malloc((size_t)w->keep * sizeof *w->kept);
    for (int i = 0; i < w->keep; i++)
        w->kept[i] = keep_block((size_t)w->keep_size);
    if (self == 1) {
        pthread_barrier_wait(&renamed); /* allocated under the name it inherited */
        pthread_barrier_wait(&renamed); /* main has renamed it */
    }
    return NULL;
}

int main(void)
{
    pthread_barrier_init(&renamed, NULL, 2);
    for (int t = 0; t < NTHREADS; t++)
        pthread_create(&workers[t].th, NULL, worker_main, &workers[t]);
    pthread_barrier_wait(&renamed);
    pthread_setname_np(workers[1].th, workers[1].name);
    pthread_barrier_wait(&renamed);
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(workers[t].th, NULL);
    char *big = malloc(1 << 20); /* the heap peak: every worker holds its kept blocks */
    memset(big, 0, 1 << 20);
    free(big);
    long allocations = 1, frees = 1, leaked = 0, leaked_blocks = 0; /* main's own: big */
    for (int t = 0; t < NTHREADS; t++) {
        const worker_t *w = &workers[t];
        long kept = (long)w->keep * w->keep_size + (long)w->keep * (long)sizeof(void *);
        long temp = (long)w->temp * w->temp_size;
        long a = w->temp + 1 + w->keep;
        printf("memtrace-thread: name=%s tid=%ld allocations=%ld bytes=%ld own_peak=%ld "
               "at_peak=%ld held=%ld\n",
               w->name, w->tid, a, temp + kept, temp > kept ? temp : kept, kept, kept);
        allocations += a;
        frees += w->temp;
        leaked += kept;
        leaked_blocks += w->keep + 1;
    }
    printf("memtrace-sample: allocations=%ld frees=%ld leaked_bytes=%ld leaked_blocks=%ld\n",
           allocations, frees, leaked, leaked_blocks);
    return 0;
}

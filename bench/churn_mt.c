// SPDX-License-Identifier: MIT
// shared/bench/churn.c's workload run by T threads at once, each with its own live set and
// random stream: the same call sites, stack depths and size mix per thread. Used by bench.sh
// to compare a profiler's per-thread overhead with 2 threads against 1.
//
//   churn_mt THREADS ITERATIONS_PER_THREAD
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIVE 4096

typedef struct worker {
    uint64_t rng;
    long n;
    void *live[LIVE];
} worker_t;

static inline uint64_t next(worker_t *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

__attribute__((noinline)) static void leaf(worker_t *w, int site, size_t sz)
{
    size_t slot = next(w) % LIVE;
    free(w->live[slot]);
    w->live[slot] = malloc(sz + (size_t)site);
    memset(w->live[slot], 1, 8);
    void *volatile tmp = malloc(sz / 2 + 1); /* temporary allocation */
    ((char *)tmp)[0] = 0;
    free(tmp);
}

__attribute__((noinline)) static void depth(worker_t *w, int d, int site, size_t sz)
{
    if (d == 0) {
        leaf(w, site, sz);
        return;
    }
    depth(w, d - 1, site, sz);
    __asm__ volatile("" ::: "memory");
}

static void *run(void *arg)
{
    worker_t *w = arg;
    for (long i = 0; i < w->n; i++) {
        uint64_t r = next(w);
        int site = (int)(r % 64);
        size_t sz = (r >> 8) % 4 == 0 ? 4096 + (r >> 16) % 65536 : 16 + (r >> 16) % 256;
        depth(w, 5 + (int)((r >> 40) % 10), site, sz);
    }
    for (int i = 0; i < LIVE; i++)
        if (i % 7)
            free(w->live[i]);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    long n = argc > 2 ? atol(argv[2]) : 1000000;
    if (threads < 1 || threads > 64 || n < 0) {
        fprintf(stderr, "usage: churn_mt THREADS(1-64) ITERATIONS_PER_THREAD\n");
        return 2;
    }
    worker_t *w = calloc((size_t)threads, sizeof *w);
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    if (!w || !t)
        return 1;
    for (int i = 0; i < threads; i++) {
        w[i].rng = 88172645463325252ull + 7919u * (uint64_t)i;
        w[i].n = n;
        if (pthread_create(&t[i], NULL, run, &w[i]) != 0)
            return 1;
    }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    printf("done %d x %ld\n", threads, n);
    free(w);
    free(t);
    return 0;
}

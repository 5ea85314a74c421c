// SPDX-License-Identifier: MIT
// A threaded program linked with another allocator (built against jemalloc and against
// tcmalloc): blocks of every size class, large ones whose extents start a mapping, aligned
// allocations and realloc. Such a block has no glibc chunk header before it; memtrace read one
// on every free, and a block at the start of a mapping crashed the program (jemalloc).
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define ROUNDS 100000
#define KEEP 256

static int mallocs[THREADS], frees[THREADS];

static size_t size_of(int i)
{
    if (i % 97 == 0)
        return (size_t)(1 + i % 5) << 20; /* an extent of its own */
    if (i % 13 == 0)
        return 16384 + (size_t)(i % 65536);
    return 16 + (size_t)(i % 3000);
}

static void *churn(void *arg)
{
    int t = (int)(long)arg;
    void *keep[KEEP] = {0};
    for (int i = 0; i < ROUNDS; i++) {
        int k = i % KEEP;
        if (keep[k]) {
            free(keep[k]);
            frees[t]++;
        }
        keep[k] = malloc(size_of(i + t));
        mallocs[t]++;
        memset(keep[k], 1, 16);
        if (i % 7 == 0) {
            void *grown = realloc(keep[k], size_of(i + 3));
            if (grown) {
                keep[k] = grown; /* a realloc is a free and an allocation */
                mallocs[t]++;
                frees[t]++;
            }
        }
    }
    for (int k = 0; k < KEEP; k++)
        if (keep[k]) {
            free(keep[k]);
            frees[t]++;
        }
    return NULL;
}

int main(void)
{
    pthread_t th[THREADS];
    for (long t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, churn, (void *)t);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    int m = 0, f = 0;
    for (int t = 0; t < THREADS; t++) {
        m += mallocs[t];
        f += frees[t];
    }
    void *a = NULL;
    if (posix_memalign(&a, 4096, 10000) == 0) {
        m++;
        free(a);
        f++;
    }
    void *b = aligned_alloc(64, 640);
    m++;
    free(b);
    f++;
    printf("hostile: mallocs=%d frees=%d leaked=0\n", m, f);
    return 0;
}

// SPDX-License-Identifier: MIT
// Issue 13.2: memtrace takes none of the program's pthread keys. Creates keys until glibc
// refuses (PTHREAD_KEYS_MAX), each thread of a churn of 2,000 allocating (memtrace's per-thread
// set-up runs in each), and prints how many keys it got and how many mappings it ends with.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *worker(void *arg)
{
    free(malloc(64));
    return arg;
}

int main(void)
{
    for (int i = 0; i < 2000; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, NULL) != 0)
            return 10;
    }
    int keys = 0;
    pthread_key_t k;
    while (pthread_key_create(&k, NULL) == 0)
        keys++;
    int maps = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    for (int c; f && (c = getc(f)) != EOF;)
        maps += c == '\n';
    if (f)
        fclose(f);
    printf("keys %d\n", keys);
    fprintf(stderr, "mappings %d\n", maps);
    return 0;
}

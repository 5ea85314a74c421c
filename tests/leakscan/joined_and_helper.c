// SPDX-License-Identifier: MIT
// Threads created and joined, then a helper thread left running at exit (a thread pool, an
// allocator's background thread): memtrace cannot run glibc's freeres under it, so the joined
// threads' DTVs stay in glibc's stack cache. Valgrind frees that cache; only the helper's DTV
// is possibly lost. The cached ones are held by glibc: reachable, never a failing kind.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *worker(void *arg)
{
    free(malloc(100));
    return arg;
}

static void *helper(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

int main(void)
{
    pthread_t t[3];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3; i++)
            if (pthread_create(&t[i], NULL, worker, NULL) != 0)
                return 10;
        for (int i = 0; i < 3; i++)
            pthread_join(t[i], NULL);
    }
    if (pthread_create(&t[0], NULL, helper, NULL) != 0)
        return 11;
    printf("joined 6, helper running\n");
    return 0;
}

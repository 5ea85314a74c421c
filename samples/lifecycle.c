// SPDX-License-Identifier: MIT
// Allocations at the awkward moments of a process's life, with exact counts:
//   - 400 short-lived threads (50 rounds of 8 started and joined), each 3 x malloc(48), 2 freed,
//     the third kept in thread-specific data whose destructor frees it and then allocates and
//     frees 16 bytes while the thread is being torn down;
//   - a SIGUSR1 handler that allocates 40 bytes, raised 10 times; 9 blocks freed by main;
//   - an atexit handler: 5 x malloc(100), 4 freed, after main returned;
//   - a shared library's destructor (lifecycle_dso.c): 5 x malloc(30) freed, 77 bytes kept.
// Totals (printed by main, which knows what comes after it):
//   allocations = 400*4 + 10 + 5 + 6 = 1621, frees = 400*4 + 9 + 4 + 5 = 1618,
//   leaked_bytes = 40 + 100 + 77 = 217 in 3 blocks.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 50
#define BATCH 8

void lifecycle_dso_touch(void);

static pthread_key_t key;
static void *from_handler[10];
static volatile int nhandler;
static void *kept_at_exit;

static void tsd_destructor(void *p)
{
    free(p);
    void *volatile q = malloc(16); /* during thread teardown */
    free(q);
}

static void *short_lived(void *arg)
{
    (void)arg;
    void *a = malloc(48), *b = malloc(48), *c = malloc(48);
    free(a);
    free(b);
    pthread_setspecific(key, c);
    return NULL;
}

static void on_usr1(int sig)
{
    (void)sig;
    from_handler[nhandler++] = malloc(40);
}

static void at_exit(void)
{
    void *p[5];
    for (int i = 0; i < 5; i++)
        p[i] = malloc(100);
    for (int i = 0; i < 4; i++)
        free(p[i]);
    kept_at_exit = p[4];
}

int main(void)
{
    lifecycle_dso_touch();
    pthread_key_create(&key, tsd_destructor);
    for (int r = 0; r < ROUNDS; r++) {
        pthread_t t[BATCH];
        for (int i = 0; i < BATCH; i++)
            if (pthread_create(&t[i], NULL, short_lived, NULL) != 0)
                return 2;
        for (int i = 0; i < BATCH; i++)
            pthread_join(t[i], NULL);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    for (int i = 0; i < 10; i++)
        raise(SIGUSR1); /* synchronous: never inside malloc */
    for (int i = 0; i < 9; i++)
        free(from_handler[i]);
    atexit(at_exit);
    int threads = ROUNDS * BATCH;
    printf("memtrace-sample: allocations=%d frees=%d leaked_bytes=%d leaked_blocks=%d\n",
           threads * 4 + 10 + 5 + 6, threads * 4 + 9 + 4 + 5, 40 + 100 + 77, 3);
    return 0;
}

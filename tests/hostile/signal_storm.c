// SPDX-License-Identifier: MIT
// A signal storm while the main thread maps and unmaps memory: each handler calls every hooked
// function, and most signals land inside memtrace's mmap hook, where the main thread spends
// its time. (mmap and munmap are async-signal-safe: a handler that allocates may interrupt
// them, where interrupting malloc would be the program's own bug.) Every call must be recorded,
// exactly (issue 19, item 8). The counts depend on how many signals arrived, so they go to
// stderr; stdout is the same in every run.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#define KEPT_MAX 100000

static void *kept[KEPT_MAX];
static volatile sig_atomic_t handled;
static volatile int stop;
static pthread_t main_thread;

static void handler(int sig)
{
    (void)sig;
    void *a = malloc(40);
    void *b = calloc(2, 20);
    b = realloc(b, 100);
    void *c = NULL;
    if (posix_memalign(&c, 64, 50) != 0)
        c = NULL;
    void *d = aligned_alloc(64, 64);
    void *e = memalign(32, 32);
    void *f = valloc(100);
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED)
        munmap(m, 4096);
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
    free(f);
    if (handled < KEPT_MAX)
        kept[handled] = malloc(16);
    handled++;
}

static void *sender(void *arg)
{
    (void)arg;
    while (!stop) {
        pthread_kill(main_thread, SIGUSR1);
        usleep(20);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 300000;
    if (argc > 2 && !strcmp(argv[2], "bsd_signal")) {
        /* glibc's own implementation calls its internal sigaction, not the interposed one */
        sighandler_t bsd_signal(int, sighandler_t);
        bsd_signal(SIGUSR1, handler);
    } else {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = handler;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGUSR1, &sa, NULL);
    }
    main_thread = pthread_self();
    pthread_t t;
    pthread_create(&t, NULL, sender, NULL);
    for (long i = 0; i < n; i++) {
        void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m != MAP_FAILED)
            munmap(m, 4096);
    }
    stop = 1;
    pthread_join(t, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block, NULL); /* no handler after the count is taken */
    unsigned long h = (unsigned long)handled, keptn = h < KEPT_MAX ? h : KEPT_MAX;
    /* per handler: malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc
     * and the kept malloc. Every block but the kept ones is freed once (the calloc'ed one by
     * the realloc that moves it). mmap: n by main, one per handler. */
    fprintf(stderr, "hostile: handlers=%lu maps=%lu mallocs=%lu frees=%lu leaked=%lu\n", h,
            (unsigned long)n + h, 7 * h + keptn, 7 * h, 16 * keptn);
    printf("signal storm: done\n");
    return 0;
}

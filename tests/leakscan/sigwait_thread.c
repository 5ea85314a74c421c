// SPDX-License-Identifier: MIT
// Issue 19.6: a thread that blocks every signal and sigwait()s for all of them: any signal it
// receives is the program's. The leak check must hold it still without sending it one.
// Plain and under valgrind: exits 0 and prints only "main done".
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static int ready;
static void *kept;

static void *waiter(void *arg)
{
    sigset_t all;
    sigfillset(&all);
    void *mine = malloc(16); /* only on this thread's stack: reachable */
    pthread_mutex_lock(&ready_lock);
    ready = 1;
    pthread_cond_signal(&ready_cond);
    pthread_mutex_unlock(&ready_lock);
    int sig = 0;
    if (sigwait(&all, &sig) == 0) {
        printf("sigwait got signal %d\n", sig);
        fflush(stdout);
        _exit(7);
    }
    return mine;
}

int main(void)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* inherited by the waiter */
    kept = malloc(8);
    pthread_t t;
    if (pthread_create(&t, NULL, waiter, NULL) != 0)
        return 10;
    pthread_mutex_lock(&ready_lock);
    while (!ready)
        pthread_cond_wait(&ready_cond, &ready_lock);
    pthread_mutex_unlock(&ready_lock);
    usleep(20000); /* the waiter is in sigwait */
    printf("main done\n");
    fflush(stdout);
    return 0;
}

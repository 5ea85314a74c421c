// SPDX-License-Identifier: MIT
// Issue 19.6: threads waiting in every way a thread can wait when the program exits. A signal
// handler that ran would end each of these waits early with EINTR (sleep, poll, sigsuspend,
// a timed semaphore) or not at all (an untimed condition wait, a busy loop): the leak check
// must hold them still without that being seen. A waiter that sees it prints and exits 9.
// Each keeps a block only in a local across its wait: 6 x 40 B reachable, as under valgrind,
// and each thread's DTV possibly lost (6 x 272 B). Plain and under valgrind: "main done", 0.
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int ready;
static sem_t sem;
static volatile int spin = 1;

static void interrupted(const char *what)
{
    printf("interrupted: %s\n", what);
    fflush(stdout);
    _exit(9);
}

static void hold(void)
{
    pthread_mutex_lock(&lock);
    ready++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

static void *sleeper(void *arg)
{
    void *volatile mine = malloc(40);
    hold();
    if (sleep(100) != 0)
        interrupted("sleep");
    free(arg);
    return mine;
}

static void *poller(void *arg)
{
    void *volatile mine = malloc(40);
    hold();
    if (poll(NULL, 0, 100000) < 0)
        interrupted("poll");
    free(arg);
    return mine;
}

static void *suspender(void *arg)
{
    void *volatile mine = malloc(40);
    hold();
    sigset_t none;
    sigemptyset(&none);
    sigsuspend(&none);
    interrupted("sigsuspend");
    free(arg);
    return mine;
}

static void *timed_sem(void *arg)
{
    void *volatile mine = malloc(40);
    hold();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 100;
    if (sem_timedwait(&sem, &ts) != 0 && errno == EINTR)
        interrupted("sem_timedwait");
    free(arg);
    return mine;
}

static void *cond_waiter(void *arg)
{
    void *volatile mine = malloc(40);
    hold();
    pthread_mutex_lock(&lock);
    while (ready >= 0)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    free(arg);
    return mine;
}

static void *spinner(void *arg)
{
    void *volatile mine = malloc(40);
    hold();
    while (spin)
        ;
    free(arg);
    return mine;
}

int main(void)
{
    void *(*fns[])(void *) = {sleeper, poller, suspender, timed_sem, cond_waiter, spinner};
    int n = (int)(sizeof fns / sizeof fns[0]);
    sem_init(&sem, 0, 0);
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, fns[i], NULL) != 0)
            return 10;
    }
    pthread_mutex_lock(&lock);
    while (ready < n)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    usleep(50000); /* all of them in their waits */
    printf("main done\n");
    fflush(stdout);
    return 0;
}

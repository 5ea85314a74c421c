// SPDX-License-Identifier: MIT
// Signal handlers and alternate stacks, as a program sees them plain: a handler installed
// SA_ONSTACK in a thread with no alternate stack of its own runs on the interrupted stack, so a
// 256 KiB frame fits (under memtrace it ran on memtrace's 64 KiB stack, overflowed it, and the
// program hung); a signal nested in it; sigaltstack reports no stack where the program set
// none, and the program's own where it set one; a fault caught with siglongjmp, twice.
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#define ROUNDS 40

static volatile unsigned long sum;
static volatile int nested;
static volatile int mallocs, frees;
static sigjmp_buf back;
static char own_alt[1 << 16];

static void big_frame(int sig)
{
    volatile char buf[256 << 10];
    memset((char *)buf, sig, sizeof buf);
    sum += (unsigned long)buf[1000] + (unsigned long)buf[200000];
    char *p = malloc(48); /* raised synchronously: not inside any malloc */
    mallocs++;
    p[0] = 1;
    free(p);
    frees++;
    if (sig == SIGUSR1 && nested++ == 0)
        raise(SIGUSR2);
}

static void on_fault(int sig)
{
    (void)sig;
    siglongjmp(back, 1);
}

static int alt_stack_is(const void *want)
{
    stack_t cur;
    if (sigaltstack(NULL, &cur) != 0)
        return -1;
    if (!want)
        return (cur.ss_flags & SS_DISABLE) != 0;
    return cur.ss_sp == want && cur.ss_size == sizeof own_alt;
}

static void *with_own_alt_stack(void *arg)
{
    (void)arg;
    stack_t ss = {.ss_sp = own_alt, .ss_size = sizeof own_alt, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    free(malloc(16));
    mallocs++;
    frees++;
    printf("thread: its own alternate stack reported: %d\n", alt_stack_is(own_alt));
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = big_frame;
    sa.sa_flags = SA_ONSTACK | SA_NODEFER;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    for (int i = 0; i < ROUNDS; i++) {
        free(malloc(100));
        mallocs++;
        frees++;
        nested = 0;
        raise(SIGUSR1);
    }
    printf("main: no alternate stack reported: %d\n", alt_stack_is(NULL));
    sa.sa_handler = on_fault;
    sa.sa_flags = SA_ONSTACK | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    int caught = 0;
    for (int k = 0; k < 2; k++)
        if (sigsetjmp(back, 1) == 0)
            *(volatile int *)(uintptr_t)16 = 1;
        else
            caught++;
    printf("faults caught: %d\n", caught);
    pthread_t t;
    pthread_create(&t, NULL, with_own_alt_stack, NULL);
    pthread_join(t, NULL);
    printf("handler sum %lu\n", sum);
    printf("hostile: mallocs=%d frees=%d leaked=0\n", mallocs, frees);
    return 0;
}

// SPDX-License-Identifier: MIT
// Signal handlers and alternate stacks, as a program sees them plain: a handler installed
// SA_ONSTACK in a thread with no alternate stack of its own runs on the interrupted stack, so a
// 256 KiB frame fits (under memtrace it ran on memtrace's 64 KiB stack, overflowed it, and the
// program hung); a signal nested in it; sigaltstack reports no stack where the program set
// none, and the program's own where it set one; a fault caught with siglongjmp, twice; and, as
// Go's runtime does on a cgo program's main thread, an alternate stack read with the raw system
// call taken as the signal stack, whose handler must run there when the signal interrupts a
// stack mapped far away (a goroutine's).
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

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

static uintptr_t adopted_lo, adopted_size;
static volatile int on_adopted = -1;
static char go_like_alt[1 << 16];
static ucontext_t main_ctx, far_ctx;

static void check_adopted(int sig)
{
    (void)sig;
    char here;
    on_adopted = (uintptr_t)&here - adopted_lo < adopted_size;
}

static void raise_far(void)
{
    raise(SIGUSR1);
}

/* 1 when the handler ran on the stack the program took for its signal stack. */
static int go_like(void)
{
    stack_t st;
    if (syscall(SYS_sigaltstack, NULL, &st) != 0)
        return -1;
    if (st.ss_flags & SS_DISABLE) { /* none yet: one of its own, as Go makes */
        st.ss_sp = go_like_alt;
        st.ss_size = sizeof go_like_alt;
        st.ss_flags = 0;
        if (syscall(SYS_sigaltstack, &st, NULL) != 0)
            return -1;
    }
    adopted_lo = (uintptr_t)st.ss_sp;
    adopted_size = st.ss_size;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = check_adopted;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    size_t len = 256 << 10;
    void *far = mmap((void *)0xc000000000ul, len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (far == MAP_FAILED)
        return -1;
    getcontext(&far_ctx);
    far_ctx.uc_stack.ss_sp = far;
    far_ctx.uc_stack.ss_size = len;
    far_ctx.uc_link = &main_ctx;
    makecontext(&far_ctx, raise_far, 0);
    swapcontext(&main_ctx, &far_ctx);
    return on_adopted;
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
    /* before the faults: a handler left by siglongjmp leaves the alternate stack disarmed */
    printf("handler on the stack taken for signals: %d\n", go_like());
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

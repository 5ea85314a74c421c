// SPDX-License-Identifier: MIT
// Alternate signal stacks and the interposed sigaction/signal. A stack overflow raises SIGSEGV
// on a stack with no room left: without a stack of its own the handler cannot run, the kernel
// kills the process and the log loses its last chunk and its EXIT. Each thread gets one on its
// first recorded event (mmap, never malloc; handed on to a later thread once it is gone).
// The program must not see memtrace's handlers: sigaction reports SIG_DFL where ours stands in
// for it, and a handler the program installs replaces ours, as it would have replaced SIG_DFL.
#include "signals.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mt_libc.h"
#include "thread_res.h"

/* Room for the handler: encode EXIT, hand the chunk to the writer (or deflate it here when
 * there is no writer thread: zlib's deflate keeps its state off the stack). */
#define MT_SIG_STACK (64u << 10)
#define MT_SIG_MAX 65

static struct {
    int (*sigaction)(int, const struct sigaction *, struct sigaction *);
    void (*handler)(int);
    /* 1 while memtrace's handler is installed for that signal on the program's behalf */
    int ours[MT_SIG_MAX];
} mt_sig;

static int mt_sig_real(int sig, const struct sigaction *sa, struct sigaction *old)
{
    if (!mt_sig.sigaction) {
        void *p = dlsym(RTLD_NEXT, "sigaction");
        memcpy(&mt_sig.sigaction, &p, sizeof p);
    }
    return mt_sig.sigaction(sig, sa, old);
}

/* Straight from the kernel, not mt_map: a program's handler frames on this stack are roots
 * for the leak check like any stack, and a thousand threads must not fill the scan's table of
 * excluded ranges (mt_map's). */
static void *mt_sig_stack_map(void)
{
    long r = syscall(SYS_mmap, NULL, MT_SIG_STACK, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    return r == -1 ? NULL : (void *)r;
}

static void mt_sig_stack_unmap(void *p)
{
    syscall(SYS_munmap, p, MT_SIG_STACK);
}

/* A thread's stack outlives it and goes to a later thread (thread_res.h): no pthread key,
 * whose destructor would unmap it at thread exit, since keys are the program's (issue 13.2). */
void mt_sig_thread(void)
{
    stack_t cur;
    if (sigaltstack(NULL, &cur) != 0)
        return;
    int saved = errno;
    int tid = mt_sys_gettid();
    if (!(cur.ss_flags & SS_DISABLE)) {
        /* the program's (handlers run there), or ours inherited by a fork's child */
        mt_tres_adopt(tid, cur.ss_sp);
        errno = saved;
        return;
    }
    void *p = mt_tres_take(tid);
    int fresh = p == NULL;
    if (fresh)
        p = mt_sig_stack_map();
    if (p && fresh && mt_tres_put(tid, p) != 0) {
        mt_sig_stack_unmap(p); /* more threads at once than the table holds: none */
        p = NULL;
    }
    stack_t st = {.ss_sp = p, .ss_size = MT_SIG_STACK, .ss_flags = 0};
    if (p)
        (void)sigaltstack(&st, NULL); /* on failure the stack stays listed, for the next one */
    errno = saved;
}

void mt_sig_init(const int *sigs, int n, void (*handler)(int))
{
    mt_sig.handler = handler;
    mt_sig_thread();
    for (int i = 0; i < n; i++) {
        struct sigaction old;
        if (sigs[i] >= MT_SIG_MAX || mt_sig_real(sigs[i], NULL, &old) != 0)
            continue;
        /* Only where the program has no handler (and does not ignore the signal). */
        if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = handler;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART | SA_ONSTACK;
        if (mt_sig_real(sigs[i], &sa, NULL) == 0)
            __atomic_store_n(&mt_sig.ours[sigs[i]], 1, __ATOMIC_RELEASE);
    }
}

void mt_sig_forget(int sig)
{
    if (sig > 0 && sig < MT_SIG_MAX)
        __atomic_store_n(&mt_sig.ours[sig], 0, __ATOMIC_RELEASE);
}

/* Where ours stands in for SIG_DFL, the program sees SIG_DFL with an empty mask. */
static void mt_sig_fake_default(struct sigaction *old)
{
    memset(old, 0, sizeof *old);
    old->sa_handler = SIG_DFL;
    sigemptyset(&old->sa_mask);
}

MT_EXPORT int sigaction(int sig, const struct sigaction *sa, struct sigaction *old)
{
    int was_ours =
        sig > 0 && sig < MT_SIG_MAX && __atomic_load_n(&mt_sig.ours[sig], __ATOMIC_ACQUIRE);
    int rc = mt_sig_real(sig, sa, old);
    if (rc != 0 || !was_ours)
        return rc;
    if (old)
        mt_sig_fake_default(old);
    if (sa) /* the program's choice replaces ours, SIG_DFL included */
        mt_sig_forget(sig);
    return rc;
}

/* glibc's signal() calls its internal sigaction, not the interposed one. BSD semantics, as
 * glibc's signal() has. */
MT_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    if (sig > 0 && sig < MT_SIG_MAX)
        sigaddset(&sa.sa_mask, sig);
    sa.sa_flags = SA_RESTART;
    if (sigaction(sig, &sa, &old) != 0)
        return SIG_ERR;
    return old.sa_handler;
}

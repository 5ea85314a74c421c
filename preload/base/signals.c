// SPDX-License-Identifier: MIT
// The interposed sigaction/signal and memtrace's fatal-signal handlers. A stack overflow raises
// SIGSEGV on a stack with no room left: the handler runs on the alternate stack that each
// thread gets with its slot (thread_slots.h) on its first recorded event, so that the log
// keeps its last chunk and its EXIT.
// The program must not see memtrace's handlers: sigaction reports SIG_DFL where ours stands in
// for it, and a handler the program installs replaces ours, as it would have replaced SIG_DFL.
#include "base/signals.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/mt_libc.h"
#include "base/signal_defer.h"
#include "base/thread_slots.h"

#define MT_SIG_MAX 65

static struct {
    int (*sigaction)(int, const struct sigaction *, struct sigaction *);
    void (*handler)(int);
    /* 1 while memtrace's handler is installed for that signal on the program's behalf */
    int ours[MT_SIG_MAX];
    /* 1 for the signals given to mt_sig_init: where the program asks for SIG_DFL, ours goes */
    int fatal[MT_SIG_MAX];
} mt_sig;

static int mt_sig_real(int sig, const struct sigaction *sa, struct sigaction *old)
{
    if (!mt_sig.sigaction) {
        void *p = dlsym(RTLD_NEXT, "sigaction");
        memcpy(&mt_sig.sigaction, &p, sizeof p);
    }
    return mt_sig.sigaction(sig, sa, old);
}

static void mt_sig_our_action(struct sigaction *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sa_handler = mt_sig.handler;
    sigemptyset(&sa->sa_mask);
    sa->sa_flags = SA_RESTART | SA_ONSTACK;
}

/* Installs memtrace's handler for sig in the program's name. Also the reset of an SA_RESETHAND
 * handler of the program's, when it is entered (signal_defer.c): sig's action becomes
 * memtrace's stand-in for SIG_DFL, as the kernel would have made it SIG_DFL. Signal context:
 * one system call. */
static void mt_sig_install_ours(int sig)
{
    struct sigaction sa;
    mt_sig_our_action(&sa);
    if (mt_sig_real(sig, &sa, NULL) == 0)
        __atomic_store_n(&mt_sig.ours[sig], 1, __ATOMIC_RELEASE);
}

/* memtrace's handler stands in for sig's default action (SIG_DFL the program sets, the reset of
 * an SA_RESETHAND handler): sig is one mt_sig_init was given. */
static bool mt_sig_stands_in(int sig)
{
    return mt_sig.handler && __atomic_load_n(&mt_sig.fatal[sig], __ATOMIC_ACQUIRE);
}

/* The reset signal_defer.c carries out for a handler of sig's with SA_RESETHAND: ours where
 * memtrace stands in for sig's default action (then a crash handler that raises its signal
 * again ends the process with the log's end written, instead of losing it), else none (the
 * kernel resets). */
static void (*mt_sig_reset_for(int sig))(int)
{
    return mt_sig_stands_in(sig) ? mt_sig_install_ours : NULL;
}

void mt_sig_init(const int *sigs, int n, void (*handler)(int))
{
    mt_sig.handler = handler;
    for (int i = 0; i < n; i++) {
        struct sigaction old;
        if (sigs[i] <= 0 || sigs[i] >= MT_SIG_MAX || mt_sig_real(sigs[i], NULL, &old) != 0)
            continue;
        __atomic_store_n(&mt_sig.fatal[sigs[i]], 1, __ATOMIC_RELEASE);
        /* Only where the program has no handler (and does not ignore the signal). */
        if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL)
            mt_sig_install_ours(sigs[i]);
    }
}

void mt_sig_default(int sig)
{
    if (sig <= 0 || sig >= MT_SIG_MAX)
        return;
    __atomic_store_n(&mt_sig.ours[sig], 0, __ATOMIC_RELEASE);
    __atomic_store_n(&mt_sig.fatal[sig], 0, __ATOMIC_RELEASE);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    (void)mt_sig_real(sig, &dfl, NULL);
}

/* Where ours stands in for SIG_DFL, the program sees SIG_DFL with an empty mask. */
static void mt_sig_fake_default(struct sigaction *old)
{
    memset(old, 0, sizeof *old);
    old->sa_handler = SIG_DFL;
    sigemptyset(&old->sa_mask);
}

static bool mt_sig_is_handler(const struct sigaction *sa)
{
    /* sa_handler and sa_sigaction share their storage: SIG_DFL and SIG_IGN read the same */
    return sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN;
}

/* The program's handlers are installed behind memtrace's trampoline (signal_defer.h) and
 * reported back as the program set them; where memtrace's fatal handler stands in for
 * SIG_DFL, the program sees SIG_DFL. SIG_DFL that the program sets itself gets memtrace's
 * handler too: CPython restores SIG_DFL for SIGINT when it finalizes and then kills itself
 * with SIGINT after an unhandled KeyboardInterrupt, and faulthandler restores the action it
 * found (SIG_DFL, as we report it) before it raises the fault again; the default action
 * would end the process without the log's last chunk (its whole log, for a short run). */
MT_EXPORT int sigaction(int sig, const struct sigaction *sa, struct sigaction *old)
{
    bool valid = sig > 0 && sig < MT_SIG_MAX;
    int was_ours = valid && __atomic_load_n(&mt_sig.ours[sig], __ATOMIC_ACQUIRE);
    struct sigaction before, install;
    bool was_wrapped = valid && mt_sigdefer_program_action(sig, &before);
    const struct sigaction *use = sa;
    bool stand_in = sa && valid && !(sa->sa_flags & SA_SIGINFO) && sa->sa_handler == SIG_DFL &&
                    mt_sig_stands_in(sig);
    if (sa && valid && mt_sig_is_handler(sa)) {
        mt_sigdefer_wrap(sig, sa, &install, mt_sig_reset_for(sig));
        use = &install;
    } else if (stand_in) {
        mt_sig_our_action(&install);
        use = &install;
    }
    int rc = mt_sig_real(sig, use, old);
    if (rc != 0) { /* nothing changed: neither may our table */
        int saved = errno;
        if (use != sa && was_wrapped)
            mt_sigdefer_wrap(sig, &before, &install, mt_sig_reset_for(sig));
        else if (use != sa)
            mt_sigdefer_unwrap(sig);
        errno = saved;
        return rc;
    }
    if (sa && (use == sa || stand_in) && valid)
        mt_sigdefer_unwrap(sig);
    if (old && was_wrapped)
        *old = before;
    else if (old && was_ours)
        mt_sig_fake_default(old);
    if (sa && valid) /* the program's choice replaces ours, but for SIG_DFL */
        __atomic_store_n(&mt_sig.ours[sig], stand_in ? 1 : 0, __ATOMIC_RELEASE);
    return rc;
}

/*
 * memtrace's alternate stack (each thread's, with its slot) stands in for none, as its fatal
 * handlers stand in for SIG_DFL: the program is told SS_DISABLE where only ours is set, as it
 * would be plain. A runtime that installs an alternate stack only where a thread has none
 * (Rust's, for its stack-overflow message) then installs its own, which replaces ours.
 */
MT_EXPORT int sigaltstack(const stack_t *ss, stack_t *old)
{
    int rc = (int)mt_syscall(SYS_sigaltstack, ss, old);
    const mt_slot_t *self = mt_slot_peek();
    if (rc == 0 && old && self && old->ss_sp == self->alt_stack) {
        old->ss_sp = NULL;
        old->ss_size = 0;
        old->ss_flags = SS_DISABLE;
    }
    return rc;
}

/* glibc's signal(), bsd_signal() and sysv_signal() call its internal sigaction, not the
 * interposed one: each is rebuilt on the interposed sigaction with glibc's flags, so that the
 * handler is reported and held like any (signal_defer.h). */
static sighandler_t mt_sig_install(int sig, sighandler_t handler, int flags, bool mask_self)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    if (mask_self && sig > 0 && sig < MT_SIG_MAX)
        sigaddset(&sa.sa_mask, sig);
    sa.sa_flags = flags;
    if (sigaction(sig, &sa, &old) != 0)
        return SIG_ERR;
    return old.sa_handler;
}

/* Older names that <signal.h> declares only for some feature macros. */
MT_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler);
MT_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler);

/* BSD semantics, as glibc's signal() and bsd_signal() have. */
MT_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
    return mt_sig_install(sig, handler, SA_RESTART, true);
}

MT_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
    return mt_sig_install(sig, handler, SA_RESTART, true);
}

/* System V semantics: the handler is reset on delivery and the signal is not blocked. */
MT_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
    return mt_sig_install(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}

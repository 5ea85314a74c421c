// SPDX-License-Identifier: MIT
// Holding and delivering the program's asynchronous signals around memtrace's hooks (see
// signal_defer.h). Runs in signal handlers and at the end of hooks: no malloc, no stdio, no
// lock; the held signals are per thread, in its slot.
#include "base/signal_defer.h"

#include <errno.h>
#include <string.h>
#include <ucontext.h>

#include "base/stack_call.h"
#include "base/thread_slots.h"

#define MT_SD_MAX 65 /* signals 1..64 */
#define MT_SD_HELD 8 /* per thread; beyond that a handler runs at once, its events counted */

__thread int mt_sigdefer_pending __attribute__((tls_model("initial-exec")));
__thread int mt_sigdefer_unrecorded __attribute__((tls_model("initial-exec")));

/* The program's actions, as it set them, for the signals whose handler is the trampoline. */
static struct sigaction mt_sd_action[MT_SD_MAX];
static int mt_sd_wrapped[MT_SD_MAX];
/* An SA_RESETHAND the trampoline carries out (mt_sigdefer_wrap), by calling this. */
static void (*mt_sd_reset[MT_SD_MAX])(int sig);
static unsigned long mt_sd_unrecorded_calls;

typedef struct mt_sd_held {
    int count;
    struct {
        int sig;
        siginfo_t info;
        struct sigaction action; /* the program's, when the signal came */
    } sig[MT_SD_HELD];
} mt_sd_held_t;
_Static_assert(sizeof(mt_sd_held_t) <= MT_SLOT_SIGNALS, "held signals must fit their slot area");

/* Faults the kernel raises for the instruction that runs: the handler must run now. */
static bool mt_sd_is_fault(int sig, const siginfo_t *info)
{
    if (info && info->si_code <= 0)
        return false; /* sent by kill, tgkill, sigqueue, a timer... */
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP ||
           sig == SIGSYS;
}

static void mt_sd_call(int sig, const struct sigaction *sa, siginfo_t *info, void *uc)
{
    if (sa->sa_flags & SA_SIGINFO)
        sa->sa_sigaction(sig, info, uc);
    else
        sa->sa_handler(sig);
}

typedef struct mt_sd_call_args {
    int sig;
    const struct sigaction *sa;
    siginfo_t *info;
    void *uc;
} mt_sd_call_args_t;

static void mt_sd_call_thunk(void *p)
{
    const mt_sd_call_args_t *a = p;
    mt_sd_call(a->sig, a->sa, a->info, a->uc);
}

/* How far from a thread's home_sp its own stack is taken to reach: the 8 MiB of a default
 * thread stack, with room for larger ones. Goroutine stacks (Go's heap, 0xc000000000 and up)
 * and other runtimes' stacks mapped elsewhere are outside it. */
#define MT_SD_OWN_STACK (64ul << 20)

/*
 * The program's handler, now. A handler the program asked to run SA_ONSTACK, in a thread with
 * no alternate stack of its own, comes here on memtrace's (thread_slots.h), 64 KiB, which the
 * program does not know it has (signals.c): plain, it would have run on the interrupted stack,
 * with all its room (a handler with a 256 KiB frame overflowed ours and hung the program). So
 * when the signal interrupted the thread's own stack it runs there, below the interrupted
 * frame's red zone; the slot's alternate stack is armed with SS_AUTODISARM, so a signal nested
 * in it lands on the stack it is on, as plain. It stays on the alternate stack when the signal
 * interrupted another stack: a runtime that found memtrace's stack with a raw sigaltstack and
 * took it for its own signal stack (Go, on a cgo program's main thread) checks that its
 * handler runs there, and dies otherwise ("signal 23 received on thread with no signal
 * stack"); Go accepts the thread's own stack (its g0). And a fault stays there: the stack it
 * interrupted may be the one that overflowed.
 */
static void mt_sd_call_program(int sig, const struct sigaction *sa, siginfo_t *info, void *uc)
{
#if defined(__x86_64__)
    const mt_slot_t *slot = mt_slot_peek();
    if (slot && uc && !mt_sd_is_fault(sig, info)) {
        uintptr_t alt = (uintptr_t)slot->alt_stack;
        uintptr_t here = (uintptr_t)__builtin_frame_address(0);
        uintptr_t sp = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
        uintptr_t home = slot->home_sp;
        bool own_stack = sp + MT_SD_OWN_STACK > home && sp < home + MT_SD_OWN_STACK;
        if (here - alt < MT_SLOT_ALT_STACK && sp - alt >= MT_SLOT_ALT_STACK && own_stack) {
            mt_sd_call_args_t a = {sig, sa, info, uc};
            mt_stack_call((uint8_t *)((sp - 128) & ~(uintptr_t)15), mt_sd_call_thunk, &a);
            return;
        }
    }
#endif
    mt_sd_call(sig, sa, info, uc);
}

/* Holds sig for the end of the hook; false when there is no room (or no slot). */
static bool mt_sd_hold(int sig, const siginfo_t *info, const struct sigaction *sa)
{
    mt_slot_t *slot = mt_slot_peek();
    if (!slot)
        return false;
    mt_sd_held_t *h = slot->signals;
    /* A standard signal that is already held merges with it, as the kernel's pending set
     * would have merged it while the handler's mask blocked it. */
    if (sig < SIGRTMIN)
        for (int i = 0; i < h->count; i++)
            if (h->sig[i].sig == sig)
                return true;
    if (h->count == MT_SD_HELD)
        return false;
    h->sig[h->count].sig = sig;
    h->sig[h->count].info = *info;
    h->sig[h->count].action = *sa;
    h->count++;
    mt_sigdefer_pending = 1;
    return true;
}

static void mt_sd_trampoline(int sig, siginfo_t *info, void *uc)
{
    int saved = errno;
    struct sigaction sa = mt_sd_action[sig];
    if (sa.sa_flags & SA_RESETHAND) {
        /* The kernel restored SIG_DFL already, or (reset) it was not asked to: a crash
         * handler's raise of its own signal then ends the process through memtrace's
         * stand-in, which writes the log's end first. */
        void (*reset)(int) = __atomic_load_n(&mt_sd_reset[sig], __ATOMIC_ACQUIRE);
        __atomic_store_n(&mt_sd_wrapped[sig], 0, __ATOMIC_RELEASE);
        if (reset)
            reset(sig);
    }
    if (!mt_guard) {
        errno = saved;
        mt_sd_call_program(sig, &sa, info, uc);
        return;
    }
    if (!mt_sd_is_fault(sig, info) && mt_sd_hold(sig, info, &sa)) {
        errno = saved;
        return;
    }
    /* A fault inside a hook, or too many held: now, and what it allocates is counted. */
    mt_sigdefer_unrecorded++;
    errno = saved;
    mt_sd_call_program(sig, &sa, info, uc);
    mt_sigdefer_unrecorded--;
}

bool mt_sigdefer_hold_own(int sig, void (*handler)(int))
{
    if (!mt_guard)
        return false;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = sig;
    info.si_code = SI_USER;
    return mt_sd_hold(sig, &info, &sa);
}

void mt_sigdefer_deliver(void)
{
    mt_slot_t *slot = mt_slot_peek();
    if (!slot) {
        mt_sigdefer_pending = 0;
        return;
    }
    mt_sd_held_t *h = slot->signals;
    /* volatile: getcontext returns twice, and an optimizing (or sanitizing) build must not
     * keep it in a register the second return clobbers */
    volatile int saved = errno;
    while (h->count > 0) {
        int sig = h->sig[0].sig;
        siginfo_t info = h->sig[0].info;
        struct sigaction sa = h->sig[0].action; /* delivered before any later change */
        h->count--;
        memmove(&h->sig[0], &h->sig[1], (size_t)h->count * sizeof h->sig[0]);
        /* As the kernel runs a handler: its mask and the signal itself blocked. The context
         * is this point's: the interrupted one was inside memtrace and is gone. */
        sigset_t block = sa.sa_mask, old;
        if (!(sa.sa_flags & SA_NODEFER))
            sigaddset(&block, sig);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        ucontext_t uc;
        getcontext(&uc);
        errno = saved;
        mt_sd_call(sig, &sa, &info, &uc);
        saved = errno;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    mt_sigdefer_pending = 0;
    errno = saved;
}

void mt_sigdefer_wrap(int sig, const struct sigaction *sa, struct sigaction *out,
                      void (*reset)(int sig))
{
    mt_sd_action[sig] = *sa;
    *out = *sa;
    out->sa_sigaction = mt_sd_trampoline;
    out->sa_flags |= SA_SIGINFO;
    bool emulate = reset && (sa->sa_flags & SA_RESETHAND);
    if (emulate)
        out->sa_flags &= ~SA_RESETHAND;
    __atomic_store_n(&mt_sd_reset[sig], emulate ? reset : NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&mt_sd_wrapped[sig], 1, __ATOMIC_RELEASE);
}

void mt_sigdefer_unwrap(int sig)
{
    __atomic_store_n(&mt_sd_wrapped[sig], 0, __ATOMIC_RELEASE);
}

bool mt_sigdefer_program_action(int sig, struct sigaction *old)
{
    if (sig <= 0 || sig >= MT_SD_MAX || !__atomic_load_n(&mt_sd_wrapped[sig], __ATOMIC_ACQUIRE))
        return false;
    *old = mt_sd_action[sig];
    return true;
}

void mt_sigdefer_count_unrecorded(void)
{
    __atomic_add_fetch(&mt_sd_unrecorded_calls, 1, __ATOMIC_RELAXED);
}

unsigned long mt_sigdefer_unrecorded_total(void)
{
    return __atomic_load_n(&mt_sd_unrecorded_calls, __ATOMIC_RELAXED);
}

// SPDX-License-Identifier: MIT
// A forked child that sandboxes itself with a seccomp filter before it allocates, as sshd's
// pre-authentication child and sandboxed workers do: any system call the filter does not list
// kills the process (SIGSYS). Plain, the child allocates, frees and exits 0; under memtrace it
// must too, so memtrace may make no system call outside the list once the filter is on.
//
//     seccomp_child [prctl|syscall|thread]
// prctl (the default) or syscall: how the filter goes on; thread: through prctl, and a thread
// started inside the sandbox makes half of the allocations (the filter then also lists what
// pthread_create needs).
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ALLOW(nr)                                                                                  \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

#define ROUNDS 100000
#define KEPT 100

/* What malloc, free, write and exit need (getrandom: glibc's first malloc in a thread), and
 * futex, which every threaded program's filter lists. Not getpid, gettid, prctl, open, close. */
static int sandbox(int by_syscall, int threads)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        ALLOW(SYS_read),
        ALLOW(SYS_write),
        ALLOW(SYS_exit),
        ALLOW(SYS_exit_group),
        ALLOW(SYS_brk),
        ALLOW(SYS_mmap),
        ALLOW(SYS_munmap),
        ALLOW(SYS_mremap),
        ALLOW(SYS_madvise),
        ALLOW(SYS_futex),
        ALLOW(SYS_rt_sigreturn),
        ALLOW(SYS_getrandom),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0), /* room for the thread calls below */
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    /* pthread_create and the new thread's start, only when asked for */
    struct sock_filter with_threads[] = {
        ALLOW(SYS_clone),           ALLOW(SYS_clone3),
        ALLOW(SYS_mprotect),        ALLOW(SYS_rt_sigprocmask),
        ALLOW(SYS_set_robust_list), ALLOW(SYS_rseq),
        ALLOW(SYS_rt_sigaction),    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    struct sock_filter all[sizeof f / sizeof f[0] + sizeof with_threads / sizeof with_threads[0]];
    size_t n = sizeof f / sizeof f[0] - 2; /* up to the placeholder */
    memcpy(all, f, n * sizeof f[0]);
    if (threads) {
        memcpy(all + n, with_threads, sizeof with_threads);
        n += sizeof with_threads / sizeof with_threads[0];
    } else {
        all[n++] = f[sizeof f / sizeof f[0] - 1];
    }
    struct sock_fprog prog = {(unsigned short)n, all};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    if (by_syscall)
        return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* ROUNDS / 2 allocations and frees, KEPT / 2 of them kept until the end. */
static void *churn_half(void *arg)
{
    void **kept = arg;
    for (int i = 0; i < ROUNDS / 2; i++) {
        void *p = malloc(16 + (size_t)(i % 1000));
        if (i % (ROUNDS / KEPT) == 0)
            kept[i / (ROUNDS / KEPT)] = p;
        else
            free(p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int by_syscall = argc > 1 && strcmp(argv[1], "syscall") == 0;
    int threads = argc > 1 && strcmp(argv[1], "thread") == 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        if (sandbox(by_syscall, threads) != 0)
            _exit(3);
        void *kept[KEPT];
        pthread_t th;
        if (threads && pthread_create(&th, NULL, churn_half, kept + KEPT / 2) != 0)
            _exit(4);
        churn_half(kept);
        if (threads)
            pthread_join(th, NULL);
        else
            churn_half(kept + KEPT / 2);
        for (int i = 0; i < KEPT; i++)
            free(kept[i]);
        const char msg[] = "child sandboxed, allocated and freed\n";
        (void)!write(1, msg, sizeof msg - 1);
        exit(0);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return 2;
    if (WIFEXITED(st))
        printf("child exit %d\n", WEXITSTATUS(st));
    else
        printf("child killed by signal %d\n", WTERMSIG(st));
    return 0;
}

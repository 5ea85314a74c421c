// SPDX-License-Identifier: MIT
// A program that starts threads or processes up to its limit: it runs as an unprivileged user
// whose RLIMIT_NPROC leaves room for exactly one task besides main, starts one that allocates
// (a thread, a forked child, or /bin/true through posix_spawn), waits for it, and starts
// another. memtrace's writer thread must not take that room: the program sees no EAGAIN it
// would not see plain. Needs root to change user (exit 77 otherwise).
//
//     thread_quota thread|fork|spawn
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "counted_churn.h"

static counts_t counts;

static void *worker(void *arg)
{
    counted_churn(&counts, 1000, 64, 10);
    return arg;
}

extern char **environ;

static int start_thread(void)
{
    pthread_t t;
    int rc = pthread_create(&t, NULL, worker, NULL);
    if (rc == 0)
        pthread_join(t, NULL);
    return rc;
}

/* The child's allocations are in its own log: the parent counts only its own. */
static int start_child(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return errno;
    if (pid == 0) {
        counts_t mine = {0, 0, 0};
        counted_churn(&mine, 100, 64, 10);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : ECHILD;
}

static int start_program(void)
{
    char *argv[] = {"/bin/true", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
    if (rc != 0)
        return rc;
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : ECHILD;
}

static int start_and_wait(const char *how, const char *which)
{
    int rc = strcmp(how, "fork") == 0    ? start_child()
             : strcmp(how, "spawn") == 0 ? start_program()
                                         : start_thread();
    if (rc != 0) {
        printf("thread_quota: %s %s: %s\n", which, how, strerror(rc));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "thread";
    if (geteuid() != 0)
        return 77;
    /* a user with no other process (tests run side by side), so that the count is ours */
    uid_t uid = 50000 + (uid_t)getpid() % 10000;
    struct rlimit two = {2, 2};
    if (setrlimit(RLIMIT_NPROC, &two) != 0 || setresgid(uid, uid, uid) != 0 ||
        setresuid(uid, uid, uid) != 0) {
        perror("thread_quota: setting up");
        return 2;
    }
    counted_churn(&counts, 100, 32, 5);
    int failed = start_and_wait(how, "first") + start_and_wait(how, "second");
    printf("hostile: mallocs=%lu frees=%lu leaked=%lu\n", counts.mallocs, counts.frees,
           counts.leaked);
    return failed;
}

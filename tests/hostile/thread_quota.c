// SPDX-License-Identifier: MIT
// A program that starts threads up to its limit: it runs as an unprivileged user whose
// RLIMIT_NPROC leaves room for exactly one thread besides main, starts one that allocates,
// joins it, and starts another. memtrace's writer thread must not take that room: the program
// sees no EAGAIN it would not see plain. Needs root to change user (exit 77 otherwise).
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "counted_churn.h"

enum { QUOTA_UID = 54321 }; /* a user with no other process, so the count is ours */

static counts_t counts;

static void *worker(void *arg)
{
    counted_churn(&counts, 1000, 64, 10);
    return arg;
}

static int start_and_join(const char *which)
{
    pthread_t t;
    int rc = pthread_create(&t, NULL, worker, NULL);
    if (rc != 0) {
        printf("thread_quota: %s thread: %s\n", which, strerror(rc));
        return 1;
    }
    pthread_join(t, NULL);
    return 0;
}

int main(void)
{
    if (geteuid() != 0)
        return 77;
    struct rlimit two = {2, 2};
    if (setrlimit(RLIMIT_NPROC, &two) != 0 || setresgid(QUOTA_UID, QUOTA_UID, QUOTA_UID) != 0 ||
        setresuid(QUOTA_UID, QUOTA_UID, QUOTA_UID) != 0) {
        perror("thread_quota: setting up");
        return 2;
    }
    int failed = start_and_join("first") + start_and_join("second");
    printf("hostile: mallocs=%lu frees=%lu leaked=%lu\n", counts.mallocs, counts.frees,
           counts.leaked);
    return failed;
}

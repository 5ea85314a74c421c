// SPDX-License-Identifier: MIT
// A daemon that confines itself: chroot into an empty directory (no /proc there), then main
// leaves with pthread_exit while a worker allocates, and the process ends when the worker
// does. Run as root (chroot needs CAP_SYS_CHROOT); prints "skip" otherwise.
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "counted_churn.h"

static counts_t counts;

static void *worker(void *arg)
{
    (void)arg;
    usleep(50000); /* after main has left */
    counted_churn(&counts, 20000, 48, 100);
    printf("hostile: mallocs=%lu frees=%lu leaked=%lu\n", counts.mallocs, counts.frees,
           counts.leaked);
    fflush(stdout);
    return NULL;
}

static void *nothing(void *arg)
{
    pthread_exit(arg); /* loads libgcc_s for pthread_exit while the library is still there */
}

int main(int argc, char **argv)
{
    if (argc < 2 || (mkdir(argv[1], 0755) != 0 && errno != EEXIST))
        return 2;
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0)
        return 3;
    counted_churn(&counts, 10000, 32, 100);
    if (chroot(argv[1]) != 0 || chdir("/") != 0) {
        printf("skip: chroot: %s\n", strerror(errno));
        return 0;
    }
    counted_churn(&counts, 10000, 40, 100);
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 4;
    printf("main leaves\n");
    fflush(stdout);
    pthread_exit(NULL);
}

// SPDX-License-Identifier: MIT
// Following the root's logs during `memtrace run` (see run_follow.h).
#include "run_follow.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "log_format.h"
#include "run_manifest.h"

/* How long the follower sleeps when it has caught up with the writer: 10 ms while events come
 * in, doubling up to 320 ms while nothing does (an idle server, a program that wrote no log).
 * The program's exit wakes it at once. */
#define MT_FOLLOW_POLL_MIN_NS (10 * 1000 * 1000LL)
#define MT_FOLLOW_POLL_MAX_NS (320 * 1000 * 1000LL)
/* Below the program's priority: on a busy machine the program gets the CPU first. */
#define MT_FOLLOW_NICE 10

typedef struct mt_followed {
    char *path;
    mt_summary_t sum;
} mt_followed_t;

struct mt_run_follower {
    pthread_t thread;
    char *manifest;
    long root;
    int ended;           /* atomic: the program has ended, its logs are complete */
    int final_pass;      /* this log has been read once more since `ended` was seen */
    long long poll_ns;   /* the current nap length */
    uint64_t last_bytes; /* of the log, at the last nap */
    bool joined;
    mt_followed_t *logs; /* logs read to their end, in the order of the exec chain */
    size_t nlogs;
    /* Wakes the thread at once when the program ends instead of at the next poll. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static bool mt_follow_ended(mt_run_follower_t *f)
{
    return __atomic_load_n(&f->ended, __ATOMIC_ACQUIRE);
}

static long long mt_follow_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Sleeps one poll interval or until the program ends; idle: nothing came in since the last
 * nap, which makes this one twice as long. */
static void mt_follow_nap(mt_run_follower_t *f, bool idle)
{
    if (idle && f->poll_ns)
        f->poll_ns =
            f->poll_ns * 2 < MT_FOLLOW_POLL_MAX_NS ? f->poll_ns * 2 : MT_FOLLOW_POLL_MAX_NS;
    else
        f->poll_ns = MT_FOLLOW_POLL_MIN_NS;
    long long end = mt_follow_now_ns() + f->poll_ns;
    struct timespec until = {(time_t)(end / 1000000000LL), (long)(end % 1000000000LL)};
    pthread_mutex_lock(&f->mu);
    while (!mt_follow_ended(f) && pthread_cond_timedwait(&f->cv, &f->mu, &until) == 0)
        ;
    pthread_mutex_unlock(&f->mu);
}

/* mt_follow_fn: a read came up short. Once the program has ended the file is complete, but
 * the short read may have come before its last write: read once more, then it is the end. */
static int mt_follow_wait(void *arg, uint64_t bytes_read)
{
    mt_run_follower_t *f = arg;
    if (mt_follow_ended(f)) {
        if (f->final_pass)
            return 0;
        f->final_pass = 1;
        return 1;
    }
    mt_follow_nap(f, bytes_read == f->last_bytes);
    f->last_bytes = bytes_read;
    return 1;
}

/* Waits until the root lists its n-th log; NULL when the program ended without one. */
static char *mt_follow_wait_for_log(mt_run_follower_t *f, size_t n)
{
    for (;;) {
        bool ended = mt_follow_ended(f); /* before reading: the last look must be complete */
        char *path = mt_run_manifest_nth_log(f->manifest, f->root, n);
        if (path || ended)
            return path;
        mt_follow_nap(f, true);
    }
}

static bool mt_follow_keep(mt_run_follower_t *f, char *path, const mt_summary_t *sum)
{
    mt_followed_t *n = realloc(f->logs, (f->nlogs + 1) * sizeof *n);
    if (!n)
        return false;
    f->logs = n;
    f->logs[f->nlogs++] = (mt_followed_t){path, *sum};
    return true;
}

static void *mt_follow_main(void *arg)
{
    mt_run_follower_t *f = arg;
    /* Linux: the nice value is per thread, and the reader's own thread inherits it. */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), MT_FOLLOW_NICE);
    for (size_t n = 0;; n++) {
        char *path = mt_follow_wait_for_log(f, n);
        if (!path)
            break;
        mt_summary_t sum;
        char err[512];
        f->final_pass = 0;
        f->last_bytes = 0;
        /* A log it cannot read is left to the serial path, which reports the error. */
        if (mt_summary_follow(path, mt_follow_wait, f, &sum, err, sizeof err) < 0 ||
            !mt_follow_keep(f, path, &sum)) {
            free(path);
            break;
        }
        if (sum.exit_reason != MT_EXIT_EXEC)
            break;
    }
    return NULL;
}

mt_run_follower_t *mt_run_follow_start(const char *manifest, pid_t root)
{
    mt_run_follower_t *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->root = (long)root;
    f->manifest = strdup(manifest);
    if (!f->manifest || pthread_mutex_init(&f->mu, NULL) != 0) {
        free(f->manifest);
        free(f);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        goto fail_mutex;
    /* Signals are for the main thread, which forwards them to the program. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&f->thread, NULL, mt_follow_main, f);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        return f;
    pthread_cond_destroy(&f->cv);
fail_mutex:
    pthread_mutex_destroy(&f->mu);
    free(f->manifest);
    free(f);
    return NULL;
}

void mt_run_follow_finish(mt_run_follower_t *f)
{
    if (!f || f->joined)
        return;
    pthread_mutex_lock(&f->mu);
    __atomic_store_n(&f->ended, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    f->joined = true;
}

bool mt_run_follow_result(const mt_run_follower_t *f, const char *path, mt_summary_t *out)
{
    for (size_t i = 0; f && i < f->nlogs; i++) {
        if (strcmp(f->logs[i].path, path) == 0) {
            *out = f->logs[i].sum;
            return true;
        }
    }
    return false;
}

void mt_run_follow_free(mt_run_follower_t *f)
{
    if (!f)
        return;
    mt_run_follow_finish(f);
    for (size_t i = 0; i < f->nlogs; i++)
        free(f->logs[i].path);
    free(f->logs);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f->manifest);
    free(f);
}

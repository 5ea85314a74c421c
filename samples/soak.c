// SPDX-License-Identifier: MIT
// A long-running program in a steady state, for tests/soak.sh: 4 threads keep 2000 blocks each
// and replace one at random, 16 times a millisecond, until SECONDS pass, and a short-lived
// thread is started and joined every few thousand calls. Its heap stays flat, so any growth of the
// process's resident memory after warm-up is the recorder's. It measures its own VmRSS (read with
// open/read into a stack buffer: no allocation) every 100 ms and prints, at the end:
//   soak: seconds=S calls=N rss_kib warm=W end=E max=M
// where W is VmRSS at the end of the warm-up (WARMUP seconds), E at the end, M the maximum
// after warm-up.
//
//   usage: soak [SECONDS [WARMUP]]      (defaults 180 and 30)
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 4
#define SLOTS 2000

static volatile int stop;
static uint64_t calls[WORKERS];

/* A field of /proc/self/status in KiB ("VmRSS:", "VmSize:"), or -1. */
static long status_kib(const char *field)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    const char *p = strstr(buf, field);
    return p ? strtol(p + strlen(field), NULL, 10) : -1;
}

static void *short_lived(void *arg)
{
    free(malloc((size_t)(uintptr_t)arg));
    return NULL;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    void *slots[SLOTS] = {0};
    uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
    uint64_t n = 0;
    while (!stop) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        size_t i = (size_t)(rng >> 20) % SLOTS;
        free(slots[i]);
        slots[i] = malloc(16 + (size_t)(rng % 4096));
        n += 2;
        if (n % 32 == 0) { /* about 64,000 calls a second in all: a log of tens of MB */
            struct timespec d = {0, 1000000};
            nanosleep(&d, NULL);
        }
        if (n % 8192 == 0) {
            pthread_t t;
            if (pthread_create(&t, NULL, short_lived, (void *)(uintptr_t)64) == 0)
                pthread_join(t, NULL);
        }
    }
    for (size_t i = 0; i < SLOTS; i++)
        free(slots[i]);
    calls[id] = n;
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 180, warmup = argc > 2 ? atof(argv[2]) : 30;
    if (seconds <= 0 || warmup < 0 || warmup >= seconds) {
        fprintf(stderr, "usage: soak [SECONDS [WARMUP]] (WARMUP < SECONDS)\n");
        return 2;
    }
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    double start = now_s();
    long warm = -1, max = 0, last = 0, vwarm = -1, vmax = 0, vlast = 0;
    for (;;) {
        struct timespec d = {0, 100000000};
        nanosleep(&d, NULL);
        double t = now_s() - start;
        last = status_kib("VmRSS:");
        vlast = status_kib("VmSize:");
        if (t >= warmup) {
            if (warm < 0)
                warm = last, vwarm = vlast;
            if (last > max)
                max = last;
            if (vlast > vmax)
                vmax = vlast;
        }
        if (t >= seconds)
            break;
    }
    stop = 1;
    uint64_t total = 0;
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(th[i], NULL);
        total += calls[i];
    }
    printf("soak: seconds=%.0f calls=%llu rss_kib warm=%ld end=%ld max=%ld "
           "vmsize_kib warm=%ld end=%ld max=%ld\n",
           seconds, (unsigned long long)total, warm, last, max, vwarm, vlast, vmax);
    return 0;
}

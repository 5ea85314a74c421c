// SPDX-License-Identifier: MIT
// Three phases apart in time, for the time windows (--from/--to) and their integration test:
//   keep  (phase 1) allocates 100 blocks of 1000 bytes and keeps them to the end;
//   churn (phase 2) allocates 200 blocks of 2000 bytes, then frees them all;
//   leak  (phase 3) allocates 50 blocks of 3000 bytes and never frees them.
// Each phase prints when it began and ended, CLOCK_REALTIME in nanoseconds (the clock of the
// log header's start time), and 300 ms of sleep separate the phases, so a window from 100 ms
// before a phase to 100 ms after it holds that phase and nothing else, however slow the
// machine. No stdio: the lines go through write(2) from a stack buffer, so nothing but the
// phases allocates and the totals are exact:
//   memtrace-phase: N start_ns=T end_ns=T
//   memtrace-sample: allocations=350 frees=200 leaked_bytes=250000 leaked_blocks=150
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void *volatile sample_sink;
static void *kept[100], *leaked[50];

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Appends the decimal v at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
    char d[24];
    int n = 0;
    do
        d[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        *p++ = d[--n];
    return p;
}

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static void say_phase(int n, uint64_t start, uint64_t end)
{
    char buf[128], *p = buf;
    p = put_str(p, "memtrace-phase: ");
    p = put_u64(p, (uint64_t)n);
    p = put_str(p, " start_ns=");
    p = put_u64(p, start);
    p = put_str(p, " end_ns=");
    p = put_u64(p, end);
    *p++ = '\n';
    if (write(STDOUT_FILENO, buf, (size_t)(p - buf)) < 0)
        _exit(1);
}

__attribute__((noinline)) static void phase_keep(void)
{
    for (int i = 0; i < 100; i++)
        kept[i] = malloc(1000);
}

__attribute__((noinline)) static void phase_churn(void)
{
    void *v[200];
    for (int i = 0; i < 200; i++)
        v[i] = malloc(2000);
    for (int i = 0; i < 200; i++)
        free(v[i]);
}

__attribute__((noinline)) static void phase_leak(void)
{
    for (int i = 0; i < 50; i++)
        leaked[i] = malloc(3000);
    sample_sink = leaked[49];
    for (int i = 0; i < 50; i++)
        leaked[i] = NULL; /* lost: a definite leak under --leak-check */
}

int main(void)
{
    void (*const phases[3])(void) = {phase_keep, phase_churn, phase_leak};
    pause_ms(300);
    for (int n = 0; n < 3; n++) {
        uint64_t start = now_ns();
        phases[n]();
        uint64_t end = now_ns();
        say_phase(n + 1, start, end);
        pause_ms(300);
    }
    sample_sink = kept[0];
    static const char line[] =
        "memtrace-sample: allocations=350 frees=200 leaked_bytes=250000 leaked_blocks=150\n";
    if (write(STDOUT_FILENO, line, sizeof line - 1) < 0)
        return 1;
    return 0;
}

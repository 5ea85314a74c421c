// SPDX-License-Identifier: MIT
// A program with a known heap peak, for `memtrace peak` and its integration test.
// churn() runs twice and allocates far more in total (2 x 2000 x 4 KiB) but frees each block at
// once, so it never holds more than 4 KiB; hold_buffers() then holds 64 blocks of 1000 + 16 * i
// bytes at once (96,256 bytes): that is the peak, and hold_buffers the only site holding it.
// No stdio and nothing else allocates before the peak (the result line goes through write(2)
// from a stack buffer), so the peak total is exactly the sum printed:
//   memtrace-peak: peak_bytes=96256 site=hold_buffers churn_bytes=16384000
// An optional argument N (1..256) holds N blocks instead of 64, for `memtrace diff` tests:
// the peak is then the sum of 1000 + 16 * i for i < N (N = 96: 168,960 bytes).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOLD_N 64
#define HOLD_MAX 256
#define CHURN_N 2000
#define CHURN_SIZE 4096

void *volatile sample_sink;

__attribute__((noinline)) static size_t churn(void)
{
    size_t total = 0;
    for (int i = 0; i < CHURN_N; i++) {
        char *p = malloc(CHURN_SIZE);
        memset(p, 'c', CHURN_SIZE);
        sample_sink = p;
        free(p);
        total += CHURN_SIZE;
    }
    return total;
}

__attribute__((noinline)) static size_t hold_buffers(void **held, int hold_n)
{
    size_t total = 0;
    for (int i = 0; i < hold_n; i++) {
        size_t n = 1000 + 16 * (size_t)i;
        held[i] = malloc(n);
        memset(held[i], 'h', n);
        total += n;
    }
    return total;
}

__attribute__((noinline)) static void release(void **held, int hold_n)
{
    for (int i = 0; i < hold_n; i++)
        free(held[i]);
}

int main(int argc, char **argv)
{
    void *held[HOLD_MAX];
    int hold_n = HOLD_N;
    if (argc > 1) { /* by hand: strtol could touch the locale, which may allocate */
        hold_n = 0;
        for (const char *p = argv[1]; *p >= '0' && *p <= '9' && hold_n <= HOLD_MAX; p++)
            hold_n = hold_n * 10 + (*p - '0');
        if (hold_n < 1 || hold_n > HOLD_MAX)
            return 2;
    }
    size_t churned = churn();
    size_t peak = hold_buffers(held, hold_n);
    release(held, hold_n);
    churned += churn(); /* after the peak too: still never more than one block */
    char line[256];
    int n = snprintf(line, sizeof line,
                     "memtrace-peak: peak_bytes=%zu site=hold_buffers churn_bytes=%zu\n"
                     "memtrace-sample: allocations=%d frees=%d leaked_bytes=0 leaked_blocks=0\n",
                     peak, churned, hold_n + 2 * CHURN_N, hold_n + 2 * CHURN_N);
    if (write(STDOUT_FILENO, line, (size_t)n) != n)
        return 1;
    return 0;
}

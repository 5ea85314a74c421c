// SPDX-License-Identifier: MIT
// A program with a known heap peak, for `memtrace peak` and its integration test.
// churn() runs twice and allocates far more in total (2 x 2000 x 4 KiB) but frees each block at
// once, so it never holds more than 4 KiB; hold_buffers() then holds 64 blocks of 1000 + 16 * i
// bytes at once (96,256 bytes): that is the peak, and hold_buffers the only site holding it.
// No stdio and nothing else allocates before the peak (the result line goes through write(2)
// from a stack buffer), so the peak total is exactly the sum printed:
//   memtrace-peak: peak_bytes=96256 site=hold_buffers churn_bytes=16384000
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOLD_N 64
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

__attribute__((noinline)) static size_t hold_buffers(void **held)
{
    size_t total = 0;
    for (int i = 0; i < HOLD_N; i++) {
        size_t n = 1000 + 16 * (size_t)i;
        held[i] = malloc(n);
        memset(held[i], 'h', n);
        total += n;
    }
    return total;
}

__attribute__((noinline)) static void release(void **held)
{
    for (int i = 0; i < HOLD_N; i++)
        free(held[i]);
}

int main(void)
{
    void *held[HOLD_N];
    size_t churned = churn();
    size_t peak = hold_buffers(held);
    release(held);
    churned += churn(); /* after the peak too: still never more than one block */
    char line[256];
    int n = snprintf(line, sizeof line,
                     "memtrace-peak: peak_bytes=%zu site=hold_buffers churn_bytes=%zu\n"
                     "memtrace-sample: allocations=%d frees=%d leaked_bytes=0 leaked_blocks=0\n",
                     peak, churned, HOLD_N + 2 * CHURN_N, HOLD_N + 2 * CHURN_N);
    if (write(STDOUT_FILENO, line, (size_t)n) != n)
        return 1;
    return 0;
}

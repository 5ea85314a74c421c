// SPDX-License-Identifier: MIT
// Leak check with threads still running at exit: four workers each hold a 1000-byte block
// only in a local variable and keep running (two spin, two sleep in a system call) while main
// leaks one 500-byte block and returns. The workers' blocks must be reachable (their stacks
// and registers are roots), the 500 bytes definitely lost, and the exit must not hang.
//   memtrace-leak-threads: definite=500/1 worker_blocks=4000/4
//   memtrace-sample: allocations=5 frees=0 leaked_bytes=4500 leaked_blocks=5 (its own calls;
//   glibc's pthread_create adds one TLS block per thread)
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int started;

static void *worker(void *arg)
{
    char *volatile mine = malloc(1000);
    memset(mine, 3, 1000);
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    if ((long)arg % 2)
        for (;;)
            mine[0]++; /* busy: the pointer may live in a register only */
    for (;;)
        pause();
    return NULL;
}

__attribute__((noinline)) static void lose(void)
{
    char *volatile p = malloc(500);
    memset(p, 4, 500);
}

__attribute__((noinline)) static void clobber_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
}

int main(void)
{
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
            return 1;
    while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < 4)
        usleep(1000);
    lose();
    clobber_stack();
    char line[192];
    int n = snprintf(line, sizeof line,
                     "memtrace-leak-threads: definite=%d/%d worker_blocks=%d/%d\n"
                     "memtrace-sample: allocations=5 frees=0 leaked_bytes=4500 leaked_blocks=5\n",
                     500, 1, 4000, 4);
    return write(1, line, (size_t)n) == n ? 0 : 1;
}

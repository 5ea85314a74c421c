// SPDX-License-Identifier: MIT
// Threads still running at exit: what their stacks point to is reachable; a block a running
// thread dropped is lost.
// memtrace-vs-valgrind: expected-fail: issue 13 item 2
// memtrace-vs-valgrind: expected-fail: memtrace bug found by the corpus: memtrace's malloc hook
// returns with the new block's address left in r8, so a thread that blocks in a system call right
// after malloc keeps the block it dropped reachable through a register (gdb under memtrace: r8 ==
// the 11-byte block at pause's syscall; natively no register holds it)
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static volatile int started;

static void *sleeper(void *arg)
{
    void *volatile held = malloc((size_t)(uintptr_t)arg);
    void *volatile dropped = malloc(11);
    dropped = NULL;
    __sync_fetch_and_add(&started, 1);
    for (;;)
        pause();
    (void)held;
    return NULL;
}

int main(void)
{
    pthread_t t;
    for (uintptr_t i = 1; i <= 3; i++)
        if (pthread_create(&t, NULL, sleeper, (void *)(i * 1000)) != 0)
            return 1;
    while (started < 3)
        usleep(1000);
    return 0;
}

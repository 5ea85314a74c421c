// SPDX-License-Identifier: MIT
// main ends with pthread_exit, then the last worker returns: the process's exit handlers run
// in whichever thread is last, under memtrace its writer thread (record/timer.c). The handler
// here recurses through 3 MiB of stack, as deep exit handlers and destructors may on a thread
// of the default size (8 MiB), and allocates at the bottom. memtrace's writer runs on a 256 KiB
// stack of its own: the handlers must get a stack of the usual size.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FRAME (16 << 10)
#define DEPTH 192 /* 3 MiB */
#define HANDLER_BLOCKS 100
#define HANDLER_KEPT 10
#define WORKER_BLOCKS 10

static int mallocs, frees;
static void *kept[HANDLER_KEPT];

__attribute__((noinline)) static void *take(size_t n)
{
    mallocs++;
    return malloc(n);
}

__attribute__((noinline)) static void give(void *p)
{
    frees++;
    free(p);
}

__attribute__((noinline)) static unsigned long descend(int depth)
{
    volatile unsigned char frame[FRAME];
    memset((void *)frame, depth & 0xff, sizeof frame);
    if (depth == DEPTH) {
        for (int i = 0; i < HANDLER_BLOCKS; i++) {
            void *p = take(100);
            if (i < HANDLER_KEPT)
                kept[i] = p;
            else
                give(p);
        }
        return 1;
    }
    return descend(depth + 1) + frame[depth % FRAME];
}

static void deep_handler(void)
{
    unsigned long sum = descend(1);
    printf("handler: %lu\n", sum);
    printf("hostile: mallocs=%d frees=%d leaked=%d\n", mallocs, frees, HANDLER_KEPT * 100);
}

static void *worker(void *arg)
{
    (void)arg;
    usleep(50000);
    for (int i = 0; i < WORKER_BLOCKS; i++)
        give(take(200));
    return NULL;
}

int main(void)
{
    if (atexit(deep_handler) != 0)
        return 1;
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 1;
    printf("main: pthread_exit\n");
    fflush(stdout);
    pthread_exit(NULL);
}

// SPDX-License-Identifier: MIT
// exec failing again and again while two other threads allocate without pause: the exec hook
// must get the log's end written in bounded time however busy the others are, and take it
// back each time, with every event of every thread kept (issue 19, item 9).
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ITER 300000
#define EXECS 50

void *volatile sink;

static void *allocator(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITER; i++) {
        void *p = malloc(40);
        sink = p;
        free(p);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, allocator, NULL) != 0)
            return 2;
    char *const args[] = {"x", NULL};
    int failed = 0;
    for (int i = 0; i < EXECS; i++)
        failed += execv("/nonexistent/program", args) == -1 && errno == ENOENT;
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("hostile: execs_failed=%d mallocs=%d frees=%d leaked=0\n", failed, 2 * ITER, 2 * ITER);
    return failed == EXECS ? 0 : 1;
}

// SPDX-License-Identifier: MIT
// fork() while four threads allocate without pause: some fork lands while another thread is
// inside memtrace's hooks (holding the recorder's lock, or the writer's). Each child allocates
// twice, frees once and calls _exit(7); it must neither deadlock nor lose its events.
//
//   usage: fork_threads FORKS
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop;

static void *spin(void *arg)
{
    (void)arg;
    while (!stop) {
        void *volatile p = malloc(100);
        free(p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int forks = argc > 1 ? atoi(argv[1]) : 50, bad = 0;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, spin, NULL);
    for (int i = 0; i < forks; i++) {
        pid_t c = fork();
        if (c == 0) {
            void *volatile p = malloc(1000);
            free(p);
            p = malloc(33);
            _exit(p ? 7 : 1);
        }
        int st;
        if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
            bad++;
    }
    stop = 1;
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("fork_threads: forks=%d bad=%d\n", forks, bad);
    return bad != 0;
}

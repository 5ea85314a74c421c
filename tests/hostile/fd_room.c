// SPDX-License-Identifier: MIT
// A program that counts on its descriptor numbers and on all of its RLIMIT_NOFILE: its first
// open() gets 3; under a limit of 8 it opens files until EMFILE (4 more), forks a child that
// allocates with every descriptor in use, then closes one and dlopen()s a library with it.
// memtrace's log took the lowest free number (the program's first file got 4, it could open
// one file fewer, the child could not create its log, the dlopen failed with EMFILE).
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIMIT 8
#define BLOCKS 100
#define KEPT 10

__attribute__((noinline)) static void *take(size_t n)
{
    return malloc(n);
}

static int child(void)
{
    void *p[BLOCKS];
    for (int i = 0; i < BLOCKS; i++)
        p[i] = take(64);
    for (int i = KEPT; i < BLOCKS; i++)
        free(p[i]);
    printf("hostile: mallocs=%d frees=%d leaked=%d\n", BLOCKS, BLOCKS - KEPT, KEPT * 64);
    fflush(stdout);
    return 0;
}

int main(void)
{
    int first = open("/dev/null", O_RDONLY);
    printf("first fd %d\n", first);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max < LIMIT + 4)
        return 2;
    rl.rlim_cur = LIMIT;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 3;
    int opened = 0, last = -1, fd;
    while ((fd = open("/dev/null", O_RDONLY)) >= 0) {
        last = fd;
        opened++;
    }
    printf("opened %d more, up to %d\n", opened, last);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child());
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return 4;
    printf("child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    close(last);
    void *lib = dlopen("libanl.so.1", RTLD_NOW);
    printf("dlopen %s\n", lib ? "ok" : dlerror());
    return 0;
}

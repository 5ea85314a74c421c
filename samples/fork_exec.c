// SPDX-License-Identifier: MIT
// fork and exec under memtrace: the parent allocates, forks a child that allocates a known amount
// and leaves with _exit() (as forked children do), then forks a second child that execs
// /bin/true. Each process gets its own log.
//
// Ground truth, one line per process (the child prints its own line before _exit):
//   parent: memtrace-sample: allocations=3 frees=1 leaked_bytes=3072 leaked_blocks=2
//           (malloc 1024 kept, malloc 2048 kept, malloc 512 freed)
//   child:  memtrace-sample-child: allocations=10 frees=4 leaked_bytes=6000 leaked_blocks=6
//           (10 x malloc(1000), 4 freed, then _exit(0): its log must still be complete)
//   exec'd child: /bin/true, recorded into a third log that ends normally; the forked image
//           before exec ends with EXIT reason EXEC.
// Output uses write(2) from stack buffers, so stdio allocates nothing.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void *volatile sample_sink;

static void say(const char *text)
{
    ssize_t r = write(1, text, strlen(text));
    (void)r;
}

__attribute__((noinline)) static void child_work(void)
{
    void *keep[10];
    for (int i = 0; i < 10; i++)
        keep[i] = malloc(1000);
    for (int i = 0; i < 4; i++)
        free(keep[i]);
    sample_sink = keep[9];
    say("memtrace-sample-child: allocations=10 frees=4 leaked_bytes=6000 leaked_blocks=6\n");
    _exit(0);
}

int main(void)
{
    sample_sink = malloc(1024);
    sample_sink = malloc(2048);
    void *tmp = malloc(512);
    free(tmp);
    pid_t pid = fork();
    if (pid == 0)
        child_work();
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    pid_t ex = fork();
    if (ex == 0) {
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    if (ex > 0)
        waitpid(ex, &status, 0);
    say("memtrace-sample: allocations=3 frees=1 leaked_bytes=3072 leaked_blocks=2\n");
    return 0;
}

// SPDX-License-Identifier: MIT
// A make-like process tree with known figures. One binary in three roles, chosen by the name
// it is started as (the test links "worker" and "chain" to it, so the logs are named after
// them, as %e names a symlinked redis-server or gcc):
//   proc_tree          the parent: keeps one block of 4,096 bytes and starts
//                      A: fork + exec DIR/worker 300000
//                      B: posix_spawn DIR/worker 2000000 (no fork log: glibc's vfork-like clone)
//                      C: fork + exec DIR/chain 500000, which execs DIR/worker 500000
//                      and waits for each; it holds its 4,096 bytes at exit.
//   worker N           allocates N / 100,000 blocks of 100,000 bytes (peak N), frees the first,
//                      exits holding N - 100,000.
//   chain N            allocates 50,000 bytes, then execs DIR/worker N.
// So the run has 4 processes and 7 logs: the parent; A's fork image and worker; B's worker;
// C's fork image, chain and worker. Each process prints one line with its own figures:
//   memtrace-proc: role=R pid=P ppid=Q peak=X held=Y held_blocks=Z allocations=N frees=M
// Each program is started as DIR/NAME (argv[0] too, as a shell passes what was typed), so that
// it finds the others. Output uses write(2) from stack buffers, so stdio allocates nothing.
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLOCK 100000
#define CHAIN_BLOCK 50000
#define PARENT_BLOCK 4096

extern char **environ;
void *volatile sample_sink;

static void say(const char *role, long peak, long held, long blocks, long allocs, long frees)
{
    char line[256];
    int n = snprintf(line, sizeof line,
                     "memtrace-proc: role=%s pid=%ld ppid=%ld peak=%ld held=%ld held_blocks=%ld "
                     "allocations=%ld frees=%ld\n",
                     role, (long)getpid(), (long)getppid(), peak, held, blocks, allocs, frees);
    ssize_t r = write(1, line, (size_t)n);
    (void)r;
}

/* The site the biggest process's report must show. */
__attribute__((noinline)) static void worker_alloc(void **blocks, long n)
{
    for (long i = 0; i < n; i++)
        blocks[i] = malloc(BLOCK);
}

static int worker(long bytes)
{
    static void *blocks[1000];
    long n = bytes / BLOCK;
    if (n < 1 || n > 1000)
        return 2;
    worker_alloc(blocks, n);
    free(blocks[0]);
    sample_sink = blocks[n - 1];
    say("worker", bytes, bytes - BLOCK, n - 1, n, 1);
    return 0;
}

static int chain(const char *dir, const char *arg)
{
    sample_sink = malloc(CHAIN_BLOCK);
    say("chain", CHAIN_BLOCK, CHAIN_BLOCK, 1, 1, 0);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/worker", dir);
    execl(path, path, arg, (char *)NULL);
    return 127;
}

static pid_t fork_exec(const char *dir, const char *name, const char *arg)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    pid_t pid = fork();
    if (pid == 0) {
        execl(path, path, arg, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static pid_t spawn(const char *dir, const char *name, const char *arg)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *argv[] = {path, (char *)arg, NULL};
    pid_t pid;
    return posix_spawn(&pid, path, NULL, NULL, argv, environ) == 0 ? pid : -1;
}

static int parent(const char *dir)
{
    sample_sink = malloc(PARENT_BLOCK);
    pid_t kids[3] = {fork_exec(dir, "worker", "300000"), spawn(dir, "worker", "2000000"),
                     fork_exec(dir, "chain", "500000")};
    int failed = 0;
    for (int i = 0; i < 3; i++) {
        int status = 1;
        if (kids[i] <= 0 || waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            failed = 1;
    }
    say("parent", PARENT_BLOCK, PARENT_BLOCK, 1, 1, 0);
    return failed;
}

int main(int argc, char **argv)
{
    const char *slash = strrchr(argv[0], '/');
    const char *name = slash ? slash + 1 : argv[0];
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - argv[0]) : 1, slash ? argv[0] : ".");
    if (strcmp(name, "worker") == 0 && argc == 2)
        return worker(atol(argv[1]));
    if (strcmp(name, "chain") == 0 && argc == 2)
        return chain(dir, argv[1]);
    return parent(dir);
}

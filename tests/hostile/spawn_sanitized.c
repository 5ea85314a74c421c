// SPDX-License-Identifier: MIT
// A test runner that starts a program built with gcc's AddressSanitizer (sanitized_child) by
// posix_spawn, posix_spawnp, fork + execv and vfork + execv. Plain, each run prints a line and
// exits 0. Under memtrace each must too: with memtrace's library loaded before libasan, ASan
// aborts at start ("ASan runtime does not come first"), so memtrace runs it without itself.
//
//     spawn_sanitized DIR     (DIR holds sanitized_child; it is put in PATH for posix_spawnp)
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int waited(pid_t pid)
{
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run(const char *how, const char *path)
{
    char *argv[] = {"sanitized_child", (char *)how, NULL};
    pid_t pid = -1;
    fflush(stdout);
    if (strcmp(how, "posix_spawn") == 0) {
        if (posix_spawn(&pid, path, NULL, NULL, argv, environ) != 0)
            pid = -1;
    } else if (strcmp(how, "posix_spawnp") == 0) {
        if (posix_spawnp(&pid, "sanitized_child", NULL, NULL, argv, environ) != 0)
            pid = -1;
    } else if (strcmp(how, "fork") == 0) {
        pid = fork();
        if (pid == 0) {
            execv(path, argv);
            _exit(127);
        }
    } else {
        pid = vfork();
        if (pid == 0) {
            execv(path, argv);
            _exit(127);
        }
    }
    int rc = waited(pid);
    printf("%s: exit %d\n", how, rc);
    return rc != 0;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    char path[4096];
    snprintf(path, sizeof path, "%s/sanitized_child", argv[1]);
    setenv("PATH", argv[1], 1);
    int failed = 0;
    const char *ways[] = {"posix_spawn", "posix_spawnp", "fork", "vfork"};
    for (size_t i = 0; i < sizeof ways / sizeof ways[0]; i++)
        failed += run(ways[i], path);
    return failed;
}

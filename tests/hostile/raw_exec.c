// SPDX-License-Identifier: MIT
// exec without execve's symbol: syscall(SYS_execve), syscall(SYS_execveat) and glibc's
// execveat (the system call itself). Each is tried once on a missing file first (the log's end
// is taken back and recording goes on), then replaces the image with this program again. The
// first image's log must end with its exec and hold exactly its allocations (it prints their
// counts); the second image prints a line and exits 4.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "counted_churn.h"

extern char **environ;

static counts_t counts;

static void churn(int n)
{
    counted_churn(&counts, n, 48, 5);
}

static int exec_by(const char *how, const char *path, char **args)
{
    if (strcmp(how, "syscall-execve") == 0)
        return (int)syscall(SYS_execve, path, args, environ);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (strcmp(how, "syscall-execveat") == 0)
        syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH);
    else
        execveat(fd, "", args, environ, AT_EMPTY_PATH);
    close(fd);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (argc > 2) {
        printf("raw_exec %s: the new image runs\n", argv[1]);
        return 4;
    }
    char *args[] = {argv[0], argv[1], "again", NULL};
    churn(20);
    if (exec_by(argv[1], "/nonexistent/raw_exec", args) == 0)
        return 3;
    churn(10);
    printf("hostile: %s mallocs=%lu frees=%lu leaked=%lu\n", argv[1], counts.mallocs, counts.frees,
           counts.leaked);
    fflush(stdout);
    exec_by(argv[1], "/proc/self/exe", args);
    perror("exec");
    return 1;
}

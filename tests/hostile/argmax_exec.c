// SPDX-License-Identifier: MIT
// exec with arguments that just fit: the largest arguments the kernel takes are found with the
// raw system call (no library hook sees it), then passed to execve. Under memtrace the exec
// must succeed just as it does plain, though the recorder adds a variable to the environment
// to link the two images' logs. argv[1] is a file the kernel refuses to run (ENOEXEC, the
// answer after the size check), argv[2] a program whose path has the same length.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

enum { NARGS = 16, ARG_MAX_ONE = 131071 };

static long raw_execve(const char *path, char **argv, char **envp)
{
    long rc;
    __asm__ volatile("syscall"
                     : "=a"(rc)
                     : "0"((long)SYS_execve), "D"(path), "S"(argv), "d"(envp)
                     : "rcx", "r11", "memory");
    return rc;
}

static char **args_of(const char *path, size_t size)
{
    char **av = calloc(NARGS + 2, sizeof *av);
    if (!av)
        exit(2);
    av[0] = (char *)path;
    for (int i = 1; i <= NARGS; i++) {
        av[i] = malloc(size + 1);
        if (!av[i])
            exit(2);
        memset(av[i], 'a' + i, size);
        av[i][size] = '\0';
    }
    return av;
}

static void args_free(char **av)
{
    for (int i = 1; i <= NARGS; i++)
        free(av[i]);
    free(av);
}

/* true when the kernel got past its size check for arguments of this size */
static int fits(const char *junk, size_t size)
{
    char **av = args_of(junk, size);
    long rc = raw_execve(junk, av, environ);
    args_free(av);
    if (rc != -ENOEXEC && rc != -E2BIG) {
        fprintf(stderr, "argmax_exec: raw execve: %s\n", strerror((int)-rc));
        exit(2);
    }
    return rc == -ENOEXEC;
}

int main(int argc, char **argv)
{
    if (argc != 3 || strlen(argv[1]) != strlen(argv[2]))
        return 2;
    size_t lo = 1, hi = ARG_MAX_ONE;
    if (!fits(argv[1], lo))
        return 2;
    while (lo + 1 < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fits(argv[1], mid))
            lo = mid;
        else
            hi = mid;
    }
    char **av = args_of(argv[1], lo);
    execve(argv[1], av, environ);
    printf("argmax_exec: at the edge, execve says %s\n", strerror(errno));
    fflush(stdout);
    av[0] = argv[2];
    execve(argv[2], av, environ);
    printf("argmax_exec: %s at the edge: %s\n", argv[2], strerror(errno));
    return 1;
}

// SPDX-License-Identifier: MIT
// exec failing for every reason the program can cause (a missing file, a directory, a file
// without execute permission, a bad format, a path through a file, a symlink loop, an
// argument list too long), each followed by allocations that must still be recorded (issue 19,
// item 9). Prints its own counts.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "counted_churn.h"

static counts_t counts;

static void churn(int n)
{
    counted_churn(&counts, n, 64, 4);
}

int main(int argc, char **argv)
{
    const char *tmp = argc > 1 ? argv[1] : "/tmp";
    char noexec[4096], badfmt[4096];
    snprintf(noexec, sizeof noexec, "%s/noexec", tmp);
    snprintf(badfmt, sizeof badfmt, "%s/badfmt", tmp);
    FILE *f = fopen(noexec, "w");
    fputs("#!/bin/sh\n", f);
    fclose(f);
    f = fopen(badfmt, "w");
    fputs("\x7f"
          "ELFgarbage",
          f);
    fclose(f);
    chmod(badfmt, 0755);
    char *const args[] = {"x", NULL};
    churn(10);
    int failed = 0;
    failed += execv("/nonexistent/program", args) == -1 && errno == ENOENT;
    churn(10);
    failed += execv(tmp, args) == -1 && errno == EACCES;
    churn(10);
    failed += execvp(noexec, args) == -1 && errno == EACCES;
    churn(10);
    failed += execl(badfmt, "x", (char *)NULL) == -1 && errno == ENOEXEC;
    churn(10);
    failed += execle("/nonexistent", "x", (char *)NULL, (char *[]){NULL}) == -1;
    churn(10);
    failed += execlp("no-such-program-anywhere", "x", (char *)NULL) == -1 && errno == ENOENT;
    churn(10);
    char notdir[4200], loop[4200];
    snprintf(notdir, sizeof notdir, "%s/x", noexec);
    failed += execv(notdir, args) == -1 && errno == ENOTDIR;
    churn(10);
    snprintf(loop, sizeof loop, "%s/loop", tmp);
    if (symlink(loop, loop) != 0)
        return 3;
    failed += execv(loop, args) == -1 && errno == ELOOP;
    churn(10);
    /* 64 MiB of arguments: over the kernel's limit (a quarter of the stack limit, at most) */
    size_t big = 64u << 20;
    char *huge = malloc(big);
    counts.mallocs++;
    memset(huge, 'a', big - 1);
    huge[big - 1] = '\0';
    char *const toolong[] = {"x", huge, NULL};
    failed += execv("/bin/true", toolong) == -1 && errno == E2BIG;
    free(huge);
    counts.frees++;
    churn(10);
    unlink(loop);
    unlink(noexec);
    unlink(badfmt);
    /* The C library's own blocks (stdio) are not counted: the test compares the program's. */
    printf("hostile: failed=%d mallocs=%lu frees=%lu leaked=%lu\n", failed, counts.mallocs,
           counts.frees, counts.leaked);
    return failed == 9 ? 0 : 1;
}

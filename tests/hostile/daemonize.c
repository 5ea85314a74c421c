// SPDX-License-Identifier: MIT
// Hostile: daemon(3). glibc's daemon forks and its parent leaves by libc's internal _exit,
// which no interposed function sees, so the parent's log lost its last events, the fork and
// its exit. The parent counts its own calls; the daemon frees what it inherited and allocates
// on. "noclose" keeps stdout (the daemon's line is then part of the output); without it the
// daemon's stdio goes to /dev/null, or daemon fails with ENODEV where /dev/null is no device.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int noclose = argc > 1 && strcmp(argv[1], "noclose") == 0;
    int mallocs = 0, frees = 0, leaked = 0;
    void *keep[10];
    for (int i = 0; i < 10; i++) {
        keep[i] = malloc(100 + i);
        mallocs++;
        leaked += 100 + i; /* bytes the parent leaves live at its exit */
    }
    for (int i = 0; i < 5; i++) {
        free(malloc(50));
        mallocs++;
        frees++;
    }
    printf("hostile: mallocs=%d frees=%d leaked=%d\n", mallocs, frees, leaked);
    fflush(stdout);
    if (daemon(1, noclose) != 0) {
        printf("daemon: %s\n", strerror(errno));
        return 3;
    }
    for (int i = 0; i < 10; i++)
        free(keep[i]);
    for (int i = 0; i < 20; i++)
        free(malloc(30));
    printf("the daemon freed what it inherited\n");
    return 0;
}

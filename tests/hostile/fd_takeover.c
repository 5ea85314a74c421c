// SPDX-License-Identifier: MIT
// A daemon-like start: every descriptor from 3 up closed (closefrom), then the low numbers
// taken over by a file of the program's own (dup2 onto 3..19) and the working directory
// changed, with allocations before, between and after. memtrace's log descriptor is among
// those closed, and its number is reused: the log must go on in the log file, never into the
// program's file, and the program's file must hold exactly what the program wrote.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static unsigned long mallocs, frees;

static void churn(int n)
{
    for (int i = 0; i < n; i++) {
        void *volatile p = malloc(64 + (size_t)(i % 200));
        mallocs++;
        free(p);
        frees++;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    void *keep[100];
    for (int i = 0; i < 100; i++) {
        keep[i] = malloc(100);
        mallocs++;
    }
    churn(20000);
    closefrom(3);
    churn(20000);
    int fd = open(argv[1], O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0)
        return 3;
    for (int i = 3; i < 20; i++)
        if (i != fd && dup2(fd, i) != i)
            return 4;
    if (chdir("/") != 0)
        return 5;
    churn(20000);
    for (int i = 3; i < 20; i++)
        if (write(i, "x", 1) != 1)
            return 6;
    for (int i = 0; i < 50; i++) {
        free(keep[i]);
        frees++;
    }
    printf("hostile: mallocs=%lu frees=%lu leaked=%lu\n", mallocs, frees, 50ul * 100);
    return 0;
}

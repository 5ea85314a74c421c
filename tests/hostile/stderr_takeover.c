// SPDX-License-Identifier: MIT
// A program that closes its standard error and opens a data file of its own, which takes
// descriptor 2 (the lowest free), writes to it, then limits file sizes (RLIMIT_FSIZE, 4 KiB)
// so that memtrace's log write fails and memtrace has something to say. What memtrace says
// must reach the user's standard error as it was when the program started, never the
// program's data file, which must hold exactly the program's two lines.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsize_churn.h"

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    close(2);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd != 2)
        return 3;
    const char *first = "program data 1\n", *second = "program data 2\n";
    if (write(2, first, strlen(first)) != (ssize_t)strlen(first))
        return 4;
    unsigned long mallocs, frees;
    if (fsize_churn(&mallocs, &frees) != 0)
        return 5;
    if (write(2, second, strlen(second)) != (ssize_t)strlen(second))
        return 6;
    printf("stderr_takeover: mallocs=%lu frees=%lu\n", mallocs, frees);
    return 0;
}

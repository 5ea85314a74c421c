// SPDX-License-Identifier: MIT
// Issue 13.1: a private file mapping longer than its (deleted) file. Reading the pages past the
// end raises SIGBUS; the leak scan must skip them and still see the pointer stored in the page
// that is backed. Valgrind: 64 B definitely lost, 32 B reachable (the pointer in the mapping).
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static void *lost;

int main(void)
{
    int fd = open("past_eof.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || unlink("past_eof.tmp") != 0 || ftruncate(fd, 100) != 0)
        return 10;
    void **m = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return 11;
    m[1] = malloc(32); /* in the first page, backed by the file: a root */
    lost = malloc(64);
    lost = NULL;
    return 0;
}

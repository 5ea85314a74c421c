// SPDX-License-Identifier: MIT
// A private file mapping longer than its (empty) file: touching it past the end raises SIGBUS,
// so the scan must not read it; the program's own leak is still reported.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
    void *volatile lost = malloc(58);
    lost = NULL;
    int fd = open("empty.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return 1;
    unlink("empty.tmp");
    return mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) == MAP_FAILED;
}

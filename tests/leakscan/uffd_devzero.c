// SPDX-License-Identifier: MIT
// Issue 13.1: a userfaultfd-registered mapping whose pages were never supplied (reading one
// waits for a fault handler that nobody runs: the scan must not touch it), and a private
// /dev/zero mapping holding a pointer (memory, scanned as memcheck does). 48 B reachable
// through /dev/zero, 32 B definitely lost. Prints "uffd on" or "uffd off" (not permitted).
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

static int register_uffd(void)
{
    /* Unprivileged userfaultfd (vm.unprivileged_userfaultfd=0) needs user-mode-only faults. */
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0)
        return 0;
    struct uffdio_api api = {.api = UFFD_API};
    if (ioctl(fd, UFFDIO_API, &api) != 0)
        return 0;
    void *area = mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED)
        return 0;
    struct uffdio_register reg = {.range = {(unsigned long)area, 2 * 4096},
                                  .mode = UFFDIO_REGISTER_MODE_MISSING};
    return ioctl(fd, UFFDIO_REGISTER, &reg) == 0;
}

int main(void)
{
    int fd = open("/dev/zero", O_RDWR);
    if (fd < 0)
        return 10;
    void **z = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (z == MAP_FAILED)
        return 11;
    z[3] = malloc(48);
    void *lost = malloc(32);
    lost = NULL;
    printf("uffd %s\n", register_uffd() ? "on" : "off");
    return lost != NULL;
}

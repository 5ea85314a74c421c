// SPDX-License-Identifier: MIT
// Issue 13.1: a private file mapping longer than its (deleted) file. Reading the pages past the
// end raises SIGBUS; the leak scan must skip them and still see the pointer stored in the page
// that is backed. Valgrind: 64 B definitely lost, 32 B reachable (the pointer in the mapping).
// With argv[1] = "seccomp", process_vm_readv is forbidden first (as some sandboxes do): the
// scan must find another way to tell the backed page from the others.
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *lost;

static int forbid_process_vm_readv(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof code / sizeof code[0], code};
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
           prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "seccomp") && forbid_process_vm_readv() != 0)
        return 12;
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

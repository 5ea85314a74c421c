// SPDX-License-Identifier: MIT
// A process that ends with an exit_group system call of its own, not through libc, as Go's
// runtime ends every Go program: no hook runs, so the log has no end, and `memtrace run` must
// say why instead of calling the run killed.
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>

int main(void)
{
    for (int i = 0; i < 1000; i++)
        free(malloc(64));
    printf("leaving through exit_group\n");
    fflush(stdout);
    long nr = SYS_exit_group, status = 0, ret;
    __asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(status) : "rcx", "r11", "memory");
    return 1; /* not reached */
}

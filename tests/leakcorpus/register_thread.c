// SPDX-License-Identifier: MIT
// A pointer held only in a register of a thread blocked in a system call at exit: registers are
// roots. The pointer is moved into r12 by inline assembly and exists nowhere in memory.
// memtrace-vs-valgrind: expected-fail: memtrace limit: a thread blocked in a system call is not
// signalled at exit (a handled signal would end pause() with EINTR, issue 19 item 6), so its
// callee-saved registers are not seen, only the system call's arguments and stack; memcheck
// reads its simulated CPU. (It agreed before by accident: memtrace's malloc hook left the
// block's address in r8, one of pause's argument registers.)
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KEY 0x5a5a5a5a5a5a5a5aULL
volatile int ready; /* named in the assembly */

static uintptr_t hidden_alloc(size_t n)
{
    return (uintptr_t)malloc(n) ^ KEY;
}

static void *blocker(void *arg)
{
    (void)arg;
    volatile uintptr_t h = hidden_alloc(480);
#if defined(__x86_64__)
    __asm__ volatile("mov %0, %%r12\n\t"
                     "xor %1, %%r12\n\t"
                     "movl $1, ready(%%rip)\n"
                     "1:\n\t"
                     "mov %2, %%eax\n\t"
                     "syscall\n\t"
                     "jmp 1b\n"
                     :
                     : "m"(h), "r"(KEY), "i"(SYS_pause)
                     : "r12", "rax", "rcx", "r11", "memory");
#endif
    return NULL;
}

int main(void)
{
    pthread_t t;
    volatile uintptr_t lost = hidden_alloc(96); /* hidden, in no register: lost */
    (void)lost;
    if (pthread_create(&t, NULL, blocker, NULL) != 0)
        return 1;
    while (!ready)
        usleep(1000);
    return 0;
}

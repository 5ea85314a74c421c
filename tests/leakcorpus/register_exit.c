// SPDX-License-Identifier: MIT
// A pointer held only in a callee-saved register when the program calls exit(): exit's own
// frames save it, and memcheck reads them and the registers at the end, so the block is still
// reachable. The pointer is moved into r12 by inline assembly, which then calls exit, and it
// exists nowhere else in memory; a second block, hidden the same way but never unmasked, is
// lost.
#include <stdint.h>
#include <stdlib.h>

#define KEY 0x5a5a5a5a5a5a5a5aULL

static uintptr_t hidden_alloc(size_t n)
{
    return (uintptr_t)malloc(n) ^ KEY;
}

int main(void)
{
    volatile uintptr_t held = hidden_alloc(160);
    volatile uintptr_t lost = hidden_alloc(96);
    (void)lost;
#if defined(__x86_64__)
    __asm__ volatile("mov %0, %%r12\n\t"
                     "xor %1, %%r12\n\t"
                     "xor %%edi, %%edi\n\t"
                     "call exit@PLT\n"
                     :
                     : "m"(held), "r"(KEY)
                     : "r12", "rdi", "memory");
#endif
    return 0;
}

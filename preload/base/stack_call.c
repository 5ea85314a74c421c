// SPDX-License-Identifier: MIT
// mt_stack_call: runs a function on another stack and comes back. The recorder runs its hooks
// on the slot's own stack with it, and signal_defer.c a program's handler on the stack a
// signal interrupted. A file of its own so that a test can take it without the slots.
#include "base/stack_call.h"

/* rdi: top, rsi: fn, rdx: arg. rbp keeps the old stack pointer, so the CFA stays computable
 * (rbp + 16) for debuggers and libunwind while fn runs on the other stack. */
__asm__(".text\n"
        ".p2align 4\n"
        ".globl mt_stack_call\n"
        ".hidden mt_stack_call\n"
        ".type mt_stack_call, @function\n"
        "mt_stack_call:\n"
        "    .cfi_startproc\n"
        "    pushq %rbp\n"
        "    .cfi_def_cfa_offset 16\n"
        "    .cfi_offset %rbp, -16\n"
        "    movq %rsp, %rbp\n"
        "    .cfi_def_cfa_register %rbp\n"
        "    movq %rdi, %rsp\n"
        "    movq %rdx, %rdi\n"
        "    callq *%rsi\n"
        "    movq %rbp, %rsp\n"
        "    popq %rbp\n"
        "    .cfi_def_cfa %rsp, 8\n"
        "    ret\n"
        "    .cfi_endproc\n"
        ".size mt_stack_call, .-mt_stack_call\n");

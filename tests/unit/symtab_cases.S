/* SPDX-License-Identifier: MIT */
/* Symbols that make an address hard to name (tests/unit/test_symtab.c): aliases of every
 * binding, nested symbols, size-0 labels inside and between functions, local and global. */
    .text
    .p2align 4
/* 1: a global function and a weak alias of the same range */
    .globl g_one
    .type g_one, @function
g_one:
    .skip 32, 0x90
    .size g_one, 32
    .weak w_one
    .type w_one, @function
    .set w_one, g_one
    .size w_one, 32

/* 2: a weak symbol first, then a global at the same address, smaller */
    .weak w_two
    .type w_two, @function
w_two:
    .globl g_two_small
    .type g_two_small, @function
g_two_small:
    .skip 48, 0x90
    .size w_two, 48
    .size g_two_small, 16

/* 3: a local function holding a global one inside */
    .type l_three, @function
l_three:
    .skip 16, 0x90
    .globl g_three_inner
    .type g_three_inner, @function
g_three_inner:
    .skip 16, 0x90
    .size g_three_inner, 16
    .skip 16, 0x90
    .size l_three, 48

/* 4: a size-0 label in the gap after a sized function, and one inside it */
    .globl g_four
    .type g_four, @function
g_four:
    .skip 8, 0x90
inside_four:
    .skip 8, 0x90
    .size g_four, 16
after_four:
    .skip 16, 0x90
    .globl g_label_after
g_label_after:
    .skip 16, 0x90

/* 5: a global size-0 label, then locals covering the same place */
    .globl g_five_label
g_five_label:
    .type l_five, @function
l_five:
    .skip 32, 0x90
    .size l_five, 32

/* 6: two size-0 labels at one address, nothing sized around */
lab_six_a:
lab_six_b:
    .skip 16, 0x90

/* 7: a local and a global at the same address, the local bigger */
    .type l_seven, @function
l_seven:
    .globl g_seven
    .type g_seven, @function
g_seven:
    .skip 16, 0x90
    .size g_seven, 16
    .skip 16, 0x90
    .size l_seven, 32

/* 8: objects and a gap with nothing */
    .skip 64, 0x90
    .globl g_end
    .type g_end, @function
g_end:
    ret
    .size g_end, 1

    .data
    .globl d_obj
    .type d_obj, @object
d_obj:
    .quad 1, 2, 3
    .size d_obj, 24
d_label:
    .quad 4

/* 9: .bss right after .data: d_label's section ends where its addresses begin */
    .bss
    .skip 64
    .section .note.GNU-stack,"",@progbits

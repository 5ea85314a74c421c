/* SPDX-License-Identifier: MIT */
/* The program the golden logs describe (golden_logs.c), as a library of named functions with
 * line info (.loc) and no code that runs: symbolizing it depends on nothing installed (no libc,
 * -nostdlib), and .text is placed at 0x10000 (meson.build) so every address stays put whatever
 * the linker's header layout. Source paths are absolute and fictitious: nothing reads them.
 * Each function is 64 bytes of nops at a fixed offset; golden_logs.c names its places
 * FN(function index) + offset, and a .loc every 16 bytes gives each quarter its own line. */
    .file 1 "/golden/src/app.c"
    .file 2 "/golden/src/table.cpp"
    .file 3 "/golden/python/ceval.c"

#define FUNC(name, file, line)                                                                     \
    .globl name;                                                                                   \
    .type name, @function;                                                                         \
    .p2align 6;                                                                                    \
name:                                                                                              \
    .loc file line;                                                                                \
    .rept 16; nop; .endr;                                                                          \
    .loc file line + 1;                                                                            \
    .rept 16; nop; .endr;                                                                          \
    .loc file line + 2;                                                                            \
    .rept 16; nop; .endr;                                                                          \
    .loc file line + 3;                                                                            \
    .rept 16; nop; .endr;                                                                          \
    .size name, 64

    .text
/* index 0..: keep in the order of golden_logs.c's enum fn */
    FUNC(_start, 1, 3)
    FUNC(main, 1, 20)
    FUNC(load_config, 1, 40)
    FUNC(leak_buffer, 1, 60)
    FUNC(build_list, 1, 80)
    FUNC(make_node, 1, 100)
    FUNC(maybe_keep, 1, 120)
    FUNC(grow_buffer, 1, 140)
    FUNC(scratch, 1, 160)
    FUNC(worker_main, 1, 180)
    FUNC(_ZN5cache5Table6insertEPKcm, 2, 30)
    FUNC(_ZN5cache5Table6rehashEm, 2, 60)
    FUNC(_ZN5cache4PoolIiE4growEv, 2, 90)
    FUNC(_PyEval_EvalFrameDefault, 3, 600)
    FUNC(PyObject_Malloc, 3, 900)
    FUNC(map_region, 1, 200)
    FUNC(malloc, 1, 1)

    .section .note.GNU-stack, "", @progbits

// SPDX-License-Identifier: MIT
// `memtrace run` refuses programs built with a sanitizer that replaces malloc (ASan, TSan,
// MSan, LSan, HWASan): its runtime must come first, ahead of any LD_PRELOAD, and it serves
// every allocation itself, so that under memtrace such a program either stops at its start
// (gcc's shared runtimes: ASan exits, TSan crashes, LSan fails a check) or runs with nothing
// recorded (clang's runtimes, linked into the program).
#ifndef MT_RUN_SANITIZER_H
#define MT_RUN_SANITIZER_H

typedef struct mt_sanitizer {
    const char *name; /* "AddressSanitizer" */
    const char *flag; /* "-fsanitize=address" */
} mt_sanitizer_t;

/* The sanitizer the ELF file at path is built with (a DT_NEEDED of its shared runtime, or its
 * init function defined in the program), or NULL: none, or not an ELF file libelf reads. */
const mt_sanitizer_t *mt_run_sanitizer(const char *path);

#endif

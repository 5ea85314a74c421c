// SPDX-License-Identifier: MIT
// GOT patching for a recorder loaded late (`memtrace attach`, hooks/attach.c): the loaded
// objects' JUMP_SLOT and GLOB_DAT slots of the hooked functions go to our hooks and back.
// No allocation, no stdio; x86_64 (RELA) only.
#ifndef MT_GOT_PATCH_H
#define MT_GOT_PATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/mt_libc.h"

typedef struct mt_got_sym {
    const char *name;
    void *hook; /* our definition */
    /* glibc's definition (dlsym(RTLD_NEXT) from us), what the loader bound the slots to; in a
     * non-PIE executable that takes the function's address, a GLOB_DAT slot holds the
     * executable's PLT entry instead (the "canonical PLT"), which calls through the
     * executable's JUMP_SLOT: such slots are left alone */
    void *real;
} mt_got_sym_t;

/* Every loaded object but ours: a slot of syms[i].name that holds syms[i].real, or a lazy
 * PLT entry not bound yet, gets syms[i].hook. Again on the same objects changes nothing, so it
 * is also how objects loaded later are patched. *changed: slots written. 0, or -1 when a RELRO
 * page could not be made writable (the other slots are patched). */
MT_WUR int mt_got_patch(const mt_got_sym_t *syms, size_t n, unsigned *changed);
/* Every slot that holds syms[i].hook gets syms[i].real back (objects unloaded meanwhile are
 * gone from the list, so nothing is written where they were). */
MT_WUR int mt_got_restore(const mt_got_sym_t *syms, size_t n, unsigned *changed);
/* Changes whenever an object is loaded or unloaded (dl_iterate_phdr's adds + subs). */
unsigned long long mt_got_generation(void);

#endif

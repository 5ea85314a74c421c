// SPDX-License-Identifier: MIT
// `memtrace attach`: the recorder was dlopen'd into a running process, where LD_PRELOAD's
// interposition no longer applies, so the GOT slots (JUMP_SLOT and GLOB_DAT relocations) of
// every loaded object that name a hooked function are pointed at our hook, and pointed back at
// the stop. No allocation, no stdio; never writes a slot that does not hold what we expect.
#include "hooks/got_patch.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* What one pass does to a slot holding names[i]'s binding. */
typedef struct mt_got_pass {
    const mt_got_sym_t *syms;
    size_t n;
    bool restore; /* false: global -> hook; true: hook -> global */
    uintptr_t self_base;
    unsigned changed;
    int err;
} mt_got_pass_t;

static uintptr_t mt_got_ptr(uintptr_t base, ElfW(Addr) v)
{
    /* glibc relocates the d_ptr entries of a writable dynamic section in place; others (the
     * vDSO's, some architectures') stay relative to the load address */
    return v < base ? base + v : v;
}

/* Writes v into slot; a slot in the object's RELRO part is made writable for that moment. */
static int mt_got_write(void **slot, void *v, uintptr_t relro_lo, uintptr_t relro_hi)
{
    uintptr_t a = (uintptr_t)slot;
    if (a >= relro_lo && a < relro_hi) {
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        void *pg = (void *)(a & ~(page - 1));
        if (mprotect(pg, page, PROT_READ | PROT_WRITE) != 0)
            return -1;
        __atomic_store_n(slot, v, __ATOMIC_RELEASE);
        (void)mprotect(pg, page, PROT_READ);
        return 0;
    }
    __atomic_store_n(slot, v, __ATOMIC_RELEASE);
    return 0;
}

/* True for a lazily bound JUMP_SLOT: it still points into the object itself (its PLT). */
static bool mt_got_in_object(const struct dl_phdr_info *info, uintptr_t v)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && v >= lo && v < lo + ph->p_memsz)
            return true;
    }
    return false;
}

static void mt_got_relocs(mt_got_pass_t *p, const struct dl_phdr_info *info, const ElfW(Rela) * r,
                          size_t count, const ElfW(Sym) * symtab, const char *strtab,
                          uintptr_t relro_lo, uintptr_t relro_hi)
{
    for (size_t k = 0; k < count; k++) {
        unsigned type = (unsigned)ELF64_R_TYPE(r[k].r_info);
        if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
            continue;
        const ElfW(Sym) *s = &symtab[ELF64_R_SYM(r[k].r_info)];
        if (!s->st_name)
            continue;
        const char *name = strtab + s->st_name;
        for (size_t i = 0; i < p->n; i++) {
            if (strcmp(name, p->syms[i].name) != 0)
                continue;
            void **slot = (void **)(info->dlpi_addr + r[k].r_offset);
            void *cur = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
            void *want;
            if (p->restore)
                want = cur == p->syms[i].hook ? p->syms[i].real : NULL;
            else
                want = cur == p->syms[i].real || (type == R_X86_64_JUMP_SLOT &&
                                                  mt_got_in_object(info, (uintptr_t)cur))
                           ? p->syms[i].hook
                           : NULL;
            if (want) {
                if (mt_got_write(slot, want, relro_lo, relro_hi) == 0)
                    p->changed++;
                else
                    p->err = -1;
            }
            break;
        }
    }
}

static int mt_got_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    mt_got_pass_t *p = arg;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    /* ourselves (our calls go to the real functions already), the dynamic loader (it calls
     * malloc through pointers of its own, not its GOT) and the vDSO (no such imports) */
    if (info->dlpi_addr == p->self_base || strstr(name, "/ld-linux") || strstr(name, "linux-vdso"))
        return 0;
    const ElfW(Dyn) *dyn = NULL;
    uintptr_t relro_lo = 0, relro_hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
        else if (ph->p_type == PT_GNU_RELRO) {
            relro_lo = info->dlpi_addr + ph->p_vaddr;
            relro_hi = relro_lo + ph->p_memsz;
        }
    }
    if (!dyn)
        return 0;
    uintptr_t base = info->dlpi_addr;
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    const ElfW(Rela) *jmprel = NULL, *rela = NULL;
    size_t jmprel_sz = 0, rela_sz = 0, rela_ent = sizeof(ElfW(Rela));
    bool is_rela = true;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB:
            symtab = (const ElfW(Sym) *)mt_got_ptr(base, dyn->d_un.d_ptr);
            break;
        case DT_STRTAB:
            strtab = (const char *)mt_got_ptr(base, dyn->d_un.d_ptr);
            break;
        case DT_JMPREL:
            jmprel = (const ElfW(Rela) *)mt_got_ptr(base, dyn->d_un.d_ptr);
            break;
        case DT_PLTRELSZ:
            jmprel_sz = dyn->d_un.d_val;
            break;
        case DT_PLTREL:
            is_rela = dyn->d_un.d_val == DT_RELA;
            break;
        case DT_RELA:
            rela = (const ElfW(Rela) *)mt_got_ptr(base, dyn->d_un.d_ptr);
            break;
        case DT_RELASZ:
            rela_sz = dyn->d_un.d_val;
            break;
        case DT_RELAENT:
            rela_ent = dyn->d_un.d_val;
            break;
        default:
            break;
        }
    }
    if (!symtab || !strtab || !is_rela || rela_ent != sizeof(ElfW(Rela)))
        return 0;
    if (jmprel)
        mt_got_relocs(p, info, jmprel, jmprel_sz / sizeof(ElfW(Rela)), symtab, strtab, relro_lo,
                      relro_hi);
    if (rela)
        mt_got_relocs(p, info, rela, rela_sz / sizeof(ElfW(Rela)), symtab, strtab, relro_lo,
                      relro_hi);
    return 0;
}

static int mt_got_pass(const mt_got_sym_t *syms, size_t n, bool restore, unsigned *changed)
{
    Dl_info di;
    struct link_map *self = NULL;
    static const char here = 0; /* any object of ours names our link map */
    if (!dladdr1(&here, &di, (void **)&self, RTLD_DL_LINKMAP) || !self)
        return -1;
    mt_got_pass_t p = {syms, n, restore, (uintptr_t)self->l_addr, 0, 0};
    dl_iterate_phdr(mt_got_object, &p);
    if (changed)
        *changed = p.changed;
    return p.err;
}

int mt_got_patch(const mt_got_sym_t *syms, size_t n, unsigned *changed)
{
    return mt_got_pass(syms, n, false, changed);
}

int mt_got_restore(const mt_got_sym_t *syms, size_t n, unsigned *changed)
{
    return mt_got_pass(syms, n, true, changed);
}

static int mt_got_adds_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
        *(unsigned long long *)arg = info->dlpi_adds + info->dlpi_subs;
    return 1; /* the counters are the same in every entry: one is enough */
}

unsigned long long mt_got_generation(void)
{
    unsigned long long g = 0;
    dl_iterate_phdr(mt_got_adds_cb, &g);
    return g;
}

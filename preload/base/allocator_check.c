// SPDX-License-Identifier: MIT
// Finds out, once at start, whether the program's allocations go through the malloc we
// interpose. A program linked statically with jemalloc or tcmalloc defines malloc itself (the
// executable comes before any preload in symbol lookup), and tcmalloc and jemalloc replace
// C++'s operator new/delete: those calls never reach a hook. Says so on stderr and in the log
// (NOTICE, repeated by `memtrace report`) instead of producing a silently empty report.
// Runs in the recorder's constructor with the reentrancy guard set; no malloc of its own.
#include "base/allocator_check.h"

#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "base/config.h"
#include "base/own_ranges.h"
#include "base/mt_libc.h"
#include "log_format.h"

/* Which allocator defines the symbols in the global scope, by its own API's names. */
static const char *mt_acheck_family(void) /* NULL: unknown */
{
    if (dlsym(RTLD_DEFAULT, "mallctl") || dlsym(RTLD_DEFAULT, "je_mallctl"))
        return "jemalloc";
    if (dlsym(RTLD_DEFAULT, "tc_malloc") || dlsym(RTLD_DEFAULT, "MallocExtension_GetStats"))
        return "tcmalloc";
    if (dlsym(RTLD_DEFAULT, "mi_malloc"))
        return "mimalloc";
    return NULL;
}

/* Dynamic-section pointers are relocated in place by glibc's loader, but not by every one. */
static uintptr_t mt_acheck_ptr(const struct dl_phdr_info *info, uintptr_t p)
{
    return p < info->dlpi_addr ? p + info->dlpi_addr : p;
}

/* What the relocations of one object bind, for the two questions asked of an object. */
typedef struct mt_acheck_relocs {
    int calls_new;    /* binds operator new (_Znwm, _Znam and their aligned and nothrow forms) */
    int imports_heap; /* binds malloc, calloc, realloc or aligned allocation as a symbol the
                         object does not define: it calls them from whoever does */
} mt_acheck_relocs_t;

static int mt_acheck_is_heap_fn(const char *name)
{
    static const char *const fns[] = {"malloc",        "calloc",         "realloc",
                                      "aligned_alloc", "posix_memalign", "memalign"};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (strcmp(name, fns[i]) == 0)
            return 1;
    return 0;
}

static void mt_acheck_rela(const ElfW(Rela) * rela, size_t size, const ElfW(Sym) * symtab,
                           const char *strtab, mt_acheck_relocs_t *r)
{
    for (size_t i = 0; i < size / sizeof *rela; i++) {
        size_t si = ELF64_R_SYM(rela[i].r_info);
        if (!si)
            continue;
        const char *name = strtab + symtab[si].st_name;
        if (strncmp(name, "_Znw", 4) == 0 || strncmp(name, "_Zna", 4) == 0)
            r->calls_new = 1;
        /* An executable that takes malloc's address has a "canonical PLT entry": undefined,
         * with a value. Still a call to whoever defines malloc. */
        else if (symtab[si].st_shndx == SHN_UNDEF && mt_acheck_is_heap_fn(name))
            r->imports_heap = 1;
    }
}

/* Which object dl_iterate_phdr looks at: the first (the executable) when addr is 0, else the
 * one whose segments hold addr. */
typedef struct mt_acheck_find {
    uintptr_t addr;
    int found, seen; /* seen: objects looked at before; 0 when it is the executable */
    mt_acheck_relocs_t r;
} mt_acheck_find_t;

/* dl_iterate_phdr callback: reads the relocations of the object mt_acheck_find_t names. */
static int mt_acheck_object_relocs(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    mt_acheck_find_t *f = arg;
    const ElfW(Dyn) *dyn = NULL;
    int holds = f->addr == 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
        else if (ph->p_type == PT_LOAD && f->addr >= info->dlpi_addr + ph->p_vaddr &&
                 f->addr < info->dlpi_addr + ph->p_vaddr + ph->p_memsz)
            holds = 1;
    }
    if (!holds) {
        f->seen++;
        return 0; /* the next object */
    }
    f->found = 1;
    if (!dyn)
        return 1;
    uintptr_t strtab = 0, symtab = 0, rela = 0, jmprel = 0;
    size_t relasz = 0, pltrelsz = 0;
    for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_STRTAB:
            strtab = d->d_un.d_ptr;
            break;
        case DT_SYMTAB:
            symtab = d->d_un.d_ptr;
            break;
        case DT_RELA:
            rela = d->d_un.d_ptr;
            break;
        case DT_RELASZ:
            relasz = d->d_un.d_val;
            break;
        case DT_JMPREL:
            jmprel = d->d_un.d_ptr;
            break;
        case DT_PLTRELSZ:
            pltrelsz = d->d_un.d_val;
            break;
        default:
            break;
        }
    }
    if (!strtab || !symtab)
        return 1;
    const ElfW(Sym) *sym = (const ElfW(Sym) *)mt_acheck_ptr(info, symtab);
    const char *str = (const char *)mt_acheck_ptr(info, strtab);
    if (rela)
        mt_acheck_rela((const ElfW(Rela) *)mt_acheck_ptr(info, rela), relasz, sym, str, &f->r);
    if (jmprel)
        mt_acheck_rela((const ElfW(Rela) *)mt_acheck_ptr(info, jmprel), pltrelsz, sym, str, &f->r);
    return 1;
}

static const char *mt_acheck_base(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* The file that defines sym in the global scope, or NULL (undefined or unknown). A non-PIE
 * executable that takes the address of malloc (CPython does) has a "canonical PLT entry": the
 * global scope then resolves malloc to the executable's PLT stub, an undefined symbol with a
 * value, which is a call to whoever defines malloc, not a definition. */
static const char *mt_acheck_owner(const char *sym)
{
    void *p = dlsym(RTLD_DEFAULT, sym);
    Dl_info info;
    const ElfW(Sym) *es = NULL;
    if (!p || !dladdr1(p, &info, (void **)&es, RTLD_DL_SYMENT) || !info.dli_fname)
        return NULL;
    if (es && es->st_shndx == SHN_UNDEF)
        return NULL;
    return info.dli_fname;
}

/* One line: "PROG" what "FAMILY (FILE); " tail; a NOTICE in the log, and on stderr when
 * allocations are lost. */
static void mt_acheck_say(mt_acheck_notice_fn notice, const char *what, const char *fam,
                          const char *file, const char *tail, int to_stderr)
{
    char buf[512];
    mt_sbuf_t s;
    mt_sbuf_init(&s, buf, sizeof buf);
    mt_sbuf_add(&s, mt_acheck_base(mt_config.exe));
    mt_sbuf_add(&s, what);
    if (fam) {
        mt_sbuf_add(&s, fam);
        mt_sbuf_add(&s, " (");
        mt_sbuf_add(&s, file[0] ? mt_acheck_base(file) : "linked into the executable");
        mt_sbuf_add(&s, ")");
    } else {
        mt_sbuf_add(&s, "its own malloc (a statically linked allocator such as jemalloc)");
    }
    mt_sbuf_add(&s, "; ");
    mt_sbuf_add(&s, tail);
    notice(MT_NOTICE_ALLOCATOR, buf);
    if (to_stderr)
        mt_msg(buf);
}

void mt_acheck_run(mt_acheck_notice_fn notice)
{
    Dl_info self;
    if (!dladdr((void *)(uintptr_t)mt_acheck_run, &self) || !self.dli_fname)
        return;
    /* Statically linked allocator: the executable exports malloc (libc refers to it), and
     * wins over every preload. Its own API is usually not exported, hence no family name. */
    const char *m = mt_acheck_owner("malloc");
    if (m && strcmp(m, self.dli_fname) != 0) {
        mt_acheck_say(notice, " uses ", mt_acheck_family(), m,
                      "its allocations are not seen (its malloc comes before memtrace's)", 1);
        return;
    }
    /* Only a program that calls operator new (C++) loses anything here: a C program linked
     * with jemalloc or tcmalloc does not, even though the allocator defines it. */
    void *new_fn = dlsym(RTLD_DEFAULT, "_Znwm");
    const char *n = mt_acheck_owner("_Znwm");
    mt_acheck_find_t exe = {0}, owner = {.addr = (uintptr_t)new_fn};
    if (n && !strstr(mt_acheck_base(n), "libstdc++") && strcmp(n, self.dli_fname) != 0 &&
        (dl_iterate_phdr(mt_acheck_object_relocs, &exe), exe.r.calls_new)) {
        /* An operator new that calls malloc (a program that counts its own calls, or a
         * statically linked libstdc++) is seen through malloc: only one whose object does
         * not call the malloc family at all (a pool of its own, or an allocator that defines
         * malloc too, as tcmalloc does) is not. */
        dl_iterate_phdr(mt_acheck_object_relocs, &owner);
        if (owner.found && owner.r.imports_heap)
            return;
        const char *fam = mt_acheck_family();
        if (owner.found && owner.seen == 0 && !fam)
            mt_acheck_say(notice, "'s operator new/delete come from ", "its own allocator", "",
                          "C++ new and delete are not seen, only malloc and free", 1);
        else
            mt_acheck_say(notice, "'s operator new/delete come from ",
                          fam ? fam : "another allocator", n,
                          "C++ new and delete are not seen, only malloc and free", 1);
        return;
    }
    void *next = dlsym(RTLD_NEXT, "malloc");
    Dl_info ni;
    if (next && dladdr(next, &ni) && ni.dli_fname &&
        !strstr(mt_acheck_base(ni.dli_fname), "libc.so"))
        mt_acheck_say(notice, "'s malloc is ",
                      mt_acheck_family() ? mt_acheck_family() : "another allocator", ni.dli_fname,
                      "recorded through malloc, but the malloc statistics are glibc's", 0);
}

/* The executable segment holding addr, found among the loaded objects. */
typedef struct mt_acheck_text {
    uintptr_t addr, lo, hi;
} mt_acheck_text_t;

static int mt_acheck_text_of(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    mt_acheck_text_t *t = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && t->addr - lo < ph->p_memsz) {
            t->lo = lo;
            t->hi = lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

bool mt_acheck_text_holding(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
    mt_acheck_text_t t = {.addr = addr};
    (void)dl_iterate_phdr(mt_acheck_text_of, &t);
    *lo = t.lo;
    *hi = t.hi;
    return t.hi != 0;
}

void mt_acheck_foreign_allocator(void)
{
    void *next = dlsym(RTLD_NEXT, "malloc");
    Dl_info ni;
    uintptr_t lo = 0, hi = 0;
    if (next && dladdr(next, &ni) && ni.dli_fname &&
        !strstr(mt_acheck_base(ni.dli_fname), "libc.so"))
        (void)mt_acheck_text_holding((uintptr_t)next, &lo, &hi);
    mt_own_allocator_text(lo, hi); /* 0, 0: glibc's, or not found */
}

mt_usable_fn mt_acheck_glibc_usable(void)
{
    /* RTLD_NEXT, as the hooks resolve the real functions: the pair we forward to. */
    void *m = dlsym(RTLD_NEXT, "malloc");
    void *u = dlsym(RTLD_NEXT, "malloc_usable_size");
    Dl_info mi, ui;
    if (!m || !u || !dladdr(m, &mi) || !dladdr(u, &ui) || !mi.dli_fname ||
        mi.dli_fbase != ui.dli_fbase || !strstr(mt_acheck_base(mi.dli_fname), "libc.so"))
        return NULL;
    mt_usable_fn fn;
    memcpy(&fn, &u, sizeof u); /* an object pointer from dlsym, as MT_SYM does */
    return fn;
}

size_t mt_acheck_usable_learn(mt_acheck_trust_t *t, const void *p, mt_usable_fn usable)
{
    size_t real = usable((void *)p);
    unsigned old = __atomic_load_n(&t->trusted, __ATOMIC_RELAXED);
    if (old & MT_ACHECK_REFUSED)
        return real;
    size_t head;
    unsigned kind = mt_acheck_chunk_kind(p, &head);
    if (mt_acheck_chunk_usable(p) != real) {
        __atomic_store_n(&t->trusted, MT_ACHECK_REFUSED, __ATOMIC_RELAXED);
        return real;
    }
    uint32_t need = kind == MT_ACHECK_HEAP ? MT_ACHECK_TRUST_HEAP : MT_ACHECK_TRUST_MMAPPED;
    if (__atomic_add_fetch(&t->agreed[kind], 1, __ATOMIC_RELAXED) < need)
        return real;
    /* never over a refusal another thread made meanwhile */
    while (!(old & MT_ACHECK_REFUSED) &&
           !__atomic_compare_exchange_n(&t->trusted, &old, old | kind, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
        ;
    return real;
}

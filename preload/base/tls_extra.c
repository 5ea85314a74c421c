// SPDX-License-Identifier: MIT
// DTV entries that memtrace adds to each thread (see tls_extra.h). A module counts as
// memtrace's when it has a PT_TLS segment and is the preload library itself or a library that
// no other loaded object names in its DT_NEEDED. Runs once at start; the hook path only reads.
#include "base/tls_extra.h"

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

/* Defined by the loader; declared by no public header. */
extern void *__tls_get_addr(void *);

size_t mt_tls_extra;
static uintptr_t mt_tls_ld_lo, mt_tls_ld_hi; /* the loader's text: allocate_dtv lives there */

typedef struct mt_tls_scan {
    uintptr_t self;    /* an address in the preload library */
    const char *name;  /* for needed_by_other: the base name looked for */
    int found;         /* needed_by_other: some object other than us needs it */
    uintptr_t ld_addr; /* an address in the loader */
} mt_tls_scan_t;

static const char *mt_tls_base(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int mt_tls_contains(const struct dl_phdr_info *info, uintptr_t addr, int exec_only,
                           uintptr_t *lo, uintptr_t *hi)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t b = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (!exec_only || (ph->p_flags & PF_X)) && addr >= b &&
            addr < b + ph->p_memsz) {
            if (lo) {
                *lo = b;
                *hi = b + ph->p_memsz;
            }
            return 1;
        }
    }
    return 0;
}

/* True when the object names base among its DT_NEEDED (the loader relocated DT_STRTAB). */
static int mt_tls_needs(const struct dl_phdr_info *info, const char *base)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_DYNAMIC)
            continue;
        const ElfW(Dyn) *dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
        const char *strtab = NULL;
        for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++)
            if (d->d_tag == DT_STRTAB)
                strtab = (const char *)d->d_un.d_ptr;
        if (!strtab || (uintptr_t)strtab < info->dlpi_addr)
            return 0; /* not relocated in place: cannot tell */
        for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++)
            if (d->d_tag == DT_NEEDED && !strcmp(mt_tls_base(strtab + d->d_un.d_val), base))
                return 1;
    }
    return 0;
}

static int mt_tls_needed_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    mt_tls_scan_t *s = arg;
    if (!mt_tls_contains(info, s->self, 0, NULL, NULL) && mt_tls_needs(info, s->name))
        s->found = 1;
    return 0;
}

static int mt_tls_count_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    mt_tls_scan_t *s = arg;
    mt_tls_contains(info, s->ld_addr, 1, &mt_tls_ld_lo, &mt_tls_ld_hi);
    int tls = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        tls |= info->dlpi_phdr[i].p_type == PT_TLS && info->dlpi_phdr[i].p_memsz > 0;
    if (!tls)
        return 0;
    if (mt_tls_contains(info, s->self, 0, NULL, NULL)) {
        mt_tls_extra++;
        return 0;
    }
    if (!info->dlpi_name || !info->dlpi_name[0])
        return 0; /* the program itself */
    mt_tls_scan_t q = {.self = s->self, .name = mt_tls_base(info->dlpi_name)};
    dl_iterate_phdr(mt_tls_needed_cb, &q);
    /* Needed by nobody but us: libunwind, in a program that does not link it. */
    if (!q.found)
        mt_tls_extra++;
    return 0;
}

void mt_tls_init(void)
{
    mt_tls_scan_t s = {.self = (uintptr_t)&mt_tls_init, .ld_addr = (uintptr_t)&__tls_get_addr};
    mt_tls_extra = 0;
    dl_iterate_phdr(mt_tls_count_cb, &s);
    if (!mt_tls_ld_hi)
        mt_tls_extra = 0;
}

size_t mt_tls_dtv_entries(size_t n, const void *ret)
{
    uintptr_t r = (uintptr_t)ret;
    if (r >= mt_tls_ld_lo && r < mt_tls_ld_hi && n > mt_tls_extra + 16)
        n -= mt_tls_extra;
    return n;
}

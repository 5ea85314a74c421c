// SPDX-License-Identifier: MIT
// Finds the sanitizer runtime a program is built with (see run_sanitizer.h).
#include "run_sanitizer.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

/* ASan first: its runtime has LSan inside, and clang's defines both init functions. */
static const struct {
    mt_sanitizer_t san;
    const char *lib;  /* gcc's shared runtime, a prefix of the DT_NEEDED name */
    const char *init; /* defined in the program when the runtime is linked in (clang) */
} mt_sanitizers[] = {
    {{"AddressSanitizer", "-fsanitize=address"}, "libasan.so", "__asan_init"},
    {{"HWAddressSanitizer", "-fsanitize=hwaddress"}, "libhwasan.so", "__hwasan_init"},
    {{"ThreadSanitizer", "-fsanitize=thread"}, "libtsan.so", "__tsan_init"},
    {{"MemorySanitizer", "-fsanitize=memory"}, "libmsan.so", "__msan_init"},
    {{"LeakSanitizer", "-fsanitize=leak"}, "liblsan.so", "__lsan_init"},
};
#define MT_NSANITIZERS (sizeof mt_sanitizers / sizeof mt_sanitizers[0])

/* Lowers *best to the table index that name stands for (a runtime library or an init
 * function), if any. */
static void mt_sanitizer_note(const char *name, bool needed, size_t *best)
{
    for (size_t i = 0; i < MT_NSANITIZERS && i < *best; i++) {
        const char *want = needed ? mt_sanitizers[i].lib : mt_sanitizers[i].init;
        if (needed ? strncmp(name, want, strlen(want)) == 0 : strcmp(name, want) == 0)
            *best = i;
    }
}

/* The DT_NEEDED entries of a SHT_DYNAMIC section, or the defined symbols of a SHT_DYNSYM. */
static void mt_sanitizer_scan(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, size_t *best)
{
    Elf_Data *data = elf_getdata(scn, NULL);
    if (!data || !sh->sh_entsize)
        return;
    size_t n = sh->sh_size / sh->sh_entsize;
    for (size_t k = 0; k < n; k++) {
        const char *name = NULL;
        GElf_Dyn dyn;
        GElf_Sym sym;
        if (sh->sh_type == SHT_DYNAMIC && gelf_getdyn(data, (int)k, &dyn) && dyn.d_tag == DT_NEEDED)
            name = elf_strptr(elf, sh->sh_link, dyn.d_un.d_val);
        else if (sh->sh_type == SHT_DYNSYM && gelf_getsym(data, (int)k, &sym) &&
                 sym.st_shndx != SHN_UNDEF)
            name = elf_strptr(elf, sh->sh_link, sym.st_name);
        if (name)
            mt_sanitizer_note(name, sh->sh_type == SHT_DYNAMIC, best);
    }
}

const mt_sanitizer_t *mt_run_sanitizer(const char *path)
{
    if (elf_version(EV_CURRENT) == EV_NONE)
        return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    size_t best = MT_NSANITIZERS;
    for (Elf_Scn *scn = elf ? elf_nextscn(elf, NULL) : NULL; scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) && (sh.sh_type == SHT_DYNAMIC || sh.sh_type == SHT_DYNSYM))
            mt_sanitizer_scan(elf, scn, &sh, &best);
    }
    if (elf)
        elf_end(elf);
    close(fd);
    return best < MT_NSANITIZERS ? &mt_sanitizers[best].san : NULL;
}

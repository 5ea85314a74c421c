// SPDX-License-Identifier: MIT
// Reads the DT_NEEDED names of an ELF file with pread into stack buffers (see
// exec_sanitizer.h). Only the first 64 program headers, 1,024 dynamic entries and 64 needed
// libraries are looked at: more than any real program has.
#include "base/exec_sanitizer.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "base/mt_libc.h"

enum { MT_SAN_PHDRS = 64, MT_SAN_DYNS = 1024, MT_SAN_NEEDED = 64, MT_SAN_BATCH = 64 };

/* gcc's shared runtimes, by the start of their DT_NEEDED name. clang links its runtimes into
 * the program, which then comes first anyway: those run under memtrace (unrecorded). */
static const struct {
    const char *lib, *name;
} mt_san_runtimes[] = {
    {"libasan.so", "AddressSanitizer"}, {"libhwasan.so", "HWAddressSanitizer"},
    {"libtsan.so", "ThreadSanitizer"},  {"liblsan.so", "LeakSanitizer"},
    {"libmsan.so", "MemorySanitizer"},
};

static bool mt_san_read(int fd, void *buf, size_t len, uint64_t off)
{
    return mt_syscall(SYS_pread64, fd, (long)buf, (long)len, (long)off) == (long)len;
}

/* The file offset of virtual address v, through the PT_LOAD that holds it; 0 if none. */
static uint64_t mt_san_offset(const Elf64_Phdr *ph, unsigned n, uint64_t v)
{
    for (unsigned i = 0; i < n; i++)
        if (ph[i].p_type == PT_LOAD && v >= ph[i].p_vaddr && v < ph[i].p_vaddr + ph[i].p_filesz)
            return v - ph[i].p_vaddr + ph[i].p_offset;
    return 0;
}

static const char *mt_san_runtime_named(int fd, uint64_t strtab, uint64_t name)
{
    char text[24];
    if (!mt_san_read(fd, text, sizeof text - 1, strtab + name))
        return NULL;
    text[sizeof text - 1] = '\0';
    for (size_t i = 0; i < sizeof mt_san_runtimes / sizeof mt_san_runtimes[0]; i++)
        if (strncmp(text, mt_san_runtimes[i].lib, strlen(mt_san_runtimes[i].lib)) == 0)
            return mt_san_runtimes[i].name;
    return NULL;
}

static const char *mt_san_of_fd(int fd)
{
    Elf64_Ehdr eh;
    if (!mt_san_read(fd, &eh, sizeof eh, 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
        return NULL;
    Elf64_Phdr ph[MT_SAN_PHDRS];
    unsigned nph = eh.e_phnum < MT_SAN_PHDRS ? eh.e_phnum : MT_SAN_PHDRS;
    if (!mt_san_read(fd, ph, nph * sizeof ph[0], eh.e_phoff))
        return NULL;
    const Elf64_Phdr *dyn = NULL;
    for (unsigned i = 0; i < nph && !dyn; i++)
        if (ph[i].p_type == PT_DYNAMIC)
            dyn = &ph[i];
    if (!dyn)
        return NULL; /* static: no runtime to load */
    uint64_t strtab = 0, needed[MT_SAN_NEEDED];
    unsigned nneeded = 0;
    size_t ndyn = dyn->p_filesz / sizeof(Elf64_Dyn);
    for (size_t at = 0; at < ndyn && at < MT_SAN_DYNS; at += MT_SAN_BATCH) {
        Elf64_Dyn d[MT_SAN_BATCH];
        size_t n = ndyn - at < MT_SAN_BATCH ? ndyn - at : MT_SAN_BATCH;
        if (!mt_san_read(fd, d, n * sizeof d[0], dyn->p_offset + at * sizeof d[0]))
            return NULL;
        for (size_t i = 0; i < n && d[i].d_tag != DT_NULL; i++) {
            if (d[i].d_tag == DT_STRTAB)
                strtab = mt_san_offset(ph, nph, d[i].d_un.d_ptr);
            else if (d[i].d_tag == DT_NEEDED && nneeded < MT_SAN_NEEDED)
                needed[nneeded++] = d[i].d_un.d_val;
        }
    }
    for (unsigned i = 0; strtab && i < nneeded; i++) {
        const char *name = mt_san_runtime_named(fd, strtab, needed[i]);
        if (name)
            return name;
    }
    return NULL;
}

/* False when path cannot be opened; else true, with *name the runtime it needs (or NULL). */
static bool mt_san_of_path(const char *path, const char **name)
{
    long fd = mt_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return false;
    *name = mt_san_of_fd((int)fd);
    mt_sys_close((int)fd);
    return true;
}

/* As execvp: each directory of PATH (glibc's default when unset), the first that has it. */
static const char *mt_san_search(const char *file)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin";
    size_t flen = strlen(file);
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        char full[PATH_MAX];
        if (dlen + 1 + flen < sizeof full) {
            memcpy(full, p, dlen);
            size_t at = dlen;
            if (dlen) /* an empty entry is the current directory */
                full[at++] = '/';
            memcpy(full + at, file, flen + 1);
            const char *name;
            if (mt_san_of_path(full, &name))
                return name;
        }
        if (!end)
            return NULL;
        p = end;
    }
}

const char *mt_exec_sanitizer(const char *file, bool search)
{
    const char *name = NULL;
    if (!file || !file[0])
        return NULL;
    if (search && !strchr(file, '/'))
        return mt_san_search(file);
    (void)mt_san_of_path(file, &name);
    return name;
}

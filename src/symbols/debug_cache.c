// SPDX-License-Identifier: MIT
// Cache of uncompressed separate debug files (see debug_cache.h). libdw 0.188 inflates every
// compressed .debug_* section of a file when it opens it (libc6-dbg: 45 ms, each command), so
// the inflated copy is written once, the way `eu-elfcompress -t none` writes it, and mapped
// from then on. An entry is used only when its key (the original's size and mtime, the copy's
// size) and the copy's build-id match; every failure falls back silently to the original.
#include "debug_cache.h"

#include <dirent.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirs.h"

#define MT_DC_MAGIC "memtrace debug cache 1"
#define MT_DC_MAX_DEFAULT (1ull << 30) /* 1 GiB: libc's copy takes 10 MB */

/* $XDG_CACHE_HOME/memtrace/debug (default ~/.cache/memtrace/debug); 0 or -errno. */
static int mt_dc_dir(char *out, size_t size)
{
    const char *e = getenv("MEMTRACE_DEBUG_CACHE");
    if (e && strcmp(e, "0") == 0)
        return -ENOENT;
    const char *x = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (x && x[0] == '/') /* the spec: a relative value is invalid, and ignored */
        n = snprintf(out, size, "%s/memtrace/debug", x);
    else if (home && home[0] == '/')
        n = snprintf(out, size, "%s/.cache/memtrace/debug", home);
    else
        return -ENOENT;
    return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

/* The file's GNU build-id in hex; 0 or -1 when it has none. */
static int mt_dc_build_id(Elf *elf, char *hex, size_t size)
{
    const void *id = NULL;
    ssize_t n = dwelf_elf_gnu_build_id(elf, &id);
    if (n < 2 || (size_t)n * 2 + 1 > size)
        return -1;
    for (ssize_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)id)[i]);
    return 0;
}

/* 1 when some section would be inflated (SHF_COMPRESSED or a GNU .zdebug one), 0 when none,
 * -1 when the file is not one the cache takes (not ELF, extended numbering, a compressed
 * section that is loaded at run time). */
static int mt_dc_compressed(Elf *elf)
{
    size_t shstrndx, shnum;
    if (elf_kind(elf) != ELF_K_ELF || elf_getshdrnum(elf, &shnum) != 0 ||
        elf_getshdrstrndx(elf, &shstrndx) != 0 || shnum >= SHN_LORESERVE)
        return -1;
    int any = 0;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            return -1;
        const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
        if ((sh.sh_flags & SHF_COMPRESSED) || (name && strncmp(name, ".zdebug", 7) == 0)) {
            if (sh.sh_flags & SHF_ALLOC)
                return -1;
            any = 1;
        }
    }
    return any;
}

typedef struct mt_dc_key {
    intmax_t size, sec, nsec, cache_size;
} mt_dc_key_t;

/* Reads ID.key: the key and, when ORIGIN is not NULL, the original's path. 0 or -1. */
static int mt_dc_read_key(const char *path, mt_dc_key_t *k, char *origin, size_t size)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char magic[64], line[PATH_MAX + 2];
    int ok = fgets(magic, sizeof magic, f) && strcmp(magic, MT_DC_MAGIC "\n") == 0 &&
             fscanf(f, "%jd %jd %jd %jd\n", &k->size, &k->sec, &k->nsec, &k->cache_size) == 4 &&
             fgets(line, sizeof line, f) && line[0] && line[strlen(line) - 1] == '\n';
    fclose(f);
    if (!ok)
        return -1;
    line[strlen(line) - 1] = '\0';
    if (origin) {
        if (strlen(line) >= size)
            return -1;
        strcpy(origin, line);
    }
    return 0;
}

/* An fd on DIR/ID.debug when the entry is whole and was made from the file ST describes. */
static int mt_dc_lookup(const char *dir, const char *id, const struct stat *st)
{
    char path[PATH_MAX];
    mt_dc_key_t k;
    if ((size_t)snprintf(path, sizeof path, "%s/%s.key", dir, id) >= sizeof path ||
        mt_dc_read_key(path, &k, NULL, 0) != 0 || k.size != (intmax_t)st->st_size ||
        k.sec != (intmax_t)st->st_mtim.tv_sec || k.nsec != (intmax_t)st->st_mtim.tv_nsec)
        return -1;
    snprintf(path, sizeof path, "%s/%s.debug", dir, id);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat cst;
    char cid[2 * 64 + 1];
    Elf *elf = NULL;
    int ok = fstat(fd, &cst) == 0 && S_ISREG(cst.st_mode) && cst.st_size == k.cache_size &&
             (elf = elf_begin(fd, ELF_C_READ_MMAP, NULL)) && mt_dc_compressed(elf) == 0 &&
             mt_dc_build_id(elf, cid, sizeof cid) == 0 && strcmp(cid, id) == 0;
    elf_end(elf);
    if (!ok) {
        close(fd);
        return -1;
    }
    /* Used now: the key's time is the entry's place in the eviction order (mt_dc_evict). */
    snprintf(path, sizeof path, "%s/%s.key", dir, id);
    (void)utimensat(AT_FDCWD, path, NULL, 0);
    return fd;
}

/* MEMTRACE_DEBUG_CACHE_MAX: bytes, or a number with K, M, G or T (powers of 1024, "MiB" or
 * "MB" read the same); unset or unreadable, 1 GiB. */
uint64_t mt_debug_cache_max(void)
{
    const char *e = getenv("MEMTRACE_DEBUG_CACHE_MAX");
    if (!e || !*e || *e < '0' || *e > '9')
        return MT_DC_MAX_DEFAULT;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(e, &end, 10);
    if (errno)
        return MT_DC_MAX_DEFAULT;
    const char *units = "KMGT", *u = *end ? strchr(units, *end & ~0x20) : NULL;
    int shift = u ? 10 * (int)(u - units + 1) : 0;
    if (u)
        end++;
    if (u && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
        end += strlen(end);
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return MT_DC_MAX_DEFAULT;
    return (uint64_t)v << shift;
}

typedef struct mt_dc_entry {
    char id[2 * 64 + 1];
    uint64_t size;      /* the copy's bytes */
    struct timespec at; /* its last use: the key's modification time */
} mt_dc_entry_t;

static int mt_dc_entry_older(const void *pa, const void *pb)
{
    const mt_dc_entry_t *a = pa, *b = pb;
    if (a->at.tv_sec != b->at.tv_sec)
        return a->at.tv_sec < b->at.tv_sec ? -1 : 1;
    if (a->at.tv_nsec != b->at.tv_nsec)
        return a->at.tv_nsec < b->at.tv_nsec ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* Keeps the copies in DIR within mt_debug_cache_max() bytes: the least recently used go first,
 * never KEEP (the entry just made, which a cap smaller than one copy still keeps). Deleting a
 * copy that another command has open changes nothing for it; one that a command is about to
 * open fails its lookup, and that command reads the original. */
/* A cache directory short enough for every name made in it: DIR/ID.key.XXXXXX with the
 * longest build-id in hex (128). */
static bool mt_dc_dir_fits(const char *dir)
{
    return strlen(dir) < PATH_MAX - 160;
}

static void mt_dc_evict(const char *dir, const char *keep)
{
    uint64_t max = mt_debug_cache_max(), total = 0;
    if (!mt_dc_dir_fits(dir))
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    mt_dc_entry_t *v = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *de; (de = readdir(d));) {
        size_t len = strlen(de->d_name), idlen = len - 6;
        if (len < 10 || len > 6 + 2 * 64 || strcmp(de->d_name + idlen, ".debug") != 0 ||
            strspn(de->d_name, "0123456789abcdef") != idlen)
            continue;
        char path[PATH_MAX];
        struct stat st, kst;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path ||
            stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            mt_dc_entry_t *nv = realloc(v, nc * sizeof *nv);
            if (!nv)
                break;
            v = nv;
            cap = nc;
        }
        mt_dc_entry_t *e = &v[n++];
        memcpy(e->id, de->d_name, idlen);
        e->id[idlen] = '\0';
        e->size = (uint64_t)st.st_size;
        snprintf(path, sizeof path, "%s/%s.key", dir, e->id);
        e->at = stat(path, &kst) == 0 ? kst.st_mtim : st.st_mtim;
        total += e->size;
    }
    closedir(d);
    if (total > max && n > 1) {
        qsort(v, n, sizeof *v, mt_dc_entry_older);
        for (size_t i = 0; i < n && total > max; i++) {
            if (strcmp(v[i].id, keep) == 0)
                continue;
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s.debug", dir, v[i].id);
            if (unlink(path) == 0 || errno == ENOENT)
                total -= v[i].size;
            snprintf(path, sizeof path, "%s/%s.key", dir, v[i].id);
            (void)unlink(path);
        }
    }
    free(v);
}

/* Copies SRC into DST (ELF_C_WRITE) with every compressed section inflated, GNU .zdebug_x
 * renamed .debug_x, and the layout eu-elfcompress keeps: loaded sections and program headers
 * where they were, the others after them in section order, then the section headers. */
static int mt_dc_inflate(Elf *src, Elf *dst, char **strtab)
{
    GElf_Ehdr eh;
    size_t shstrndx, shnum;
    if (!gelf_getehdr(src, &eh) || elf_getshdrstrndx(src, &shstrndx) != 0 ||
        elf_getshdrnum(src, &shnum) != 0)
        return -1;
    /* The new section header string table: the old one, then the renamed .zdebug names. */
    Elf_Scn *strscn = elf_getscn(src, shstrndx);
    Elf_Data *strdata = strscn ? elf_getdata(strscn, NULL) : NULL;
    if (!strdata || !strdata->d_buf)
        return -1;
    size_t strsize = strdata->d_size, strcap = strsize + 256;
    char *strs = *strtab = malloc(strcap);
    if (!strs)
        return -1;
    memcpy(strs, strdata->d_buf, strsize);

    uint64_t end = eh.e_ehsize;
    if (eh.e_phnum && eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize > end)
        end = eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(src, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            return -1;
        if ((sh.sh_flags & SHF_ALLOC) && sh.sh_type != SHT_NOBITS &&
            sh.sh_offset + sh.sh_size > end)
            end = sh.sh_offset + sh.sh_size;
    }

    /* Inflate first: the string table must be complete before the output refers to it. */
    GElf_Word *names = calloc(shnum, sizeof *names);
    if (!names)
        return -1;
    int rc = -1;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(src, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            goto out;
        const char *name = elf_strptr(src, shstrndx, sh.sh_name);
        names[elf_ndxscn(scn)] = sh.sh_name;
        if (sh.sh_flags & SHF_COMPRESSED) {
            if (elf_compress(scn, 0, 0) < 0)
                goto out;
        } else if (name && strncmp(name, ".zdebug", 7) == 0) {
            if (elf_compress_gnu(scn, 0, 0) < 0)
                goto out;
            size_t len = strlen(name); /* ".debug_x" and its NUL: one byte less */
            if (strsize + len > strcap) {
                strcap = 2 * (strsize + len);
                char *n = realloc(strs, strcap);
                if (!n)
                    goto out;
                strs = *strtab = n;
            }
            strs[strsize] = '.';
            memcpy(strs + strsize + 1, name + 2, len - 1);
            names[elf_ndxscn(scn)] = (GElf_Word)strsize;
            strsize += len;
        }
    }

    if (!gelf_newehdr(dst, gelf_getclass(src)))
        goto out;
    if (eh.e_phnum) {
        if (!gelf_newphdr(dst, eh.e_phnum))
            goto out;
        for (int i = 0; i < eh.e_phnum; i++) {
            GElf_Phdr ph;
            if (!gelf_getphdr(src, i, &ph) || !gelf_update_phdr(dst, i, &ph))
                goto out;
        }
    }
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(src, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh)) /* its size and flags after inflating */
            goto out;
        sh.sh_name = names[elf_ndxscn(scn)];
        Elf_Scn *oscn = elf_newscn(dst);
        if (!oscn)
            goto out;
        if (elf_ndxscn(scn) == shstrndx) {
            Elf_Data *d = elf_newdata(oscn);
            if (!d)
                goto out;
            *d = *strdata;
            d->d_buf = strs;
            d->d_size = strsize;
            sh.sh_size = strsize;
        } else {
            for (Elf_Data *in = NULL; (in = elf_getdata(scn, in));) {
                Elf_Data *d = elf_newdata(oscn);
                if (!d)
                    goto out;
                *d = *in;
            }
        }
        if (!(sh.sh_flags & SHF_ALLOC)) {
            uint64_t align = sh.sh_addralign > 1 ? sh.sh_addralign : 1;
            sh.sh_offset = (end + align - 1) / align * align;
            if (sh.sh_type != SHT_NOBITS)
                end = sh.sh_offset + sh.sh_size;
        }
        if (!gelf_update_shdr(oscn, &sh))
            goto out;
    }
    size_t align = gelf_getclass(src) == ELFCLASS32 ? 4 : 8;
    eh.e_shoff = (end + align - 1) / align * align;
    if (!gelf_update_ehdr(dst, &eh))
        goto out;
    elf_flagelf(dst, ELF_C_SET, ELF_F_LAYOUT);
    rc = elf_update(dst, ELF_C_WRITE) < 0 ? -1 : 0;
out:
    free(names);
    return rc;
}

/* Writes DIR/ID.debug and DIR/ID.key for SRC (open on FD, described by ST, named NAME), each
 * through a temporary file renamed into place, so a reader sees a whole file or none. */
static void mt_dc_create(const char *dir, const char *id, Elf *src, const struct stat *st,
                         const char *name)
{
    char tmp[PATH_MAX], path[PATH_MAX];
    if (!mt_dc_dir_fits(dir) || mt_mkdirs_private(dir) != 0 ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/%s.debug.XXXXXX", dir, id) >= sizeof tmp)
        return;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return;
    char *strtab = NULL;
    Elf *dst = elf_begin(fd, ELF_C_WRITE, NULL);
    struct stat cst;
    int ok = dst && mt_dc_inflate(src, dst, &strtab) == 0;
    elf_end(dst);
    free(strtab);
    ok = ok && fstat(fd, &cst) == 0;
    close(fd);
    snprintf(path, sizeof path, "%s/%s.debug", dir, id);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return;
    }
    snprintf(tmp, sizeof tmp, "%s/%s.key.XXXXXX", dir, id);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return;
    }
    fprintf(f, MT_DC_MAGIC "\n%jd %jd %jd %jd\n%s\n", (intmax_t)st->st_size,
            (intmax_t)st->st_mtim.tv_sec, (intmax_t)st->st_mtim.tv_nsec, (intmax_t)cst.st_size,
            name);
    snprintf(path, sizeof path, "%s/%s.key", dir, id);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return;
    }
    mt_dc_evict(dir, id);
}

int mt_debug_cache_swap(int fd, char **name)
{
    char dir[PATH_MAX], id[2 * 64 + 1];
    struct stat st;
    if (!*name || strchr(*name, '\n') || mt_dc_dir(dir, sizeof dir) != 0 || fstat(fd, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return fd;
    elf_version(EV_CURRENT);
    /* Private: inflating a section writes into the mapping, never into the file. */
    Elf *src = elf_begin(fd, ELF_C_READ_MMAP_PRIVATE, NULL);
    if (!src || mt_dc_compressed(src) != 1 || mt_dc_build_id(src, id, sizeof id) != 0) {
        elf_end(src);
        return fd;
    }
    int cfd = mt_dc_lookup(dir, id, &st);
    if (cfd < 0) {
        mt_dc_create(dir, id, src, &st, *name);
        cfd = mt_dc_lookup(dir, id, &st);
    }
    elf_end(src);
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s.debug", dir, id); /* fits: mt_dc_lookup opened it */
    char *cname = cfd >= 0 && n > 0 && (size_t)n < sizeof path ? strdup(path) : NULL;
    if (!cname) {
        if (cfd >= 0)
            close(cfd);
        return fd;
    }
    close(fd);
    free(*name);
    *name = cname;
    return cfd;
}

int mt_debug_cache_open(const char *path, char **name)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char *n = fd < 0 ? NULL : strdup(path);
    if (!n) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int cfd = mt_debug_cache_swap(fd, &n);
    if (cfd == fd) { /* no copy: one is opened before FD is closed, so never equal */
        close(fd);
        free(n);
        return -2;
    }
    *name = n;
    return cfd;
}

int mt_debug_cache_origin(const char *path, char *out, size_t size)
{
    char dir[PATH_MAX], key[PATH_MAX];
    size_t n, len = strlen(path);
    if (mt_dc_dir(dir, sizeof dir) != 0)
        return -ENOENT;
    n = strlen(dir);
    if (strncmp(path, dir, n) != 0 || path[n] != '/' || len < n + 7 ||
        strcmp(path + len - 6, ".debug") != 0 || len + 1 > sizeof key)
        return -ENOENT;
    snprintf(key, sizeof key, "%.*s.key", (int)(len - 6), path);
    mt_dc_key_t k;
    return mt_dc_read_key(key, &k, out, size) == 0 ? 0 : -ENOENT;
}

int mt_debug_build_id_path(char *path, size_t size, const unsigned char *id, size_t len)
{
    if (len < 2 || len > 64 || size < 2 * len + 32)
        return -1;
    int n = snprintf(path, size, "/usr/lib/debug/.build-id/%02x/", id[0]);
    for (size_t i = 1; i < len; i++)
        n += snprintf(path + n, size - (size_t)n, "%02x", id[i]);
    snprintf(path + n, size - (size_t)n, ".debug");
    return 0;
}

/* libdwfl's search for MOD's debug file (build-id, then .gnu_debuglink), run on a copy of the
 * module: on MOD itself, it would keep its own handle on the file it finds, and libdw would
 * read that one (compressed) whatever this callback returns. */
static int mt_dc_find_aside(Dwfl_Module *mod, const char *modname, const char *file_name,
                            const char *debuglink_file, GElf_Word debuglink_crc,
                            char **debuginfo_file_name)
{
    static char *default_path = NULL; /* libdwfl's default, as the symbolizer's */
    static const Dwfl_Callbacks plain = {
        .find_elf = dwfl_build_id_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = dwfl_offline_section_address,
        .debuginfo_path = &default_path,
    };
    const unsigned char *id, *aside_id;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(mod, &id, &vaddr);
    Dwfl *dwfl = file_name ? dwfl_begin(&plain) : NULL;
    if (!dwfl)
        return -2;
    dwfl_report_begin(dwfl);
    Dwfl_Module *aside = dwfl_report_elf(dwfl, modname, file_name, -1, 0, false);
    dwfl_report_end(dwfl, NULL, NULL);
    int fd = -2; /* -2: ask libdwfl on MOD after all */
    if (aside && dwfl_module_build_id(aside, &aside_id, &vaddr) == n &&
        (n <= 0 || memcmp(id, aside_id, (size_t)n) == 0)) {
        fd = dwfl_standard_find_debuginfo(aside, NULL, modname, 0, file_name, debuglink_file,
                                          debuglink_crc, debuginfo_file_name);
        if (fd >= 0)
            fd = mt_debug_cache_swap(fd, debuginfo_file_name);
    }
    dwfl_end(dwfl);
    return fd;
}

/* The .gnu_debugaltlink of the debug file PATH: the dwz common file's name in NAME and its
 * build-id in ID (*IDLEN bytes). 0, or -1 when it has none. */
static int mt_dc_altlink(const char *path, char *name, size_t size, unsigned char *id,
                         size_t *idlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
    if (fd < 0)
        return -1;
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    size_t shstrndx;
    if (elf && elf_kind(elf) == ELF_K_ELF && elf_getshdrstrndx(elf, &shstrndx) == 0) {
        for (Elf_Scn *scn = NULL; rc != 0 && (scn = elf_nextscn(elf, scn));) {
            GElf_Shdr sh;
            const char *sn;
            Elf_Data *d;
            if (!gelf_getshdr(scn, &sh) || !(sn = elf_strptr(elf, shstrndx, sh.sh_name)) ||
                strcmp(sn, ".gnu_debugaltlink") != 0 || !(d = elf_getdata(scn, NULL)) || !d->d_buf)
                continue;
            const char *p = d->d_buf, *nul = memchr(p, '\0', d->d_size);
            size_t n = nul ? (size_t)(nul - p) : 0, left = nul ? d->d_size - n - 1 : 0;
            if (nul && n > 0 && n < size && left >= 2 && left <= 64) {
                memcpy(name, p, n + 1);
                memcpy(id, nul + 1, left);
                *idlen = left;
                rc = 0;
            }
        }
    }
    elf_end(elf);
    close(fd);
    return rc;
}

/* True when the ELF file PATH has the build-id ID (LEN bytes). */
static int mt_dc_has_build_id(const char *path, const unsigned char *id, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    const void *fid = NULL;
    ssize_t n = elf ? dwelf_elf_gnu_build_id(elf, &fid) : -1;
    int ok = n > 0 && (size_t)n == len && memcmp(fid, id, len) == 0;
    elf_end(elf);
    close(fd);
    return ok;
}

/* The dwz common file that the debug file DEBUGFILE (a cache entry or not) names, from the
 * cache: an fd on its copy and the copy's path in *NAME, or -1. Returned to libdwfl, which
 * then reads it: unlike its own search, which keeps a handle on the file it validates.
 * Looked for under its build-id, then by its name (relative: from the original debug file's
 * directory); the file found must have the build-id the link names. */
static int mt_dc_find_alt(const char *debugfile, char **name)
{
    char alt[PATH_MAX], path[PATH_MAX], origin[PATH_MAX];
    unsigned char id[64];
    size_t idlen;
    if (mt_dc_altlink(debugfile, alt, sizeof alt, id, &idlen) != 0)
        return -1;
    const char *from =
        mt_debug_cache_origin(debugfile, origin, sizeof origin) == 0 ? origin : debugfile;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0 && mt_debug_build_id_path(path, sizeof path, id, idlen) != 0)
            continue;
        if (pass == 1) {
            const char *slash = strrchr(from, '/');
            int n = alt[0] == '/' || !slash
                        ? snprintf(path, sizeof path, "%s", alt)
                        : snprintf(path, sizeof path, "%.*s/%s", (int)(slash - from), from, alt);
            if (n < 0 || (size_t)n >= sizeof path)
                continue;
        }
        if (access(path, R_OK) != 0 || !mt_dc_has_build_id(path, id, idlen))
            continue;
        int fd = mt_debug_cache_open(path, name);
        return fd >= 0 ? fd : -1; /* found, but no copy to use: libdwfl's search finds it */
    }
    return -1;
}

/* A dwz file (.gnu_debugaltlink) is read from the cache when it has a copy (mt_dc_find_alt);
 * otherwise libdwfl looks for it, one named relative to a cached copy from the original's
 * place. */
int mt_debug_cache_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
                                  GElf_Addr base, const char *file_name, const char *debuglink_file,
                                  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
    const char *debugfile = NULL;
    char path[PATH_MAX];
    if (mt_dc_dir(path, sizeof path) != 0) /* off: exactly libdwfl's search */
        return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                            debuglink_crc, debuginfo_file_name);
    dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, &debugfile);
    if (!debugfile) { /* the module's debug file, not its alt file */
        const unsigned char *id;
        GElf_Addr vaddr;
        int n = dwfl_module_build_id(mod, &id, &vaddr);
        int fd = n > 0 && mt_debug_build_id_path(path, sizeof path, id, (size_t)n) == 0
                     ? mt_debug_cache_open(path, debuginfo_file_name)
                     : -1;
        /* No file under the build-id: the whole search, on the side. A file there with no copy
         * to use (-2) is the one libdwfl's own search below finds first: no second search. */
        if (fd == -1)
            fd = mt_dc_find_aside(mod, modname, file_name, debuglink_file, debuglink_crc,
                                  debuginfo_file_name);
        if (fd != -2)
            return fd;
    } else if (file_name) {
        int fd = mt_dc_find_alt(file_name, debuginfo_file_name);
        if (fd >= 0)
            return fd;
        if (mt_debug_cache_origin(file_name, path, sizeof path) == 0)
            file_name = path;
    }
    return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                        debuglink_crc, debuginfo_file_name);
}

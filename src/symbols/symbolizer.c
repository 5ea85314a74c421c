// SPDX-License-Identifier: MIT
// Symbolizer on elfutils libdwfl (see symbolizer.h). Each module gets its own Dwfl reported at
// base 0, and is queried with module-relative addresses: modules loaded and unloaded at the same
// address over a run can never be confused. It must never abort on a broken or foreign file:
// anything libdw cannot read degrades to module+offset with one warning.
#include "symbolizer.h"
#include "debug_cache.h"
#include "names.h"
#include "scope_index.h"
#include "symtab.h"
#include "grow.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libstdc++'s demangler, the one every C++ toolchain on Linux agrees with. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

char *mt_demangle(const char *name)
{
    if (!name || name[0] != '_' || name[1] != 'Z')
        return NULL;
    int status = 0;
    char *d = __cxa_demangle(name, NULL, NULL, &status);
    if (status != 0) {
        free(d);
        return NULL;
    }
    return d;
}

/* ---- string interning ---- */

typedef struct mt_strpool {
    const char **slots; /* open addressing on the string hash */
    size_t cap, count;
    char *block; /* current bump block */
    size_t used, size;
    char **blocks;
    size_t nblocks;
} mt_strpool_t;

static uint64_t mt_hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static int mt_strpool_grow(mt_strpool_t *p)
{
    size_t ncap = p->cap ? p->cap * 2 : 1024;
    const char **ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < p->cap; i++) {
        if (!p->slots[i])
            continue;
        size_t j = mt_hash_str(p->slots[i]) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = p->slots[i];
    }
    free(p->slots);
    p->slots = ns;
    p->cap = ncap;
    return 0;
}

static const char *mt_strpool_intern(mt_strpool_t *p, const char *s)
{
    if ((p->count + 1) * 2 > p->cap && mt_strpool_grow(p) < 0)
        return NULL;
    size_t j = mt_hash_str(s) & (p->cap - 1);
    while (p->slots[j]) {
        if (strcmp(p->slots[j], s) == 0)
            return p->slots[j];
        j = (j + 1) & (p->cap - 1);
    }
    size_t n = strlen(s) + 1;
    if (p->used + n > p->size) {
        size_t bs = n > 65536 ? n : 65536;
        char **nb = realloc(p->blocks, (p->nblocks + 1) * sizeof *nb);
        if (!nb)
            return NULL;
        p->blocks = nb;
        char *b = malloc(bs);
        if (!b)
            return NULL;
        p->blocks[p->nblocks++] = b;
        p->block = b;
        p->used = 0;
        p->size = bs;
    }
    char *d = p->block + p->used;
    memcpy(d, s, n);
    p->used += n;
    p->slots[j] = d;
    p->count++;
    return d;
}

static void mt_strpool_destroy(mt_strpool_t *p)
{
    for (size_t i = 0; i < p->nblocks; i++)
        free(p->blocks[i]);
    free(p->blocks);
    free(p->slots);
}

/* ---- per-module state and the result cache ---- */

/* One address range of one compile unit, in the DWARF's own addresses (module-relative minus
 * the debug file's bias). */
typedef struct mt_cu_range {
    Dwarf_Addr begin, end;
    Dwarf_Addr max_end; /* the largest end of this and every earlier range (sorted by begin) */
    Dwarf_Die cudie;    /* the unit's DIE; a skeleton's for split DWARF */
} mt_cu_range_t;

typedef struct mt_symmod {
    int state; /* 0 not tried, 1 usable, -1 unusable */
    Dwfl *dwfl;
    Dwfl_Module *mod;
    int cus_built; /* the table below was built (it may still be empty) */
    Dwarf_Addr cus_bias;
    mt_cu_range_t *cus; /* for files without .debug_aranges (clang's default) */
    size_t ncus;
    int split_missing;   /* warned once: a skeleton unit without its .dwo */
    mt_symtab_t *symtab; /* built at the first address DWARF does not name */
    const char **names;  /* by symbol slot: the demangled, interned name (NULL: not yet) */
} mt_symmod_t;

typedef struct mt_cache_entry {
    uint64_t address; /* lookup address (already -1 for return addresses) */
    uint32_t module;
    uint32_t used;
    uint32_t first, count; /* frames[first .. first+count) */
} mt_cache_entry_t;

struct mt_symbolizer {
    const mt_modules_t *mods;
    mt_symmod_t *symmods;
    size_t nsymmods;
    mt_strpool_t strings;
    mt_cache_entry_t *cache;
    size_t cache_cap, cache_count;
    mt_frame_t *frames;
    size_t nframes, frames_cap;
    const char **warnings;
    size_t nwarnings;
    mt_scope_index_t *scopes; /* functions per pc range, across every module's units */
    int offline;              /* never open a file: every frame is module+offset */
};

static char *mt_debuginfo_path = NULL; /* libdwfl's default: ":.debug:/usr/lib/debug" */

static const Dwfl_Callbacks mt_dwfl_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = mt_debug_cache_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &mt_debuginfo_path,
};

int mt_symbolizer_new(mt_symbolizer_t **out, const mt_modules_t *mods)
{
    mt_symbolizer_t *s = calloc(1, sizeof *s);
    if (!s || mt_scope_index_new(&s->scopes) < 0) {
        free(s);
        return -ENOMEM;
    }
    s->mods = mods;
    *out = s;
    return 0;
}

static void mt_symmod_close(mt_symmod_t *sm)
{
    if (sm->dwfl)
        dwfl_end(sm->dwfl);
    free(sm->cus);
    mt_symtab_free(sm->symtab);
    free(sm->names);
}

void mt_symbolizer_free(mt_symbolizer_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nsymmods; i++)
        mt_symmod_close(&s->symmods[i]);
    free(s->symmods);
    mt_strpool_destroy(&s->strings);
    free(s->cache);
    free(s->frames);
    free(s->warnings);
    mt_scope_index_free(s->scopes);
    free(s);
}

void mt_symbolizer_set_offline(mt_symbolizer_t *s)
{
    s->offline = 1;
}

void mt_symbolizer_release_files(mt_symbolizer_t *s)
{
    mt_scope_index_t *fresh; /* the index holds DIEs of the files closed here */
    if (mt_scope_index_new(&fresh) < 0)
        return; /* keeping them open costs memory, never an answer */
    mt_scope_index_free(s->scopes);
    s->scopes = fresh;
    for (size_t i = 0; i < s->nsymmods; i++) {
        mt_symmod_t *sm = &s->symmods[i];
        if (sm->state <= 0)
            continue; /* never opened, or warned about once: nothing to close */
        mt_symmod_close(sm);
        int split_missing = sm->split_missing; /* said once per module, also after reopening */
        memset(sm, 0, sizeof *sm);
        sm->split_missing = split_missing;
    }
}

const char *mt_symbolizer_intern(mt_symbolizer_t *s, const char *str)
{
    return mt_strpool_intern(&s->strings, str);
}

size_t mt_symbolizer_warning_count(const mt_symbolizer_t *s)
{
    return s->nwarnings;
}

const char *mt_symbolizer_warning(const mt_symbolizer_t *s, size_t i)
{
    return i < s->nwarnings ? s->warnings[i] : NULL;
}

/* One warning line: "PATH: WHAT, TAIL". */
static void mt_symbolizer_warn_as(mt_symbolizer_t *s, const char *path, const char *what,
                                  const char *tail)
{
    char buf[4200];
    snprintf(buf, sizeof buf, "%s: %s, %s", path, what, tail);
    const char *w = mt_strpool_intern(&s->strings, buf);
    const char **nw = realloc(s->warnings, (s->nwarnings + 1) * sizeof *nw);
    if (!w || !nw)
        return; /* a lost warning is not worth failing the report */
    s->warnings = nw;
    s->warnings[s->nwarnings++] = w;
}

static void mt_symbolizer_warn(mt_symbolizer_t *s, const char *path, const char *what)
{
    mt_symbolizer_warn_as(s, path, what, "shown as module+offset");
}

static int mt_build_id_matches(Dwfl_Module *mod, const mt_module_t *m)
{
    const unsigned char *bits;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(mod, &bits, &vaddr);
    if (m->build_id_len == 0 || n <= 0)
        return 1; /* nothing to compare: trust the path */
    return (size_t)n == m->build_id_len && memcmp(bits, m->build_id, (size_t)n) == 0;
}

/* Reports one file into a fresh Dwfl at base 0; NULL on failure. */
static Dwfl_Module *mt_report_file(Dwfl **dwflp, const char *name, const char *file)
{
    Dwfl *dwfl = dwfl_begin(&mt_dwfl_callbacks);
    if (!dwfl)
        return NULL;
    dwfl_report_begin(dwfl);
    Dwfl_Module *mod = dwfl_report_elf(dwfl, name, file, -1, 0, false);
    dwfl_report_end(dwfl, NULL, NULL);
    if (!mod) {
        dwfl_end(dwfl);
        return NULL;
    }
    *dwflp = dwfl;
    return mod;
}

/* The debug file installed for a build-id (/usr/lib/debug/.build-id/ab/cdef.debug): it holds
 * symbols and DWARF even when the module itself is gone or was replaced. */
static Dwfl_Module *mt_report_by_build_id(Dwfl **dwflp, const mt_module_t *m)
{
    if (m->build_id_len < 2 || m->build_id_len > 64)
        return NULL;
    char path[64 + 2 * 64 + 16];
    if (mt_debug_build_id_path(path, sizeof path, m->build_id, m->build_id_len) != 0 ||
        access(path, R_OK) != 0)
        return NULL;
    char *copy = NULL; /* the uncompressed copy, when the cache has or can make it */
    int fd = mt_debug_cache_open(path, &copy);
    if (fd >= 0)
        close(fd);
    Dwfl_Module *mod = mt_report_file(dwflp, m->basename, copy ? copy : path);
    free(copy);
    if (mod && !mt_build_id_matches(mod, m)) {
        dwfl_end(*dwflp);
        *dwflp = NULL;
        return NULL;
    }
    return mod;
}

/* A path into a process's own /proc entry (/proc/self/fd/3, /proc/1234/map_files/...): it
 * named the recorded process's file, never one the analysis may open. */
static int mt_symbolizer_proc_path(const char *path)
{
    if (strncmp(path, "/proc/", 6) != 0)
        return 0;
    const char *p = path + 6;
    if (strncmp(p, "self/", 5) == 0 || strncmp(p, "thread-self/", 12) == 0)
        return 1;
    size_t digits = strspn(p, "0123456789");
    return digits > 0 && p[digits] == '/';
}

static mt_symmod_t *mt_symmod_get(mt_symbolizer_t *s, uint32_t index)
{
    const mt_module_t *m = mt_modules_get(s->mods, index);
    if (!m)
        return NULL;
    if (index >= s->nsymmods) {
        size_t n = mt_modules_count(s->mods);
        mt_symmod_t *ns = realloc(s->symmods, n * sizeof *ns);
        if (!ns)
            return NULL;
        memset(ns + s->nsymmods, 0, (n - s->nsymmods) * sizeof *ns);
        s->symmods = ns;
        s->nsymmods = n;
    }
    mt_symmod_t *sm = &s->symmods[index];
    if (sm->state)
        return sm->state > 0 ? sm : NULL;
    sm->state = -1;
    if (s->offline)
        return NULL;
    /* Pseudo-modules have no file; not worth a warning. */
    if (m->path[0] != '/') {
        if (m->path[0] && strncmp(m->path, "linux-vdso", 10) != 0 && m->path[0] != '[')
            mt_symbolizer_warn(s, m->path, "not an absolute path");
        return NULL;
    }
    Dwfl *dwfl = NULL;
    Dwfl_Module *mod = NULL;
    const char *problem = NULL;
    struct stat st;
    if (mt_symbolizer_proc_path(m->path)) {
        /* dlopen("/proc/self/fd/N") of a memfd_create file: here that path is one of this
         * process's own descriptors, some other file or none */
        problem = "loaded through the recorded process's /proc (a memfd or a descriptor), "
                  "gone with it";
    } else if (access(m->path, R_OK) != 0) {
        problem = "file not found";
    } else if (stat(m->path, &st) != 0 || !S_ISREG(st.st_mode)) {
        /* The path comes from the log: a FIFO or a device would block or never end. */
        problem = "not a regular file";
    } else {
        mod = mt_report_file(&dwfl, m->basename, m->path);
        if (!mod) {
            problem = "not a readable ELF file";
        } else if (!mt_build_id_matches(mod, m)) {
            problem = "build-id differs from the recorded one (file changed since the run)";
            dwfl_end(dwfl);
            dwfl = NULL;
            mod = NULL;
        }
    }
    if (!mod)
        mod = mt_report_by_build_id(&dwfl, m);
    if (!mod) {
        mt_symbolizer_warn(s, m->path, problem ? problem : "unreadable");
        return NULL;
    }
    sm->dwfl = dwfl;
    sm->mod = mod;
    sm->state = 1;
    return sm;
}

/* Appends a frame to the frame store; returns its index or -ENOMEM. */
static int mt_push_frame(mt_symbolizer_t *s, const mt_frame_t *f)
{
    if (MT_GROW(s->frames, s->frames_cap, s->nframes + 1, 1024) < 0)
        return -ENOMEM;
    s->frames[s->nframes++] = *f;
    return 0;
}

/* Name of a subprogram or inlined-subroutine DIE: the demangled linkage name when there is one
 * (C++: qualified, with parameters), else DW_AT_name, following abstract_origin/specification. */
static const char *mt_die_name(mt_symbolizer_t *s, Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
        name = dwarf_formstring(&attr);
    if (name) {
        char *d = mt_demangle(name);
        if (d) {
            const char *r = mt_strpool_intern(&s->strings, d);
            free(d);
            return r;
        }
    }
    if (dwarf_attr_integrate(die, DW_AT_name, &attr))
        name = dwarf_formstring(&attr);
    return name ? mt_strpool_intern(&s->strings, name) : NULL;
}

static const char *mt_demangle_intern(mt_symbolizer_t *s, const char *name)
{
    char *d = mt_demangle(name);
    const char *r = mt_strpool_intern(&s->strings, d ? d : name);
    free(d);
    return r;
}

/* The ELF symbol's name (what dwfl_module_addrinfo gives), demangled once per symbol. */
static const char *mt_symtab_name(mt_symbolizer_t *s, mt_symmod_t *sm, Dwarf_Addr a)
{
    if (!sm->symtab && mt_symtab_new(&sm->symtab, sm->mod) < 0)
        return NULL;
    if (!sm->names && mt_symtab_count(sm->symtab)) /* calloc: untouched slots cost no RSS */
        sm->names = calloc(mt_symtab_count(sm->symtab), sizeof *sm->names);
    uint32_t id;
    const char *name = mt_symtab_lookup(sm->symtab, a, &id);
    if (!name)
        return NULL;
    if (id == MT_SYMTAB_NO_ID || !sm->names)
        return mt_demangle_intern(s, name);
    if (!sm->names[id])
        sm->names[id] = mt_demangle_intern(s, name);
    return sm->names[id];
}

/* ---- finding the compile unit of an address ---- */

static int mt_cu_range_cmp(const void *a, const void *b)
{
    const mt_cu_range_t *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* libdwfl finds an address's unit through .debug_aranges only (elfutils 0.188); clang emits
 * none by default. So, once per module, every unit's ranges (DW_AT_ranges or low/high_pc, as
 * dwarf_ranges reads them) go into a table sorted by start, searched in O(log n) per address.
 * Only unit DIEs are read here: a split unit's .dwo is opened when an address needs it. */
static void mt_cu_table_build(mt_symmod_t *sm)
{
    sm->cus_built = 1;
    Dwarf_Addr bias = 0;
    Dwarf *dw = dwfl_module_getdwarf(sm->mod, &bias);
    if (!dw)
        return;
    sm->cus_bias = bias;
    size_t cap = 0;
    Dwarf_CU *cu = NULL, *next = NULL;
    Dwarf_Half version;
    uint8_t type;
    Dwarf_Die cudie;
    while (dwarf_get_units(dw, cu, &next, &version, &type, &cudie, NULL) == 0) {
        cu = next;
        if (type != DW_UT_compile && type != DW_UT_skeleton)
            continue; /* type and partial units hold no code of their own */
        Dwarf_Addr base, begin, end;
        for (ptrdiff_t off = 0; (off = dwarf_ranges(&cudie, off, &base, &begin, &end)) > 0;) {
            /* Code the linker dropped keeps ranges at 0 (or a tombstone): never a real pc. */
            if (begin == 0 || begin >= end)
                continue;
            if (sm->ncus == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                mt_cu_range_t *n = realloc(sm->cus, ncap * sizeof *n);
                if (!n)
                    return; /* what is there still works; the rest is module+offset */
                sm->cus = n;
                cap = ncap;
            }
            sm->cus[sm->ncus++] = (mt_cu_range_t){.begin = begin, .end = end, .cudie = cudie};
        }
    }
    if (sm->ncus) /* qsort's array must not be NULL, even when empty */
        qsort(sm->cus, sm->ncus, sizeof *sm->cus, mt_cu_range_cmp);
    Dwarf_Addr max_end = 0;
    for (size_t i = 0; i < sm->ncus; i++) {
        if (sm->cus[i].end > max_end)
            max_end = sm->cus[i].end;
        sm->cus[i].max_end = max_end;
    }
}

/* The unit covering a (module-relative); NULL when none does. */
static Dwarf_Die *mt_cu_lookup(mt_symmod_t *sm, Dwarf_Addr a, Dwarf_Addr *bias)
{
    /* .debug_aranges, when the file has them for this address: libdwfl's own index. */
    Dwarf_Die *die = dwfl_module_addrdie(sm->mod, a, bias);
    if (die)
        return die;
    if (!sm->cus_built)
        mt_cu_table_build(sm);
    *bias = sm->cus_bias;
    if (a < sm->cus_bias)
        return NULL;
    Dwarf_Addr da = a - sm->cus_bias;
    size_t lo = 0, hi = sm->ncus; /* first range starting after da */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sm->cus[mid].begin <= da)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Ranges may nest or overlap; max_end stops the walk back at the first range that
     * cannot reach da, which is the previous one for well-formed files. */
    for (size_t i = lo; i-- > 0 && sm->cus[i].max_end > da;)
        if (da < sm->cus[i].end)
            return &sm->cus[i].cudie;
    return NULL;
}

/* For a skeleton unit (gcc -gsplit-dwarf, clang -gsplit-dwarf), the split unit in its .dwo
 * holds the functions and inlined calls; the skeleton keeps the line table. Without the .dwo
 * (or with only a .dwp, which elfutils reads from 0.191 on) lines still come from the
 * skeleton and names from the symbol table, without inlined frames: said once per module. */
static Dwarf_Die *mt_split_unit(mt_symbolizer_t *s, mt_symmod_t *sm, uint32_t module,
                                Dwarf_Die *cudie, Dwarf_Die *split)
{
    uint8_t type = 0;
    Dwarf_Die sub;
    memset(&sub, 0, sizeof sub);
    if (dwarf_cu_info(cudie->cu, NULL, &type, NULL, &sub, NULL, NULL, NULL) != 0 ||
        type != DW_UT_skeleton)
        return cudie;
    if (!sub.cu) {
        const mt_module_t *m = mt_modules_get(s->mods, module);
        if (!sm->split_missing && m)
            mt_symbolizer_warn_as(s, m->path, "split DWARF unit (.dwo) not found",
                                  "shown without inlined calls");
        sm->split_missing = 1;
        return cudie;
    }
    *split = sub;
    return split;
}

/* A source file as a person looks for it, "." and ".." resolved: DWARF names it relative to
 * the unit's compile directory ("../samples/demo.c" from a meson build directory), which
 * read from anywhere else points at the wrong place. An absolute compile directory gives an
 * absolute path; a relative one (a distribution's -ffile-prefix-map: "./nptl") a path in
 * that project's source tree ("sysdeps/nptl/x.h"), unless it would climb out of it. NULL on
 * ENOMEM. */
static const char *mt_intern_file(mt_symbolizer_t *s, Dwarf_Die *cu, const char *file)
{
    char buf[4096];
    const char *dir = NULL;
    Dwarf_Attribute attr;
    if (file[0] != '/' && cu)
        dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
    if (dir || (file[0] == '/' && strstr(file, "/."))) {
        size_t n = mt_path_join(buf, sizeof buf, file[0] == '/' ? "" : dir, file);
        if (n < sizeof buf && strncmp(buf, "..", 2) != 0)
            return mt_strpool_intern(&s->strings, buf);
    }
    return mt_strpool_intern(&s->strings, file);
}

/* Fills the frame store with the frames of one address (innermost first). */
static int mt_symbolize(mt_symbolizer_t *s, mt_symmod_t *sm, uint32_t module, uint64_t address,
                        Dwarf_Addr a)
{
    mt_frame_t f = {.module = module, .address = address};
    Dwarf_Addr bias = 0;
    Dwarf_Die *linedie = mt_cu_lookup(sm, a, &bias);
    Dwarf_Die split;
    Dwarf_Die *cudie = linedie ? mt_split_unit(s, sm, module, linedie, &split) : NULL;
    Dwarf_Line *line = linedie ? dwarf_getsrc_die(linedie, a - bias) : NULL;
    if (line) {
        int lineno = 0;
        const char *file = dwarf_linesrc(line, NULL, NULL);
        f.file = file ? mt_intern_file(s, linedie, file) : NULL;
        f.line = dwarf_lineno(line, &lineno) == 0 && lineno > 0 ? (uint32_t)lineno : 0;
    }
    const Dwarf_Die *chain = NULL;
    int nchain = cudie ? mt_scope_index_chain(s->scopes, cudie, a - bias, &chain) : 0;
    if (nchain < 0)
        return nchain;
    int pushed = 0, rc = 0;
    Dwarf_Files *files = NULL;
    size_t nfiles = 0;
    for (int i = 0; i < nchain; i++) {
        Dwarf_Die die_copy = chain[i], *die = &die_copy;
        int tag = dwarf_tag(die);
        f.function = mt_die_name(s, die);
        f.inlined = tag == DW_TAG_inlined_subroutine;
        if ((rc = mt_push_frame(s, &f)) < 0)
            return rc;
        pushed++;
        if (tag != DW_TAG_inlined_subroutine)
            break;
        /* The caller's position is the inlined call site. */
        Dwarf_Attribute attr;
        Dwarf_Word fidx = 0, cline = 0;
        f.file = NULL;
        f.line = 0;
        if (dwarf_attr(die, DW_AT_call_file, &attr) && dwarf_formudata(&attr, &fidx) == 0 &&
            (files || dwarf_getsrcfiles(cudie, &files, &nfiles) == 0) && fidx < nfiles) {
            const char *cf = dwarf_filesrc(files, fidx, NULL, NULL);
            f.file = cf ? mt_intern_file(s, linedie, cf) : NULL;
        }
        if (dwarf_attr(die, DW_AT_call_line, &attr) && dwarf_formudata(&attr, &cline) == 0)
            f.line = (uint32_t)cline;
    }
    if (pushed == 0 || !s->frames[s->nframes - 1].function) {
        /* No DWARF function for it: the ELF symbol table still names it. */
        const char *name = mt_symtab_name(s, sm, a);
        if (pushed == 0) {
            f.function = name;
            f.inlined = 0;
            if ((rc = mt_push_frame(s, &f)) < 0)
                return rc;
            pushed = 1;
        } else {
            s->frames[s->nframes - 1].function = name;
        }
    }
    return pushed;
}

static uint64_t mt_cache_hash(uint32_t module, uint64_t a)
{
    return ((a ^ ((uint64_t)module << 40)) * 0x9E3779B97F4A7C15ull) >> 20;
}

static int mt_cache_grow(mt_symbolizer_t *s)
{
    size_t ncap = s->cache_cap ? s->cache_cap * 2 : 4096;
    mt_cache_entry_t *nc = calloc(ncap, sizeof *nc);
    if (!nc)
        return -ENOMEM;
    for (size_t i = 0; i < s->cache_cap; i++) {
        if (!s->cache[i].used)
            continue;
        size_t j = mt_cache_hash(s->cache[i].module, s->cache[i].address) & (ncap - 1);
        while (nc[j].used)
            j = (j + 1) & (ncap - 1);
        nc[j] = s->cache[i];
    }
    free(s->cache);
    s->cache = nc;
    s->cache_cap = ncap;
    return 0;
}

int mt_symbolizer_lookup(mt_symbolizer_t *s, uint32_t module, uint64_t address, int return_address,
                         const mt_frame_t **frames)
{
    uint32_t ref;
    int n = mt_symbolizer_lookup_ref(s, module, address, return_address, &ref);
    if (n > 0)
        *frames = &s->frames[ref];
    return n;
}

const mt_frame_t *mt_symbolizer_frames(const mt_symbolizer_t *s, uint32_t ref)
{
    return &s->frames[ref];
}

int mt_symbolizer_lookup_ref(mt_symbolizer_t *s, uint32_t module, uint64_t address,
                             int return_address, uint32_t *ref)
{
    uint64_t a = return_address && address > 0 ? address - 1 : address;
    if ((s->cache_count + 1) * 2 > s->cache_cap && mt_cache_grow(s) < 0)
        return -ENOMEM;
    size_t j = mt_cache_hash(module, a) & (s->cache_cap - 1);
    while (s->cache[j].used) {
        mt_cache_entry_t *e = &s->cache[j];
        if (e->module == module && e->address == a) {
            *ref = e->first;
            return (int)e->count;
        }
        j = (j + 1) & (s->cache_cap - 1);
    }
    size_t first = s->nframes;
    int n = 0;
    mt_symmod_t *sm = module == MT_NO_MODULE ? NULL : mt_symmod_get(s, module);
    if (sm)
        n = mt_symbolize(s, sm, module, address, a);
    if (n < 0)
        return n;
    if (n == 0) {
        mt_frame_t f = {.module = module, .address = address};
        if (mt_push_frame(s, &f) < 0)
            return -ENOMEM;
        n = 1;
    }
    s->cache[j] = (mt_cache_entry_t){
        .address = a, .module = module, .used = 1, .first = (uint32_t)first, .count = (uint32_t)n};
    s->cache_count++;
    *ref = (uint32_t)first;
    return n;
}

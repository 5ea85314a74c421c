// SPDX-License-Identifier: MIT
// Sorted symbol table (see symtab.h). libdwfl's search (__libdwfl_addrsym) meets the symbols in
// table order, global ones first and local ones only when no global one answers; among the
// sized symbols that contain the address its choice depends on that order (a farther global
// beats a nearer weak one met before it), so the few containing symbols are found by address
// and then replayed in table order. A size-0 symbol (an assembly label, or an alias the linker
// folded away) answers only when no sized one contains the address, it starts where the last
// symbol below the address ends, and it lies in the address's section, found as libdwfl finds
// it (derelocate.c: allocated sections sorted by start, end and index; a section's end counts
// as inside it unless the next one starts there).
#include "symtab.h"
#include "grow.h"

#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

typedef struct mt_sym {
    uint64_t value; /* the address libdwfl matches (dwfl_module_getsym_info's) */
    uint64_t size;
    uint64_t reach; /* the largest value + size of this entry and every one sorted before */
    const char *name;
    uint32_t ndx;   /* index in libdwfl's table: the order its search meets the symbol in */
    uint32_t shndx; /* its section (SHN_* or -1 for an unallocated one, as libdwfl says) */
    uint8_t bind;   /* libdwfl's preference: global 3, weak 2, local 1, other 0 */
} mt_sym_t;

/* One allocated section of the module's main file. */
typedef struct mt_section {
    uint64_t start, end; /* sh_addr + bias, + sh_size */
    uint32_t ndx;
} mt_section_t;

/* The symbols one pass of libdwfl's search reads, sorted by value then index. */
typedef struct mt_symlist {
    mt_sym_t *v;
    size_t n;
} mt_symlist_t;

struct mt_symtab {
    Dwfl_Module *mod;
    mt_symlist_t globals;   /* the first pass: from the first global symbol to the end */
    mt_symlist_t locals;    /* the second pass, when the table has local symbols */
    mt_section_t *sections; /* sorted as libdwfl sorts them */
    size_t nsections;
    int sections_ok;          /* 0: libdwfl could not list them either: labels go to it */
    int delegate;             /* every lookup goes to libdwfl (see mt_symtab_new) */
    const mt_sym_t **scratch; /* the symbols containing one address */
    size_t scratch_cap;
};

static int mt_bind_value(const GElf_Sym *s)
{
    switch (GELF_ST_BIND(s->st_info)) {
    case STB_GLOBAL:
        return 3;
    case STB_WEAK:
        return 2;
    case STB_LOCAL:
        return 1;
    default:
        return 0;
    }
}

/* Sorts v[0..n), read in table order, by value then table order: a stable radix sort on the
 * value's significant bits, 11 at a time, moving 4-byte positions, then one gather (node's
 * 110,000 symbols: 3 passes instead of a merge sort moving 48-byte entries). 0 or -ENOMEM. */
static int mt_symlist_sort(mt_sym_t *v, size_t n)
{
    uint32_t *pos = malloc(2 * n * sizeof *pos);
    mt_sym_t *out = malloc(n * sizeof *out);
    if (!pos || !out) {
        free(pos);
        free(out);
        return -ENOMEM;
    }
    uint32_t *from = pos, *to = pos + n;
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++) {
        from[i] = (uint32_t)i;
        max |= v[i].value;
    }
    for (unsigned shift = 0; shift < 64 && (max >> shift); shift += 11) {
        size_t count[2049] = {0};
        for (size_t i = 0; i < n; i++)
            count[((v[from[i]].value >> shift) & 2047) + 1]++;
        for (size_t d = 1; d <= 2048; d++)
            count[d] += count[d - 1];
        for (size_t i = 0; i < n; i++)
            to[count[(v[from[i]].value >> shift) & 2047]++] = from[i];
        uint32_t *t = from;
        from = to;
        to = t;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = v[from[i]];
    memcpy(v, out, n * sizeof *v);
    free(pos);
    free(out);
    return 0;
}

/* Reads symbols [from, to) that libdwfl's search can pick; -ENOMEM, or 1 when a value + size
 * wraps around (a broken table: left to libdwfl), else 0. */
static int mt_symlist_read(mt_symlist_t *l, Dwfl_Module *mod, int from, int to)
{
    l->v = malloc((size_t)(to > from ? to - from : 1) * sizeof *l->v);
    if (!l->v)
        return -ENOMEM;
    for (int i = from; i < to; i++) {
        GElf_Sym sym;
        GElf_Addr value;
        GElf_Word shndx;
        const char *name = dwfl_module_getsym_info(mod, i, &sym, &value, &shndx, NULL, NULL);
        int type = GELF_ST_TYPE(sym.st_info);
        if (!name || !name[0] || sym.st_shndx == SHN_UNDEF || type == STT_SECTION ||
            type == STT_FILE || type == STT_TLS)
            continue;
        if (value + sym.st_size < value)
            return 1;
        l->v[l->n++] = (mt_sym_t){.value = value,
                                  .size = sym.st_size,
                                  .name = name,
                                  .ndx = (uint32_t)i,
                                  .shndx = shndx,
                                  .bind = (uint8_t)mt_bind_value(&sym)};
    }
    if (l->n && mt_symlist_sort(l->v, l->n) < 0)
        return -ENOMEM;
    uint64_t reach = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].value + l->v[i].size > reach)
            reach = l->v[i].value + l->v[i].size;
        l->v[i].reach = reach;
    }
    return 0;
}

static int mt_section_cmp(const void *a, const void *b)
{
    const mt_section_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return x->ndx < y->ndx ? -1 : x->ndx > y->ndx;
}

/* The allocated sections of the main file, as libdwfl lists them for the same question (its
 * cache_sections); -ENOMEM, or 0 with sections_ok telling whether it could. */
static int mt_sections_read(mt_symtab_t *t)
{
    GElf_Addr bias;
    Elf *elf = dwfl_module_getelf(t->mod, &bias);
    size_t shstrndx, count;
    if (!elf || elf_getshdrstrndx(elf, &shstrndx) < 0 || elf_getshdrnum(elf, &count) < 0)
        return 0;
    t->sections = malloc((count ? count : 1) * sizeof *t->sections);
    if (!t->sections)
        return -ENOMEM;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn)) != NULL;) {
        GElf_Shdr shdr;
        if (!gelf_getshdr(scn, &shdr))
            return 0;
        if (!(shdr.sh_flags & SHF_ALLOC))
            continue;
        if (!elf_strptr(elf, shstrndx, shdr.sh_name) || t->nsections == count)
            return 0;
        t->sections[t->nsections++] = (mt_section_t){
            bias + shdr.sh_addr, bias + shdr.sh_addr + shdr.sh_size, (uint32_t)elf_ndxscn(scn)};
    }
    if (t->nsections)
        qsort(t->sections, t->nsections, sizeof *t->sections, mt_section_cmp);
    t->sections_ok = 1;
    return 0;
}

/* The index of the section holding addr, SHN_UNDEF for none: libdwfl's binary search. */
static uint32_t mt_section_of(const mt_symtab_t *t, uint64_t addr)
{
    size_t lo = 0, hi = t->nsections;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const mt_section_t *sec = &t->sections[mid];
        if (addr < sec->start) {
            hi = mid;
        } else if (addr > sec->end) {
            lo = mid + 1;
        } else {
            if (addr == sec->end && mid + 1 < t->nsections && addr == t->sections[mid + 1].start)
                mid++;
            return t->sections[mid].ndx;
        }
    }
    return SHN_UNDEF;
}

/* PowerPC's function descriptors make libdwfl match some symbols at two addresses. */
static int mt_needs_libdwfl(Dwfl_Module *mod)
{
    GElf_Addr bias;
    GElf_Ehdr eh;
    Elf *elf = dwfl_module_getelf(mod, &bias);
    if (!elf || !gelf_getehdr(elf, &eh))
        return 1;
    return eh.e_machine == EM_PPC64 || eh.e_machine == EM_PPC;
}

int mt_symtab_new(mt_symtab_t **out, Dwfl_Module *mod)
{
    mt_symtab_t *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->mod = mod;
    int count = dwfl_module_getsymtab(mod);
    int first_global = count < 0 ? -1 : dwfl_module_getsymtab_first_global(mod);
    int rc = 0;
    if (count > 0 && first_global >= 0 && mt_needs_libdwfl(mod)) {
        t->delegate = 1;
    } else if (count > 0 && first_global >= 0) {
        int start = first_global == 0 ? 1 : first_global;
        rc = mt_symlist_read(&t->globals, mod, start, count);
        if (rc == 0 && first_global > 1)
            rc = mt_symlist_read(&t->locals, mod, 1, first_global);
        if (rc > 0)
            t->delegate = 1;
        if (rc == 0)
            rc = mt_sections_read(t);
    }
    if (rc < 0) {
        mt_symtab_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void mt_symtab_free(mt_symtab_t *t)
{
    if (!t)
        return;
    free(t->globals.v);
    free(t->locals.v);
    free(t->sections);
    free(t->scratch);
    free(t);
}

size_t mt_symtab_count(const mt_symtab_t *t)
{
    return t->globals.n + t->locals.n;
}

/* How many entries start at or below addr. */
static size_t mt_symlist_upto(const mt_symlist_t *l, uint64_t addr)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->v[mid].value <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The size-0 entry libdwfl settles on among those of l starting at end (at or below addr):
 * the last in table order that lies in addr's section; NULL for none. An absolute or
 * unallocated symbol counts as in the section only when it is at addr itself. */
static const mt_sym_t *mt_symlist_label(const mt_symtab_t *t, const mt_symlist_t *l, uint64_t end,
                                        uint64_t addr)
{
    uint32_t addr_section = SHN_UNDEF;
    int addr_known = 0;
    for (size_t i = mt_symlist_upto(l, end); i-- > 0 && l->v[i].value == end;) {
        const mt_sym_t *s = &l->v[i];
        if (s->size != 0)
            continue;
        if (s->shndx >= SHN_LORESERVE) {
            if (s->value == addr)
                return s;
            continue;
        }
        if (!addr_known)
            addr_section = mt_section_of(t, addr), addr_known = 1;
        if (addr_section == mt_section_of(t, s->value))
            return s;
    }
    return NULL;
}

static int mt_ndx_cmp(const void *a, const void *b)
{
    const mt_sym_t *x = *(const mt_sym_t *const *)a, *y = *(const mt_sym_t *const *)b;
    return x->ndx < y->ndx ? -1 : x->ndx > y->ndx;
}

/*
 * libdwfl's pick among the sized entries of l[0..k) that contain addr, or NULL; -1 in *err
 * when the scratch list cannot grow. Replays, in table order, its rule: a candidate replaces
 * the current one when it starts nearer to addr or binds more strongly, or when it starts at
 * the same place with the same binding and is smaller.
 */
static const mt_sym_t *mt_symlist_pick(mt_symtab_t *t, const mt_symlist_t *l, size_t k,
                                       uint64_t addr, int *err)
{
    size_t n = 0;
    /* reach only grows: once it is at or below addr no earlier entry contains addr */
    for (size_t j = k; j-- > 0 && l->v[j].reach > addr;) {
        const mt_sym_t *s = &l->v[j];
        if (s->size == 0 || addr - s->value >= s->size)
            continue;
        if (MT_GROW(t->scratch, t->scratch_cap, n + 1, 16) < 0) {
            *err = -1;
            return NULL;
        }
        t->scratch[n++] = s;
    }
    if (n > 1)
        qsort(t->scratch, n, sizeof *t->scratch, mt_ndx_cmp);
    const mt_sym_t *c = NULL;
    for (size_t i = 0; i < n; i++) {
        const mt_sym_t *s = t->scratch[i];
        if (!c || c->value < s->value || c->bind < s->bind)
            c = s;
        else if (c->value == s->value && c->size > s->size && c->bind == s->bind)
            c = s;
    }
    return c;
}

static const char *mt_symtab_libdwfl(mt_symtab_t *t, uint64_t addr, uint32_t *id)
{
    GElf_Off off;
    GElf_Sym sym;
    *id = MT_SYMTAB_NO_ID;
    return dwfl_module_addrinfo(t->mod, addr, &off, &sym, NULL, NULL, NULL);
}

static const char *mt_symtab_found(const mt_symtab_t *t, const mt_sym_t *s, uint32_t *id)
{
    int local = s >= t->locals.v && s < t->locals.v + t->locals.n;
    *id =
        local ? (uint32_t)(t->globals.n + (size_t)(s - t->locals.v)) : (uint32_t)(s - t->globals.v);
    return s->name;
}

const char *mt_symtab_lookup(mt_symtab_t *t, uint64_t addr, uint32_t *id)
{
    *id = MT_SYMTAB_NO_ID;
    if (t->delegate)
        return mt_symtab_libdwfl(t, addr, id);
    int err = 0;
    size_t kg = mt_symlist_upto(&t->globals, addr);
    const mt_sym_t *s = mt_symlist_pick(t, &t->globals, kg, addr, &err);
    if (s)
        return mt_symtab_found(t, s, id);
    /* No sized global contains addr, so the highest end below it is at or below addr: only a
     * label starting there can answer, and one at addr itself ends the search. */
    uint64_t end = kg ? t->globals.v[kg - 1].reach : 0;
    int labels = kg > 0;
    if (err || (labels && !t->sections_ok))
        return mt_symtab_libdwfl(t, addr, id);
    const mt_sym_t *label = labels ? mt_symlist_label(t, &t->globals, end, addr) : NULL;
    if (!t->locals.n || (label && end == addr))
        return label ? mt_symtab_found(t, label, id) : NULL;
    size_t kl = mt_symlist_upto(&t->locals, addr);
    s = mt_symlist_pick(t, &t->locals, kl, addr, &err);
    if (s)
        return mt_symtab_found(t, s, id);
    if (err || (kl && !t->sections_ok))
        return mt_symtab_libdwfl(t, addr, id);
    if (kl && t->locals.v[kl - 1].reach > end) {
        end = t->locals.v[kl - 1].reach;
        label = NULL; /* the globals' label is below the end now: it no longer answers */
    }
    const mt_sym_t *local = kl ? mt_symlist_label(t, &t->locals, end, addr) : NULL;
    if (local)
        return mt_symtab_found(t, local, id);
    return label ? mt_symtab_found(t, label, id) : NULL;
}

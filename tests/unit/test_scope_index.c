// SPDX-License-Identifier: MIT
// The scope index answers once per range of pcs; every answer must be the one libdw gives for
// that very pc. Compared pc by pc over the compile units of this test binary (built with -g,
// libmemtrace's own units included) and of libc when its debug file is installed.
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gnu/lib-names.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "offline_dwfl.h"
#include "scope_index.h"

static void compare_pc(mt_scope_index_t *x, Dwarf_Die *cudie, Dwarf_Addr pc, const char *path)
{
    Dwarf_Die want[MT_MAX_INLINE_DEPTH];
    const Dwarf_Die *got;
    int nw = mt_scope_index_chain_direct(cudie, pc, want);
    int ng = mt_scope_index_chain(x, cudie, pc, &got);
    ck_assert_msg(nw == ng, "%s pc %#llx: libdw %d functions, index %d", path,
                  (unsigned long long)pc, nw, ng);
    for (int i = 0; i < nw; i++) {
        Dwarf_Die g = got[i];
        ck_assert_msg(dwarf_dieoffset(&want[i]) == dwarf_dieoffset(&g),
                      "%s pc %#llx: function %d differs", path, (unsigned long long)pc, i);
    }
}

/* Compares both answers at pcs spread over the ranges of at most max_units units: every
 * step-th byte and each range's last; returns how many pcs were compared. */
static size_t compare_units(const char *path, unsigned step, size_t max_units)
{
    Dwfl *dwfl;
    Dwfl_Module *mod = mt_test_dwfl_report(&dwfl, path);
    Dwarf_Addr bias;
    Dwarf *dw = mod ? dwfl_module_getdwarf(mod, &bias) : NULL;
    size_t compared = 0, units = 0;
    mt_scope_index_t *x;
    ck_assert_int_eq(mt_scope_index_new(&x), 0);
    Dwarf_CU *cu = NULL, *next = NULL;
    Dwarf_Half version;
    uint8_t type;
    Dwarf_Die cudie;
    while (dw && units < max_units &&
           dwarf_get_units(dw, cu, &next, &version, &type, &cudie, NULL) == 0) {
        cu = next;
        if (type != DW_UT_compile)
            continue;
        units++;
        Dwarf_Addr base, begin, end;
        for (ptrdiff_t off = 0; (off = dwarf_ranges(&cudie, off, &base, &begin, &end)) > 0;) {
            for (Dwarf_Addr pc = begin; pc < end; pc += step, compared++)
                compare_pc(x, &cudie, pc, path);
            if (begin < end)
                compare_pc(x, &cudie, end - 1, path);
        }
    }
    mt_scope_index_free(x);
    dwfl_end(dwfl);
    return compared;
}

static int find_libc(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    if (info->dlpi_name && strstr(info->dlpi_name, "/" LIBC_SO)) {
        *(const char **)arg = info->dlpi_name;
        return 1;
    }
    return 0;
}

START_TEST(index_agrees_with_libdw_in_this_binary)
{
    ck_assert_uint_gt(compare_units("/proc/self/exe", 3, 1000), 1000);
}
END_TEST

START_TEST(index_agrees_with_libdw_in_libc)
{
    /* nothing compared when libc's debug file is not installed */
    const char *libc = NULL;
    dl_iterate_phdr(find_libc, &libc);
    if (libc)
        (void)compare_units(libc, 61, 40);
}
END_TEST

MT_SUITE(.name = "scope_index", .timeout = 120,
         .tests = MT_TESTS(index_agrees_with_libdw_in_this_binary,
                           index_agrees_with_libdw_in_libc));

// SPDX-License-Identifier: MIT
// The sorted symbol table must name every address exactly as dwfl_module_addrinfo does: on a
// library written to hold the awkward cases (aliases of every binding, nested symbols, size-0
// labels inside and between functions, with and without .symtab) address by address, and on
// every library this test has loaded around each symbol's start and end.
#include <elfutils/libdwfl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "offline_dwfl.h"
#include "symtab.h"

/* Both answers for one address; every name must come from one of the table's slots (on x86-64
 * nothing is left to libdwfl). */
static void same_answer(mt_symtab_t *t, Dwfl_Module *mod, uint64_t addr, const char *what)
{
    GElf_Off off;
    GElf_Sym sym;
    const char *want = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
    uint32_t id;
    const char *got = mt_symtab_lookup(t, addr, &id);
    ck_assert_msg((want == NULL) == (got == NULL) && (!want || strcmp(want, got) == 0),
                  "%s+%#llx: libdwfl says %s, the table %s", what, (unsigned long long)addr,
                  want ? want : "(none)", got ? got : "(none)");
    ck_assert_msg(got ? id < mt_symtab_count(t) : id == MT_SYMTAB_NO_ID,
                  "%s+%#llx: %s not from a slot", what, (unsigned long long)addr, got);
}

static void every_address(const char *path, uint64_t from, uint64_t to)
{
    Dwfl *dwfl;
    Dwfl_Module *mod = mt_test_dwfl_report(&dwfl, path);
    ck_assert_msg(mod != NULL, "%s: %s", path, dwfl_errmsg(-1));
    mt_symtab_t *t;
    ck_assert_int_eq(mt_symtab_new(&t, mod), 0);
    for (uint64_t a = from; a < to; a++)
        same_answer(t, mod, a, path);
    mt_symtab_free(t);
    dwfl_end(dwfl);
}

START_TEST(fixture_address_by_address)
{
    /* the fixture's code is at 0x1000..0x1141, its .data and .bss at 0x3000..0x3060 */
    every_address(SYMTAB_CASES, 0xf00, 0x1200);
    every_address(SYMTAB_CASES, 0x2f00, 0x3100);
    every_address(SYMTAB_CASES_STRIPPED, 0xf00, 0x1200);
}
END_TEST

/* Around the start and end of symbols spread over the whole table, at most about 1,500
 * addresses per library (libdwfl reads every symbol per address). */
static void around_symbols(const char *path)
{
    Dwfl *dwfl;
    Dwfl_Module *mod = mt_test_dwfl_report(&dwfl, path);
    if (!mod) {
        dwfl_end(dwfl);
        return;
    }
    mt_symtab_t *t;
    ck_assert_int_eq(mt_symtab_new(&t, mod), 0);
    int n = dwfl_module_getsymtab(mod);
    int stride = n > 250 ? n / 250 : 1;
    for (int i = 1; i < n; i += stride) {
        GElf_Sym sym;
        GElf_Addr v;
        if (!dwfl_module_getsym_info(mod, i, &sym, &v, NULL, NULL, NULL))
            continue;
        uint64_t probe[] = {v - 1,          v, v + 1, v + sym.st_size / 2, v + sym.st_size - 1,
                            v + sym.st_size};
        for (size_t k = 0; k < sizeof probe / sizeof *probe; k++)
            same_answer(t, mod, probe[k], path);
    }
    mt_symtab_free(t);
    dwfl_end(dwfl);
}

static int each_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    if (info->dlpi_name && info->dlpi_name[0] == '/')
        ++*(int *)arg, around_symbols(info->dlpi_name);
    return 0;
}

START_TEST(loaded_libraries_around_symbols)
{
    int libraries = 0;
    dl_iterate_phdr(each_object, &libraries);
    ck_assert_int_gt(libraries, 2); /* libc, libdw, libelf at least */
    around_symbols("/proc/self/exe");
}
END_TEST

MT_SUITE(.name = "symtab", .timeout = 120,
         .tests = MT_TESTS(fixture_address_by_address, loaded_libraries_around_symbols));

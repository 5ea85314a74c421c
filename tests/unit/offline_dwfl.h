// SPDX-License-Identifier: MIT
// Test-only (test_symtab.c, test_scope_index.c): an ELF file reported to libdwfl as the
// symbolizer reports a module, alone in its Dwfl at base 0, with the offline callbacks. Fails
// the test when libdwfl cannot start.
#ifndef MT_TEST_OFFLINE_DWFL_H
#define MT_TEST_OFFLINE_DWFL_H

#include <check.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>

/* The module of path (NULL when libdwfl cannot read it); *dwfl is for dwfl_end. */
static inline Dwfl_Module *mt_test_dwfl_report(Dwfl **dwfl, const char *path)
{
    static char *debuginfo_path = NULL;
    static const Dwfl_Callbacks callbacks = {
        .find_elf = dwfl_build_id_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = dwfl_offline_section_address,
        .debuginfo_path = &debuginfo_path,
    };
    *dwfl = dwfl_begin(&callbacks);
    ck_assert_ptr_nonnull(*dwfl);
    dwfl_report_begin(*dwfl);
    Dwfl_Module *mod = dwfl_report_elf(*dwfl, path, path, -1, 0, false);
    dwfl_report_end(*dwfl, NULL, NULL);
    return mod;
}

#endif

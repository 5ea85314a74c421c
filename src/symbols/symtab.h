// SPDX-License-Identifier: MIT
// The ELF symbol table of one module, sorted once by address, so that naming an address costs
// O(log n) instead of a pass over every symbol: dwfl_module_addrinfo (elfutils 0.188) reads the
// whole table at each call, 2 ms per address in node's 185,000 symbols. The answer is exactly
// dwfl_module_addrinfo's, ties and aliases included. Lookups allocate nothing.
#ifndef MT_SYMTAB_H
#define MT_SYMTAB_H

#include <elfutils/libdwfl.h>
#include <stddef.h>
#include <stdint.h>

#include "log_reader.h"

/* The id of an answer that has no slot in the table (see mt_symtab_lookup). */
#define MT_SYMTAB_NO_ID UINT32_MAX

typedef struct mt_symtab mt_symtab_t;

/* Reads and sorts the symbols of mod as libdwfl reads them (.symtab or .dynsym, plus the
 * MiniDebugInfo table). 0 or -ENOMEM; a module without symbols gives an empty table. mod must
 * outlive the table (names point into its ELF data). */
int mt_symtab_new(mt_symtab_t **out, Dwfl_Module *mod) MT_WUR;
void mt_symtab_free(mt_symtab_t *t);

/* The name dwfl_module_addrinfo(mod, addr) gives (NULL for none). *id is the symbol's slot,
 * 0 <= id < mt_symtab_count(t), so callers can cache what they derive from the name; it is
 * MT_SYMTAB_NO_ID when the answer came from libdwfl itself (a PowerPC module, a broken symbol
 * or section table, or no memory for the symbols around addr). */
const char *mt_symtab_lookup(mt_symtab_t *t, uint64_t addr, uint32_t *id);
size_t mt_symtab_count(const mt_symtab_t *t);

#endif

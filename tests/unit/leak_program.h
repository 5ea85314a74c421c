// SPDX-License-Identifier: MIT
// The fixture of the leak tests (test_leak_class.c, test_leaks.c): leak_kinds.c in miniature,
// written as a log whose stacks are real functions of this binary (leak_program.c), so it
// symbolizes. Test-only: fails the test on any error.
#ifndef MT_TEST_LEAK_PROGRAM_H
#define MT_TEST_LEAK_PROGRAM_H

#include "analysis.h"
#include "leaks.h"
#include "log_builder.h"
#include "symbolizer.h"

/* The blocks' addresses. */
enum { A = 0x10000, B = 0x20000, C = 0x30000, D = 0x40000, E = 0x50000, F = 0x60000 };

/* Starts b with the program's nodes (1 caller_site, 2 lost_block_site, 3 lost_list_site,
 * 4 node_site, 5 possible_site, 6 reachable_site, all under 1) and its blocks: definite A (100),
 * definite B (96) owning indirect C and D (48 each), possible E (64), reachable F (200); 7
 * bytes freed before the scan. self: with the modules of this process, so it symbolizes. */
void mt_leak_program(mt_lb_t *b, int self);
/* The leak check's verdicts on it: A, B definite (B owning 96 bytes), C, D indirect, E
 * possible. */
void mt_leak_program_scan(mt_lb_t *b);
/* Ends b, loads it and frees b. */
mt_analysis_t *mt_leak_program_load(mt_lb_t *b);
/* The whole program with its scan and a normal exit, symbolizable, loaded. */
mt_analysis_t *mt_leak_program_self(void);
/* a's symbolizer. */
mt_symbolizer_t *mt_leak_program_symbolizer(const mt_analysis_t *a);
/* a's leak report: the default kinds shown, no suppressions. */
void mt_leak_program_report(mt_leaks_t *l, const mt_analysis_t *a, mt_symbolizer_t *sym);
/* Frees the report (l may be NULL: none), the symbolizer and the analysis. */
void mt_leak_program_free(mt_leaks_t *l, mt_symbolizer_t *sym, mt_analysis_t *a);

#endif

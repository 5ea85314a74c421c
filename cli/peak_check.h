// SPDX-License-Identifier: MIT
// --fail-peak-above SIZE, shared by `memtrace run` and `memtrace report`: whether the heap's
// peak in a log is above a limit, and why in one line on stderr ("memtrace: CMD: peak heap
// ... is above --fail-peak-above ..., the most held then ... allocated at FILE:LINE in F").
#ifndef MT_CLI_PEAK_CHECK_H
#define MT_CLI_PEAK_CHECK_H

#include <stdint.h>

#include "analysis.h"
#include "symbolizer.h"

/* 1 when the peak is above limit (and the reason printed on one line between prefix,
 * "memtrace: report: " or the run's "memtrace: peak check: exit status 3 (--error-exitcode): ",
 * and suffix), 0 when it is not, -1 after printing an error (no memory). limit_text is the
 * limit as given. */
int mt_cli_peak_check(const char *prefix, const char *suffix, const mt_analysis_t *a,
                      mt_symbolizer_t *sym, uint64_t limit, const char *limit_text);

#endif

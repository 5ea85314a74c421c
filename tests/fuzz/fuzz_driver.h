// SPDX-License-Identifier: MIT
// The one entry point shared by the libFuzzer harness and the regression runner: the whole
// analyzer path (reader, tables, replay, every report and renderer) on a log in memory.
#ifndef MT_FUZZ_DRIVER_H
#define MT_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/* Returns mt_analysis_load_mem's result; on failure err holds its one-line message. Reports
 * are rendered to /dev/null. Never opens a file the log names (offline symbolizer). */
int mt_fuzz_one(const uint8_t *data, size_t size, char *err, size_t errlen);

#endif

// SPDX-License-Identifier: MIT
// libFuzzer harness: the whole analysis pass (reader, tables, replay) on arbitrary bytes.
// Built with -Dfuzzing=true and clang; it must never crash, hang or leak on any input.
#include <stddef.h>
#include <stdint.h>

#include "analysis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mt_analysis_t *a;
    char err[256];
    if (mt_analysis_load_mem(&a, data, size, "fuzz", err, sizeof err) == 0)
        mt_analysis_free(a);
    return 0;
}

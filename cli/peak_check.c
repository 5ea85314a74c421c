// SPDX-License-Identifier: MIT
// --fail-peak-above (see peak_check.h). The site named is the one holding the most at the
// peak, as `memtrace peak` ranks them, with its first frame in the program's own code: for a
// test suite, the test's line.
#include "peak_check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "render_peak.h"
#include "text_escape.h"

int mt_cli_peak_check(const char *prefix, const char *suffix, const mt_analysis_t *a,
                      mt_symbolizer_t *sym, uint64_t limit, const char *limit_text)
{
    if (a->replay.peak_heap_bytes <= limit)
        return 0;
    mt_report_peak_t rep;
    if (mt_report_peak_build(&rep, a, sym, 1) < 0) {
        fprintf(stderr, "memtrace: %s: %s\n", a->path, strerror(ENOMEM));
        return -1;
    }
    char why[1024], verdict[160];
    snprintf(verdict, sizeof verdict, " is above --fail-peak-above %s", limit_text);
    mt_render_peak_reason(&rep, verdict, why, sizeof why);
    mt_report_peak_destroy(&rep);
    fputs(prefix, stderr);
    mt_text_put(stderr, why); /* file and function names come from the log */
    fprintf(stderr, "%s\n", suffix);
    return 1;
}

// SPDX-License-Identifier: MIT
// The run summary: the short summary `memtrace run` prints, read from a log while or after it
// is written. No terminal I/O: errors come back as one line of text without the "memtrace: "
// prefix.
#ifndef MT_RUN_SUMMARY_H
#define MT_RUN_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "follow.h"
#include "log_format.h"

typedef struct mt_summary {
    uint64_t allocations, frees, bytes_allocated; /* heap only, exact */
    uint64_t peak_heap_bytes;
    double peak_time_s;
    uint64_t peak_rss_bytes;
    uint64_t leaked_bytes, leaked_blocks; /* heap blocks still allocated at the end */
    int leaked_at_script_end; /* a Python script: those held when it ended (analysis.h) */
    uint64_t mmap_peak_bytes, mmap_leaked_bytes; /* anonymous mappings, kept apart */
    double duration_s;
    uint32_t pid;
    int truncated;   /* 1 when the log ends early (no EXIT record or a cut chunk) */
    int exit_reason; /* enum mt_exit_reason, or -1 when there was no EXIT record */
    int exit_status;
    int aggregated_missing; /* an aggregated log without its figures (killed): all 0 above */
} mt_summary_t;

/* Reads the whole log without symbolizing. 0 or negative errno; on failure err holds one line
 * without the "memtrace: " prefix, e.g. "app.mtr: not a memtrace log". */
int mt_summary_load(const char *path, mt_summary_t *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The same for a log that is still being written: at each short read follow(follow_arg) waits
 * and returns nonzero to read again, or returns 0 when the writer is done (follow.h). With
 * follow NULL, exactly mt_summary_load. */
int mt_summary_follow(const char *path, mt_follow_fn follow, void *follow_arg, mt_summary_t *out,
                      char *err, size_t errlen) __attribute__((warn_unused_result));

/* The same figures from a full analysis of the log (`memtrace run --live` reads one). */
void mt_summary_of_analysis(const mt_analysis_t *a, mt_summary_t *out);

#endif

// SPDX-License-Identifier: MIT
// Where the bytes of a log go (`memtrace logstats`): per record type and per stream, from one
// pass of the reader (no analysis, no symbols). For whoever works on the format or wonders why
// a log is big; the JSON schema is in docs/log-format.md ("Where the bytes go").
#ifndef MT_LOG_STATS_H
#define MT_LOG_STATS_H

#include "log_reader.h"

typedef struct mt_logstats_report {
    uint64_t file_bytes;
    uint64_t events;
    int truncated;     /* the log ends early or is cut (the counts cover what was read) */
    char reason[160];  /* why, when truncated */
    mt_log_stats_t st; /* the reader's counts */
} mt_logstats_report_t;

/* Reads the log at path to its end. 0, or a negative errno with one line in err. */
int mt_logstats_load(mt_logstats_report_t *rep, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The record type a tag was written with, as named in docs/log-format.md ("alloc_reuse",
 * "free_run", ...); NULL for tags the format does not have. */
const char *mt_logstats_tag_name(unsigned tag);
const char *mt_logstats_stream_name(int k);

#endif

// SPDX-License-Identifier: MIT
// `memtrace logstats` as text and JSON: one row per record type and per stream of a built
// report (log_stats.h); the JSON schema is in docs/log-format.md ("Where the bytes go").
#ifndef MT_RENDER_LOGSTATS_H
#define MT_RENDER_LOGSTATS_H

#include <stdio.h>

#include "log_stats.h"

int mt_logstats_render_text(const mt_logstats_report_t *rep, FILE *out)
    __attribute__((warn_unused_result));
int mt_logstats_render_json(const mt_logstats_report_t *rep, FILE *out)
    __attribute__((warn_unused_result));

#endif

// SPDX-License-Identifier: MIT
// Renderers of reports: text for people, JSON for scripts (schema: docs/json-schema.md).
// They write to the FILE* they are given and take colour as a flag: deciding whether the
// output is a terminal or NO_COLOR is set belongs to the command, never to the library.
#ifndef MT_RENDER_H
#define MT_RENDER_H

#include <stdio.h>

#include "json_writer.h"
#include "report_summary.h"

typedef struct mt_render_opts {
    int colour;        /* ANSI colours */
    size_t max_frames; /* frames shown per stack in text (0: all) */
} mt_render_opts_t;

/* Both return 0 or -EIO when the stream reports an error. */
int mt_render_summary_text(const mt_report_summary_t *rep, FILE *out,
                           const mt_render_opts_t *opts) MT_WUR;
int mt_render_summary_json(const mt_report_summary_t *rep, FILE *out, int pretty) MT_WUR;

/* Name of an exit reason ("normal", "signal", "exec") or NULL. */
const char *mt_render_exit_reason(int reason);
/* Name of an ORIGIN ("start", "fork", "exec") or NULL. */
const char *mt_render_origin(int how);
/* Name of an allocation kind ("malloc", "calloc", ...) or NULL. */
const char *mt_render_alloc_kind(unsigned kind);
/* "marks": [{"name", "t_s"}...] (memtrace_mark), written only when the log has marks. */
void mt_render_marks_json(mt_json_t *j, const mt_analysis_t *a);

#endif

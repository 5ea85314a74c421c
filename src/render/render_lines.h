// SPDX-License-Identifier: MIT
// `memtrace lines` as text and JSON: a built report (report_lines.h), line by line. Writes only
// to the stream it is given.
#ifndef MT_RENDER_LINES_H
#define MT_RENDER_LINES_H

#include <stdio.h>

#include "report_lines.h"

/* Both return 0 or -EIO. colour: ANSI escapes. */
int mt_render_lines_text(const mt_report_lines_t *rep, FILE *out, int colour) MT_WUR;
int mt_render_lines_json(const mt_report_lines_t *rep, FILE *out, int pretty) MT_WUR;

#endif

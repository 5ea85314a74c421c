// SPDX-License-Identifier: MIT
// The `memtrace fragmentation` report as text and JSON. Reads a built report
// (report_fragmentation.h); writes only to the stream it is given.
#ifndef MT_RENDER_FRAGMENTATION_H
#define MT_RENDER_FRAGMENTATION_H

#include <stdio.h>

#include "report_fragmentation.h"

/* Both return 0 or -EIO. colour: ANSI escapes; max_frames: frames per stack (0: all). */
int mt_render_fragmentation_text(const mt_report_fragmentation_t *rep, FILE *out, int colour,
                                 size_t max_frames) MT_WUR;
int mt_render_fragmentation_json(const mt_report_fragmentation_t *rep, FILE *out,
                                 int pretty) MT_WUR;

#endif

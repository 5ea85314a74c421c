// SPDX-License-Identifier: MIT
// The temporary-allocation, lifetime and size sections of `memtrace report`, as text and as
// JSON keys. Kept out of render_text.c/render_json.c so that file stays the summary's core;
// both are called from there. Write only to what they are given.
#ifndef MT_RENDER_HISTOGRAMS_H
#define MT_RENDER_HISTOGRAMS_H

#include <stdio.h>

#include "json_writer.h"
#include "report_summary.h"

/* Keys "temporary_allocations", "top_temporary_sites", "lifetimes", "sizes" of the report. */
void mt_render_histograms_json(mt_json_t *j, const mt_report_summary_t *rep);
/* The same as text sections; colour: ANSI escapes; max_frames per stack (0: all). */
void mt_render_histograms_text(FILE *o, const mt_report_summary_t *rep, int colour,
                               size_t max_frames);

#endif

// SPDX-License-Identifier: MIT
// The `memtrace peak` report as text and JSON, and as the one line that says why
// --fail-peak-above failed. Reads a built report (report_peak.h); writes only to what it is given.
#ifndef MT_RENDER_PEAK_H
#define MT_RENDER_PEAK_H

#include <stdio.h>

#include "report_peak.h"

/* The peak in one line with no newline, for the reason of a failed --fail-peak-above, with
 * verdict after the figure: "peak heap 9.54 MiB (10,000,123 B) at 00:01.2<verdict>; the most
 * held then, 8,000,057 bytes, allocated at test_big.py:5 in test_big". Raw: escape it for
 * text. */
void mt_render_peak_reason(const mt_report_peak_t *rep, const char *verdict, char *buf, size_t len);

/* Both return 0 or -EIO. colour: ANSI escapes; max_frames: frames per stack (0: all). */
int mt_render_peak_text(const mt_report_peak_t *rep, FILE *out, int colour,
                        size_t max_frames) MT_WUR;
int mt_render_peak_json(const mt_report_peak_t *rep, FILE *out, int pretty) MT_WUR;

#endif

// SPDX-License-Identifier: MIT
// `memtrace timeline`: heap in use, RSS and allocator footprint (mallinfo2 arena + hblkhd)
// over time, and pymalloc's arenas for a Python program, as a small self-contained SVG or as a
// compact terminal chart. Every series is downsampled to at most MT_TIMELINE_MAX_POINTS keeping
// maxima, so the peak always shows and the output size is bounded whatever the length of the log.
#ifndef MT_RENDER_SVG_TIMELINE_H
#define MT_RENDER_SVG_TIMELINE_H

#include <stdio.h>

#include "analysis.h"

#define MT_TIMELINE_MAX_POINTS 2000u

typedef struct mt_timeline_point {
    uint64_t time_us;
    uint64_t value; /* the maximum over the span the point stands for */
} mt_timeline_point_t;

/* MT_TL_PY_ARENAS: pymalloc's arenas held (Python logs; no points for other programs). */
enum mt_timeline_series { MT_TL_HEAP, MT_TL_RSS, MT_TL_FOOTPRINT, MT_TL_PY_ARENAS, MT_TL_SERIES };

/* Fills out (room for max points) with one series, time-ordered, at most max points.
 * Returns the count. */
size_t mt_timeline_series(const mt_replay_t *r, enum mt_timeline_series which,
                          mt_timeline_point_t *out, size_t max);

/* Both return 0, -ENOMEM or -EIO. */
int mt_timeline_svg(const mt_analysis_t *a, FILE *out) MT_WUR;
/* A width x height chart of the heap with block characters; colour: ANSI escapes. */
int mt_timeline_text(const mt_analysis_t *a, FILE *out, int colour, unsigned width,
                     unsigned height) MT_WUR;

#endif

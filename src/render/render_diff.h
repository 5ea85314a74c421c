// SPDX-License-Identifier: MIT
// `memtrace diff` as text and JSON: the growth by site of a built diff (diff.h), and the
// verdict of --fail-above. Writes only to the stream it is given.
#ifndef MT_RENDER_DIFF_H
#define MT_RENDER_DIFF_H

#include <stdio.h>

#include "diff.h"

typedef struct mt_diff_render_opts {
    int colour;
    size_t top;                            /* sites listed, 0 for all */
    size_t max_frames;                     /* text: frames per stack, 0 for all */
    const mt_diff_threshold_t *fail_above; /* NULL when not given */
    const char *fail_above_text;           /* as the user wrote it */
} mt_diff_render_opts_t;

/* 0 or -EIO. */
int mt_render_diff_text(const mt_diff_t *d, FILE *out, const mt_diff_render_opts_t *o) MT_WUR;
int mt_render_diff_json(const mt_diff_t *d, FILE *out, const mt_diff_render_opts_t *o) MT_WUR;

#endif

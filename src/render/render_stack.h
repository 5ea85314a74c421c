// SPDX-License-Identifier: MIT
// Stack rendering shared by every report that shows stacks (report, peak, fragmentation,
// leaks): one JSON array of frames, or indented text lines innermost first. Writes only to the
// stream or JSON writer it is given; never decides about colour or terminals itself.
#ifndef MT_RENDER_STACK_H
#define MT_RENDER_STACK_H

#include <stdio.h>

#include "json_writer.h"
#include "modules.h"
#include "sites.h"

/* [{"function","file","line","module","address","inlined"}, ...] */
void mt_render_frames_json(mt_json_t *j, const mt_modules_t *mods, const mt_frame_t *frames,
                           size_t n);
/* The same for a site's stack. */
void mt_render_stack_json(mt_json_t *j, const mt_modules_t *mods, const mt_site_t *s);
/* One frame on one line after indent: function (or address), "(inlined)", file:line (or
 * module+offset), dimmed with colour. */
void mt_render_frame_text(FILE *o, int colour, const mt_modules_t *mods, const mt_frame_t *f,
                          const char *indent);
/* One line per frame after indent, innermost first; at most max frames (0: all), then "... N
 * more frames"; a cut stack's outermost two Python frames with a source line are shown after
 * that count, each count saying how many frames it stands for. */
void mt_render_frames_text(FILE *o, int colour, const mt_modules_t *mods, const mt_frame_t *f,
                           size_t n, size_t max, const char *indent);
/* The same for a site's stack, indented by 8. */
void mt_render_stack_text(FILE *o, int colour, const mt_modules_t *mods, const mt_site_t *s,
                          size_t max);
/* "allocated at app.py:12 in main" for the innermost user frame (frame_filter.h's
 * mt_filter_first_user; the file's base name), for one-line
 * reasons; returns 0 and writes "" when there is none. Raw: escape it for text. */
int mt_render_user_where(char *buf, size_t len, const mt_modules_t *mods, const mt_frame_t *f,
                         size_t n);
/* The innermost frame's function, or "?" (for one-line summaries). Raw: escape it for text. */
const char *mt_render_stack_top(const mt_site_t *s);

/* Text lines with a string from the log in them, escaped (text_escape.h): indent, on, text,
 * off, newline. */
void mt_render_text_line(FILE *o, const char *indent, const char *on, const char *text,
                         const char *off);
/* The keys "truncated", "truncation" and "allocator_notice" of a document about one log (null
 * for a notice there is none of). */
void mt_render_log_notes_json(mt_json_t *j, const mt_analysis_t *a);
/* "\nwarning: TEXT (WHY)\n" (why may be NULL), with warn/reset around "warning:". */
void mt_render_text_warning(FILE *o, const char *warn, const char *reset, const char *text,
                            const char *why);

#endif

// SPDX-License-Identifier: MIT
// Stack rendering shared by the reports that list sites (peak, fragmentation, timeline notes):
// one JSON array of frames, or indented text lines innermost first. Writes only to the stream
// or JSON writer it is given; never decides about colour or terminals itself.
#ifndef MT_RENDER_STACK_H
#define MT_RENDER_STACK_H

#include <stdio.h>

#include "json_writer.h"
#include "modules.h"
#include "sites.h"

/* [{"function","file","line","module","address","inlined"}, ...] */
void mt_render_stack_json(mt_json_t *j, const mt_modules_t *mods, const mt_site_t *s);
/* One line per frame, indented by 8; at most max frames (0: all). */
void mt_render_stack_text(FILE *o, int colour, const mt_modules_t *mods, const mt_site_t *s,
                          size_t max);
/* The innermost frame's function, or "?" (for one-line summaries). */
const char *mt_render_stack_top(const mt_site_t *s);

#endif

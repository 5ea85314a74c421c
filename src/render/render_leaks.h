// SPDX-License-Identifier: MIT
// Renderers of the leak report: valgrind-like text, JSON (docs/json-schema.md), SARIF 2.1.0
// for code-scanning UIs, JUnit XML for CI test tabs, and ready-to-paste suppressions. They
// write to the FILE* they are given; terminal decisions belong to the command.
#ifndef MT_RENDER_LEAKS_H
#define MT_RENDER_LEAKS_H

#include <stdio.h>

#include "leaks.h"

typedef struct mt_leaks_render_opts {
    int colour;
    size_t max_frames;       /* frames shown per stack in text (0: all) */
    unsigned fail;           /* failing kinds: SARIF level error, others warning */
    const char *source_root; /* SARIF: files under it get relative URIs (%SRCROOT%); may be NULL */
} mt_leaks_render_opts_t;

/* All return 0 or -EIO when the stream reports an error. */
int mt_render_leaks_text(const mt_leaks_t *l, FILE *out, const mt_leaks_render_opts_t *o) MT_WUR;
int mt_render_leaks_json(const mt_leaks_t *l, FILE *out, int pretty) MT_WUR;
int mt_render_leaks_sarif(const mt_leaks_t *l, FILE *out, const mt_leaks_render_opts_t *o) MT_WUR;
int mt_render_leaks_junit(const mt_leaks_t *l, FILE *out, const mt_leaks_render_opts_t *o) MT_WUR;
/* A valgrind block and an LSan line for every listed leak. */
int mt_render_leaks_suppressions(const mt_leaks_t *l, FILE *out) MT_WUR;

/* Why the report fails under --fail-on fail, in one line with no newline, for the last line
 * of `memtrace run --error-exitcode`: the failing bytes and where the largest failing leak
 * was allocated, "5,000,089 bytes not freed at the end of the script, the largest allocated
 * at test_cache.py:7 in test_fills_cache". "" when nothing fails. Names are not escaped. */
void mt_render_leaks_reason(const mt_leaks_t *l, unsigned fail, char *buf, size_t len);

/* Index of the first frame in the user's code (a source file, not in /usr/include, the C or
 * C++ runtime, or memtrace), or -1. */
long mt_render_leaks_user_frame(const mt_leaks_t *l, const mt_leak_t *k);

#endif

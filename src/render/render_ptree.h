// SPDX-License-Identifier: MIT
// The process tree of a run (process_tree.h) for people and for scripts: totals over the
// tree, then one row per process, biggest peak first (or as a tree). The JSON is the
// "memtrace-processes" document of docs/json-schema.md; the caller adds what it reports on the
// biggest process. Like every renderer, it takes colour as a flag and never looks at the
// terminal.
#ifndef MT_RENDER_PTREE_H
#define MT_RENDER_PTREE_H

#include <stdio.h>

#include "json_writer.h"
#include "process_tree.h"

typedef struct mt_ptree_render_opts {
    int colour;
    int as_tree;         /* rows depth first, commands indented, instead of by peak */
    const char *command; /* the memtrace command: "report", "peak", "leaks" */
} mt_ptree_render_opts_t;

/* The totals and the table. 0 or -EIO. */
int mt_render_ptree_text(const mt_ptree_t *t, FILE *o, const mt_ptree_render_opts_t *opts) MT_WUR;

/* Opens the document and writes every key of the tree ("format" ... "skipped"); the caller
 * adds its own keys and closes the object with mt_json_object_end and mt_json_finish. */
void mt_render_ptree_json(const mt_ptree_t *t, mt_json_t *j);

#endif

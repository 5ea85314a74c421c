// SPDX-License-Identifier: MIT
// Exports of a log's allocation sites for other tools: Brendan Gregg's folded stacks
// (flamegraph.pl, inferno, speedscope), pprof's gzip-compressed profile.proto (go tool pprof,
// Pyroscope, speedscope) and valgrind massif's text format (ms_print, massif-visualizer).
// One file per format (export_folded.c, export_pprof.c, export_massif.c); they write to the
// FILE they are given and never decide about terminals.
#ifndef MT_EXPORT_H
#define MT_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "analysis.h"
#include "sites.h"
#include "symbolizer.h"

/* One line "outer;...;inner BYTES" per distinct stack with a non-zero cost, sorted, equal
 * stacks merged. 0, -ENOMEM or -EIO. */
int mt_export_folded(const mt_analysis_t *a, mt_sites_t *sites, enum mt_cost cost,
                     FILE *out) MT_WUR;
/* The name of one frame as a folded-stack element: the function ("function (file:line)" for
 * a Python frame, the file's base name), else module+0xaddr, else 0xaddr; ';' (the separator)
 * becomes ':' and control characters become spaces, so a line always splits back into the same
 * frames. Returns the length written (truncated to cap-1, always NUL-terminated). */
size_t mt_export_folded_name(char *dst, size_t cap, const mt_modules_t *mods, const mt_frame_t *f);

/* gzip-compressed pprof profile: sample types alloc_objects/alloc_space/inuse_objects/
 * inuse_space (count/bytes), inuse meaning at the peak for MT_COST_PEAK and at the end of the
 * log for MT_COST_LEAKED; the default sample type follows cost. 0, -ENOMEM or -EIO. */
int mt_export_pprof(const mt_analysis_t *a, mt_sites_t *sites, enum mt_cost cost, FILE *out) MT_WUR;

/* massif's out file (massif.out.PID format): heap snapshots over time, a detailed snapshot at
 * the peak (heap_tree=peak) and one at the end of the log. 0, -ENOMEM or -EIO. */
int mt_export_massif(const mt_analysis_t *a, mt_sites_t *sites, FILE *out) MT_WUR;

#endif

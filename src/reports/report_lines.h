// SPDX-License-Identifier: MIT
// The `memtrace lines` report: a Python file line by line, as memory_profiler's @profile shows
// a function, but exact. Per line of one file: bytes allocated, bytes held at the heap peak and
// at the end (the end of the script when the log has it: mt_analysis_held), and allocation
// calls; each as the line's own (the innermost Python frame of the stack) and including its
// callees (the line anywhere in the Python stack, once per stack however deep the recursion).
// Reads the source from disk; no terminal I/O, no symbolizer (Python frames only).
#ifndef MT_REPORT_LINES_H
#define MT_REPORT_LINES_H

#include "analysis.h"
#include "py_source.h"

typedef struct mt_line_figures {
    uint64_t allocations, bytes_allocated;
    uint64_t peak_bytes, peak_blocks; /* held at the heap peak (the peak report's moment) */
    uint64_t end_bytes, end_blocks;   /* held at the end (end of the script, else of the log) */
} mt_line_figures_t;

typedef struct mt_line_stats {
    uint32_t line;
    mt_line_figures_t own, incl;
    uint64_t stamp; /* the last stack that counted this line in incl (once per stack) */
} mt_line_stats_t;

/* What the report shows: functions (and the module's own lines) of the file, each a run of
 * rows. A row is a line number, with its figures when it has any. */
typedef struct mt_lines_row {
    uint32_t line;
    const mt_line_stats_t *stats; /* NULL: no allocation on this line */
    int gap_before;               /* lines were skipped before this one (module rows) */
} mt_lines_row_t;

typedef struct mt_lines_block {
    const char *name; /* the outermost function's qualified name, or "<module>" */
    uint32_t first, last;
    size_t row0, nrows; /* its rows in rep->rows */
} mt_lines_block_t;

typedef struct mt_lines_opts {
    const char *file;     /* NULL: the script that was run */
    const char *function; /* NULL: every function; else a qualified name or its last part */
} mt_lines_opts_t;

typedef struct mt_report_lines {
    const mt_analysis_t *a;
    const char *file;     /* the file as the log names it (a code object's co_filename) */
    int file_is_script;   /* chosen as the script that was run (no --file) */
    const char *function; /* the filter, or NULL */
    char *source_path;    /* the file read for the source text, or NULL when none */
    int source_errno;     /* why the source could not be read (0: it was) */
    /* The source was modified after the run began: its lines may not be the ones measured. */
    int source_changed;
    mt_py_source_t source;  /* empty when it could not be read */
    mt_held_t held;         /* what "at the end" means (and its totals) */
    mt_line_stats_t *stats; /* lines of the file with figures, by line number */
    size_t nstats;
    mt_line_figures_t total; /* own figures of every line of the file */
    mt_lines_block_t *blocks;
    size_t nblocks;
    mt_lines_row_t *rows;
    size_t nrows;
    uint8_t *in_file; /* [code object]: of the file shown (mt_report_lines_node) */
} mt_report_lines_t;

/* True when the log has Python frames (the report can be built). */
int mt_report_lines_available(const mt_analysis_t *a);

/* Builds the report. 0, or a negative errno with one line in err (no "memtrace: " prefix):
 * -ENODATA the log has no Python frames; -ENOENT no Python code of that file in the log;
 * -EEXIST the file name matches several files; -ESRCH no function of that name with
 * allocations in the file; -ENOMEM. */
int mt_report_lines_build(mt_report_lines_t *rep, const mt_analysis_t *a, const mt_lines_opts_t *o,
                          char *err, size_t errlen) MT_WUR;
void mt_report_lines_destroy(mt_report_lines_t *rep);

/* The lines of the report's file in node's Python stack, each as the report charges it: fn(arg,
 * i, own) for rep->stats[i], own when it is the innermost Python frame's line. A line in the
 * stack twice (recursion) is given twice: its "incl." counts it once. */
void mt_report_lines_node(const mt_report_lines_t *rep, uint32_t node,
                          void (*fn)(void *arg, size_t i, int own), void *arg);

/* The source text of a line ("" when the source is missing or shorter). */
const char *mt_report_lines_text(const mt_report_lines_t *rep, uint32_t line);

#endif

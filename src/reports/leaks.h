// SPDX-License-Identifier: MIT
// The leak report: live blocks at the leak check grouped by (kind, symbolized allocation
// stack), biggest first, with valgrind's "N (D direct, I indirect)" for definite leaks, totals
// per kind, and suppressions applied. Without a scan in the log every block not freed at exit
// is "unclassified" and the report says so. Built once; prints nothing.
#ifndef MT_LEAKS_H
#define MT_LEAKS_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "leak_class.h"
#include "suppressions.h"
#include "symbolizer.h"

typedef struct mt_leak {
    unsigned kind;           /* enum mt_leaks_kind */
    uint64_t bytes, blocks;  /* direct */
    uint64_t indirect_bytes; /* definite: bytes of the indirect blocks these own */
    mt_frame_t *frames;      /* innermost first, allocator frames removed */
    size_t nframes;
    long suppressed_by; /* index into the suppressions, -1 when not suppressed */
} mt_leak_t;

#define MT_LEAKS_DEFAULT_SHOW                                                                      \
    ((1u << MT_LEAKS_DEFINITE) | (1u << MT_LEAKS_INDIRECT) | (1u << MT_LEAKS_POSSIBLE) |           \
     (1u << MT_LEAKS_UNCLASSIFIED))
#define MT_LEAKS_DEFAULT_FAIL ((1u << MT_LEAKS_DEFINITE) | (1u << MT_LEAKS_POSSIBLE))

typedef struct mt_leaks {
    const mt_analysis_t *a;
    mt_symbolizer_t *sym; /* borrowed: frames point at its strings */
    mt_supps_t *supps;    /* borrowed, may be NULL; its matched_* counts are filled */
    char *command;
    int classified; /* the report is the log's complete leak scan */
    /* The report is what a Python script held when it ended: blocks its own code allocated
     * are unclassified (not freed at the end of the script), those the libraries and imports
     * hold are still reachable (mt_leaks_python_owner). */
    int python_end;
    uint64_t interp_bytes, interp_blocks; /* python_end: live then, with no Python frame */
    unsigned show;                        /* kinds listed (1u << kind) */
    mt_leak_t *v;                         /* every group, suppressed ones too, biggest first */
    size_t n;
    uint64_t bytes[MT_LEAKS_NKINDS], blocks[MT_LEAKS_NKINDS]; /* not suppressed */
    uint64_t suppressed_bytes, suppressed_blocks;
} mt_leaks_t;

/* Which moment a Python log's report describes. */
enum mt_leaks_moment {
    /* The end of the script, when the log has it with Python frames (issue 17: what the user
     * means by a Python leak); otherwise as MT_LEAKS_AT_EXIT. */
    MT_LEAKS_AT_SCRIPT_END,
    /* The leak scan at exit, after interpreter finalization (valgrind's view), or without
     * one the blocks live when the log ends. */
    MT_LEAKS_AT_EXIT,
};

/* show: kinds to list (totals cover every kind). At the end of the script for a Python log.
 * 0 or -ENOMEM. */
int mt_leaks_build(mt_leaks_t *out, const mt_analysis_t *a, mt_symbolizer_t *sym, mt_supps_t *supps,
                   unsigned show) MT_WUR;
/* The same at the moment asked for. */
int mt_leaks_build_at(mt_leaks_t *out, const mt_analysis_t *a, mt_symbolizer_t *sym,
                      mt_supps_t *supps, unsigned show, enum mt_leaks_moment at) MT_WUR;

/* Whose memory a block held at the end of a Python script is, from its trace node. */
enum mt_leaks_owner {
    MT_LEAKS_OWNER_INTERPRETER, /* no Python frame: start-up, the interpreter's own state */
    /* allocated while a module was imported (its definitions), or by a line of a library
     * (python_files.h: the standard library, site-packages): held on purpose by design */
    MT_LEAKS_OWNER_LIBRARY,
    MT_LEAKS_OWNER_SCRIPT, /* by a line of the program's own code, outside an import */
};
enum mt_leaks_owner mt_leaks_python_owner(const mt_analysis_t *a, uint32_t node);
void mt_leaks_destroy(mt_leaks_t *l);

/* Listed in the report: a shown kind and not suppressed. */
int mt_leaks_listed(const mt_leaks_t *l, const mt_leak_t *k);
/* Bytes not suppressed of the failing kinds; an unclassified log fails on its blocks not freed
 * at exit when any of definite, indirect or possible is failing (nothing proves them reachable). */
uint64_t mt_leaks_failing_bytes(const mt_leaks_t *l, unsigned fail);
/* Total bytes including the indirect ones it owns. */
static inline uint64_t mt_leak_total_bytes(const mt_leak_t *k)
{
    return k->bytes + k->indirect_bytes;
}

#endif

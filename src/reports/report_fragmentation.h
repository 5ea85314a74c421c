// SPDX-License-Identifier: MIT
// The `memtrace fragmentation` report: allocator footprint vs live bytes at the peak and at
// exit (glibc's own view from the SAMPLE taken with the heap nearest its peak, and from the
// last one; live bytes exact from the replay), the holes between live blocks at exit rebuilt
// from their addresses, chunk overhead, and the sites that pin freed space or churn the
// allocator. Estimates say so in their names and in the docs.
#ifndef MT_REPORT_FRAGMENTATION_H
#define MT_REPORT_FRAGMENTATION_H

#include "analysis.h"
#include "sites.h"
#include "symbolizer.h"

typedef struct mt_frag_moment {
    int sampled; /* a SAMPLE was found: the allocator's figures below are meaningful */
    uint64_t time_us, sample_time_us;
    uint64_t live_bytes, footprint_bytes, free_held_bytes, free_chunks, keepcost;
    /* The part of live_bytes that is small Python objects in pymalloc's arenas, outside the
     * glibc heap that footprint and free held describe (0 for other programs). */
    uint64_t arena_obj_bytes;
    double fragmentation_ratio; /* free held / footprint */
} mt_frag_moment_t;

#define MT_FRAG_HOLE_BUCKETS 64
typedef struct mt_report_fragmentation {
    const mt_analysis_t *a;
    mt_sites_t sites;
    mt_frag_moment_t at_peak, at_exit;
    /* Python: the end of the script, before finalization (the moment "held" means for a
     * script); has_script_end == 0 for other programs and logs without the marker. */
    mt_frag_moment_t at_script_end;
    int has_script_end;
    uint64_t heap_start, heap_end; /* main heap range the holes were measured in */
    uint64_t holes[MT_FRAG_HOLE_BUCKETS], hole_bytes[MT_FRAG_HOLE_BUCKETS];
    uint64_t nholes, holes_total, largest_hole;
    uint64_t *hole_sizes;                   /* nholes entries, in address order */
    uint64_t request;                       /* a request size to test against the holes, 0: none */
    uint64_t requested_bytes, usable_bytes; /* live at exit; usable estimated for glibc */
    mt_site_t *pinning; /* one per symbolized stack; frames owned here; leaked_* = its blocks */
    uint64_t *pinned;   /* freed bytes below that stack's blocks at the top of the heap */
    size_t npinning;
    size_t *churn, nchurn; /* indices into sites.v */
    /* Python: pymalloc arenas at the end of the script (or at exit without the marker);
     * valid == 0 for other programs. */
    mt_pyarena_usage_t py_arenas;
    int py_arenas_at_script_end;
} mt_report_fragmentation_t;

int mt_report_fragmentation_build(mt_report_fragmentation_t *rep, const mt_analysis_t *a,
                                  mt_symbolizer_t *sym, size_t top) MT_WUR;
void mt_report_fragmentation_destroy(mt_report_fragmentation_t *rep);
/* How many holes at exit could serve a request of that many bytes (its chunk fits). */
uint64_t mt_frag_holes_fitting(const mt_report_fragmentation_t *rep, uint64_t request);
/* One point of the replay's sampled series, as a moment (the "over time" section). */
void mt_frag_moment_of(mt_frag_moment_t *m, const mt_sample_point_t *p);
/* glibc's chunk size for a request of n bytes (64-bit): max(32, (n + 8 + 15) & ~15). */
uint64_t mt_frag_chunk_size(uint64_t n);

#endif

// SPDX-License-Identifier: MIT
// Diff of two logs: totals (peak heap, not freed at exit, allocations) and the allocation
// sites matched across the runs by their symbolized stack (function, file, line), then the
// sites left over by function and call path alone (a line added above an allocation moves it,
// it is still the same site), so two builds or two different binaries of the same code match. No
// terminal I/O; rendering is in render_diff.c.
#ifndef MT_DIFF_H
#define MT_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "sites.h"
#include "symbolizer.h"

typedef struct mt_diff_figures {
    uint64_t peak_bytes, peak_blocks;     /* held at the heap's peak */
    uint64_t leaked_bytes, leaked_blocks; /* still allocated at the end of the log */
    uint64_t allocations, bytes_allocated;
} mt_diff_figures_t;

enum mt_diff_status { MT_DIFF_CHANGED, MT_DIFF_NEW, MT_DIFF_VANISHED };

typedef struct mt_diff_site {
    const mt_site_t *shown;   /* the new run's site, or the old one for a vanished site */
    const mt_modules_t *mods; /* modules of the analysis shown belongs to */
    mt_frame_t *key;          /* normalized stack (see diff.c) */
    size_t nkey;
    mt_diff_figures_t old, new_;
    int in_old, in_new;
    int moved;  /* matched by function and call path, its lines differ between the runs */
    int merged; /* (private) an old site matched to a moved one: listed there */
} mt_diff_site_t;

enum mt_diff_by { MT_DIFF_BY_PEAK, MT_DIFF_BY_LEAKED };

typedef struct mt_diff {
    const mt_analysis_t *a_old, *a_new;
    mt_diff_figures_t old, new_; /* totals of the runs (exact, from the replay) */
    mt_diff_site_t *v;
    size_t n;
    size_t *order; /* indices of the sites that changed, by growth of the --by figure */
    size_t norder;
    enum mt_diff_by by;
    mt_sites_t sites_old, sites_new;
} mt_diff_t;

/* Builds the diff. Both symbolizers must stay alive while the diff is used (frames point into
 * them). sym_old is also used to intern the match keys. 0 or -ENOMEM. */
int mt_diff_build(mt_diff_t *d, const mt_analysis_t *old, mt_symbolizer_t *sym_old,
                  const mt_analysis_t *new_, mt_symbolizer_t *sym_new, enum mt_diff_by by) MT_WUR;
void mt_diff_destroy(mt_diff_t *d);

static inline enum mt_diff_status mt_diff_status(const mt_diff_site_t *s)
{
    return !s->in_old ? MT_DIFF_NEW : !s->in_new ? MT_DIFF_VANISHED : MT_DIFF_CHANGED;
}

/* new - old of the figure chosen by by, for a site or the totals. */
int64_t mt_diff_site_delta(const mt_diff_site_t *s, enum mt_diff_by by);
int64_t mt_diff_total_delta(const mt_diff_t *d, enum mt_diff_by by);

/* A --fail-above threshold: "4096", "10MiB", "1.5 GB" (binary units: K, KB, KiB = 1024) or
 * "5%" of the old total. */
typedef struct mt_diff_threshold {
    int percent;
    double value; /* bytes, or percent */
} mt_diff_threshold_t;
/* 0 or -EINVAL. */
int mt_diff_threshold_parse(const char *s, mt_diff_threshold_t *t) MT_WUR;
/* 1 when the total growth of the by figure is above t. */
int mt_diff_exceeds(const mt_diff_t *d, const mt_diff_threshold_t *t);

#endif

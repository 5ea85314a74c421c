// SPDX-License-Identifier: MIT
// Per-thread rows: one per thread (name, tid, allocations, bytes, its own peak, what it held
// at the process's heap peak and at the end). No I/O: render_threads.h draws them as text and
// JSON, render_html.c as lanes.
#ifndef MT_REPORT_THREADS_H
#define MT_REPORT_THREADS_H

#include "analysis.h"
#include "sites.h"

typedef struct mt_thread_row {
    uint32_t idx; /* mt_replay_thread */
    mt_thread_stats_t st;
    uint64_t held_bytes, held_blocks; /* at the end, as mt_analysis_held says */
    char label[96];                   /* mt_analysis_thread_label, raw: escape it to print */
} mt_thread_row_t;

typedef struct mt_report_threads {
    const mt_analysis_t *a;
    mt_thread_row_t *v; /* the threads the figures cover, in order of their first event */
    size_t n;
} mt_report_threads_t;

/* 0 or -ENOMEM. Threads with no heap event of their own have no row. */
int mt_report_threads_build(mt_report_threads_t *rep, const mt_analysis_t *a) MT_WUR;
void mt_report_threads_destroy(mt_report_threads_t *rep);

#endif

// SPDX-License-Identifier: MIT
// Per-thread rows (see report_threads.h). Built once per report from the replay's thread
// table: linear in the number of threads, never in the number of events.
#include "report_threads.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int mt_report_threads_build(mt_report_threads_t *rep, const mt_analysis_t *a)
{
    const mt_replay_t *r = &a->replay;
    memset(rep, 0, sizeof *rep);
    rep->a = a;
    rep->v = calloc(r->ntstats ? r->ntstats : 1, sizeof *rep->v);
    if (!rep->v)
        return -ENOMEM;
    for (uint32_t i = 0; i < r->ntstats; i++) {
        mt_thread_row_t *row = &rep->v[rep->n];
        row->st = mt_replay_thread(r, i);
        if (!row->st.selected)
            continue;
        row->idx = i;
        mt_analysis_thread_held(a, &row->st, &row->held_bytes, &row->held_blocks);
        mt_analysis_thread_label(a, row->st.tid, row->label, sizeof row->label);
        rep->n++;
    }
    return 0;
}

void mt_report_threads_destroy(mt_report_threads_t *rep)
{
    free(rep->v);
    memset(rep, 0, sizeof *rep);
}

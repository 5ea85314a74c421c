// SPDX-License-Identifier: MIT
// mt_summary_load: the few totals `memtrace run` prints when the program ends. It replays the
// log without symbolizing (fast, needs no binaries) and must not print anything itself;
// mt_summary_follow does it while the program still writes the log.
#include "memtrace.h"

#include <string.h>

#include "analysis.h"

int mt_summary_follow(const char *path, mt_follow_fn follow, void *follow_arg, mt_summary_t *out,
                      char *err, size_t errlen)
{
    mt_analysis_t *a;
    memset(out, 0, sizeof *out);
    int rc = mt_analysis_load_follow(&a, path, follow, follow_arg, err, errlen);
    if (rc < 0)
        return rc;
    const mt_replay_t *r = &a->replay;
    out->allocations = r->allocations;
    out->frees = r->frees;
    out->bytes_allocated = r->bytes_allocated;
    out->peak_heap_bytes = r->peak_heap_bytes;
    out->peak_time_s = (double)r->peak_time_us / 1e6;
    out->peak_rss_bytes = r->peak_rss_bytes;
    mt_held_t held = mt_analysis_held(a);
    out->leaked_bytes = held.bytes;
    out->leaked_blocks = held.blocks;
    out->leaked_at_script_end = held.at_script_end;
    out->mmap_peak_bytes = r->mmap_peak_bytes;
    out->mmap_leaked_bytes = r->mmap_bytes;
    out->duration_s = (double)r->last_time_us / 1e6;
    out->pid = a->process.present ? (uint32_t)a->process.pid : a->header_pid;
    out->truncated = a->truncated;
    out->exit_reason = r->has_exit ? r->exit_reason : -1;
    out->exit_status = (int)r->exit_status;
    mt_analysis_free(a);
    return 0;
}

int mt_summary_load(const char *path, mt_summary_t *out, char *err, size_t errlen)
{
    return mt_summary_follow(path, NULL, NULL, out, err, errlen);
}

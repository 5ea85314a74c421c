// SPDX-License-Identifier: MIT
// JSON rendering of reports. The keys are a public schema (docs/json-schema.md): add keys
// freely, never rename or change the meaning of one. Counts are exact integers.
#include <errno.h>

#include "json_writer.h"
#include "render.h"
#include "render_histograms.h"
#include "render_stack.h"
#include "render_threads.h"

const char *mt_render_exit_reason(int reason)
{
    switch (reason) {
    case MT_EXIT_NORMAL:
        return "normal";
    case MT_EXIT_SIGNAL:
        return "signal";
    case MT_EXIT_EXEC:
        return "exec";
    case MT_EXIT_DETACH:
        return "detach";
    default:
        return NULL;
    }
}

const char *mt_render_alloc_kind(unsigned kind)
{
    static const char *const names[MT_ALLOC_KIND_COUNT] = {
        "malloc",          "calloc",    "realloc", "reallocarray", "posix_memalign",
        "aligned_alloc",   "memalign",  "valloc",  "pvalloc",      "PyMem_Malloc",
        "PyObject_Malloc", "inherited", "custom"};
    return kind < MT_ALLOC_KIND_COUNT ? names[kind] : NULL;
}

static double mt_secs(uint64_t us)
{
    return (double)us / 1e6;
}

void mt_render_marks_json(mt_json_t *j, const mt_analysis_t *a)
{
    if (!a->marks.n)
        return;
    mt_json_key(j, "marks");
    mt_json_array_begin(j);
    for (size_t i = 0; i < a->marks.n; i++) {
        mt_json_object_begin(j);
        mt_json_key_string(j, "name", a->marks.v[i].name);
        mt_json_key_double(j, "t_s", mt_secs(a->marks.v[i].time_us));
        mt_json_object_end(j);
    }
    mt_json_array_end(j);
}

const char *mt_render_origin(int how)
{
    switch (how) {
    case MT_ORIGIN_START:
        return "start";
    case MT_ORIGIN_FORK:
        return "fork";
    case MT_ORIGIN_EXEC:
        return "exec";
    case MT_ORIGIN_ATTACH:
        return "attach";
    default:
        return NULL;
    }
}

/* "origin", "next_log", "forks" and "inherited" (docs/json-schema.md). */
static void mt_json_lineage(mt_json_t *j, const mt_analysis_t *a)
{
    const mt_lineage_t *l = &a->lineage;
    const mt_replay_t *r = &a->replay;
    mt_json_key(j, "origin");
    mt_json_object_begin(j);
    mt_json_key_string(j, "how", mt_render_origin(l->how));
    mt_json_key_string(j, "from_log", l->from_log && l->from_log[0] ? l->from_log : NULL);
    mt_json_key_u64(j, "fork_seq", l->fork_seq);
    mt_json_key_string(j, "run_id", l->run_id && l->run_id[0] ? l->run_id : NULL);
    mt_json_object_end(j);
    mt_json_key_string(j, "next_log", l->next_log);
    mt_json_key_u64(j, "forks", l->forks);
    mt_json_key(j, "inherited");
    if (a->inherit == MT_INHERIT_NONE) {
        mt_json_null(j);
        return;
    }
    mt_json_object_begin(j);
    mt_json_key_bool(j, "known", a->inherit != MT_INHERIT_UNKNOWN);
    mt_json_key_u64(j, "bytes", r->inherited_bytes);
    mt_json_key_u64(j, "blocks", r->inherited_blocks);
    mt_json_key_u64(j, "freed_bytes", r->inherited_freed_bytes);
    mt_json_key_u64(j, "freed_blocks", r->inherited_freed_blocks);
    mt_json_key(j, "from_log");
    mt_json_string(j, a->inherit == MT_INHERIT_IMPORTED ? a->inherit_log
                      : a->inherit == MT_INHERIT_LISTED ? a->path
                                                        : NULL);
    mt_json_key_string(j, "note", a->inherit == MT_INHERIT_UNKNOWN ? a->inherit_note : NULL);
    mt_json_object_end(j);
}

static void mt_json_sites(mt_json_t *j, const mt_report_summary_t *rep, const size_t *idx, size_t n)
{
    mt_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        const mt_site_t *s = &rep->sites.v[idx[i]];
        mt_json_object_begin(j);
        mt_json_key_u64(j, "bytes", s->bytes_allocated);
        mt_json_key_u64(j, "blocks", s->allocations);
        mt_json_key_u64(j, "allocations", s->allocations);
        mt_json_key_u64(j, "leaked_bytes", s->leaked_bytes);
        mt_json_key_u64(j, "leaked_blocks", s->leaked_blocks);
        mt_json_key_u64(j, "peak_bytes", s->peak_bytes);
        mt_json_key_u64(j, "peak_blocks", s->peak_blocks);
        mt_render_site_end_json(j, rep->a, s);
    }
    mt_json_array_end(j);
}

int mt_render_summary_json(const mt_report_summary_t *rep, FILE *out, int pretty)
{
    const mt_analysis_t *a = rep->a;
    const mt_replay_t *r = &a->replay;
    mt_json_t j;
    mt_json_document_begin(&j, out, pretty, "memtrace-report", a->path);
    mt_json_key_string(&j, "command", rep->command);
    mt_json_key(&j, "argv");
    mt_json_array_begin(&j);
    for (size_t i = 0; i < a->process.argc; i++)
        mt_json_string(&j, a->process.argv[i]);
    mt_json_array_end(&j);
    mt_json_key_string(&j, "exe", a->process.exe);
    mt_json_key_u64(&j, "pid", a->process.present ? a->process.pid : a->header_pid);
    mt_json_key(&j, "ppid");
    if (a->process.present)
        mt_json_u64(&j, a->process.ppid);
    else
        mt_json_null(&j);
    mt_json_lineage(&j, a);
    mt_json_key_double(&j, "duration_s", mt_secs(r->last_time_us));
    mt_json_key(&j, "exit");
    if (r->has_exit) {
        mt_json_object_begin(&j);
        mt_json_key_string(&j, "reason", mt_render_exit_reason(r->exit_reason));
        mt_json_key_u64(&j, "status", r->exit_status);
        mt_json_object_end(&j);
    } else {
        mt_json_null(&j);
    }
    mt_json_key_u64(&j, "allocations", r->allocations);
    mt_json_key_u64(&j, "frees", r->frees);
    mt_json_key_u64(&j, "bytes_allocated", r->bytes_allocated);
    mt_json_key_u64(&j, "bytes_freed", r->bytes_freed);
    mt_json_key(&j, "allocations_by_kind");
    mt_json_object_begin(&j);
    for (unsigned k = 0; k < MT_ALLOC_INHERITED; k++) { /* calls only: inherited is none */
        mt_json_key(&j, mt_render_alloc_kind(k));
        mt_json_u64(&j, r->allocs_by_kind[k]);
    }
    mt_json_object_end(&j);
    if (r->allocs_by_kind[MT_ALLOC_CUSTOM] || r->custom_blocks) { /* only with memtrace.h */
        mt_json_key(&j, "custom");
        mt_json_object_begin(&j);
        mt_json_key_u64(&j, "allocations", r->allocs_by_kind[MT_ALLOC_CUSTOM]);
        mt_json_key_u64(&j, "bytes_allocated", r->custom_bytes_allocated);
        mt_json_key_u64(&j, "leaked_bytes", r->custom_bytes);
        mt_json_key_u64(&j, "leaked_blocks", r->custom_blocks);
        mt_json_object_end(&j);
    }
    mt_json_key_u64(&j, "peak_heap_bytes", r->peak_heap_bytes);
    mt_json_key_u64(&j, "peak_heap_blocks", r->peak_heap_blocks);
    mt_json_key_double(&j, "peak_time_s", mt_secs(r->peak_time_us));
    mt_json_key_u64(&j, "peak_rss_bytes", r->peak_rss_bytes);
    mt_json_key_double(&j, "peak_rss_time_s", mt_secs(r->peak_rss_time_us));
    mt_held_t held = mt_analysis_held(a);
    mt_json_key_u64(&j, "leaked_bytes", held.bytes);
    mt_json_key_u64(&j, "leaked_blocks", held.blocks);
    mt_json_key_string(&j, "leaked_at", held.at_script_end ? "script_end" : "exit");
    mt_json_key_u64(&j, "leaked_bytes_after_finalization", r->heap_bytes);
    mt_json_key_u64(&j, "leaked_blocks_after_finalization", r->heap_blocks);
    /* the leak check's totals by kind (memtrace leaks has the stacks); null when not run */
    mt_json_key(&j, "leaks");
    mt_json_object_begin(&j);
    mt_json_key_bool(&j, "classified", a->leaks.complete);
    for (unsigned k = 0; k < MT_LEAKS_UNCLASSIFIED; k++) {
        mt_json_key(&j, mt_leakclass_kind_name(k));
        if (!a->leaks.complete) {
            mt_json_null(&j);
            continue;
        }
        mt_json_object_begin(&j);
        mt_json_key_u64(&j, "bytes", a->leaks.bytes[k]);
        mt_json_key_u64(&j, "blocks", a->leaks.blocks[k]);
        mt_json_object_end(&j);
    }
    mt_json_object_end(&j);
    mt_json_key_u64(&j, "unknown_frees", r->unknown_frees);
    mt_json_key_u64(&j, "freed_before_attach", r->freed_before_attach);
    mt_json_key(&j, "mmap");
    mt_json_object_begin(&j);
    mt_json_key_u64(&j, "calls", r->mmap_calls);
    mt_json_key_u64(&j, "munmap_calls", r->munmap_calls);
    mt_json_key_u64(&j, "bytes_mapped", r->mmap_bytes_total);
    mt_json_key_u64(&j, "peak_bytes", r->mmap_peak_bytes);
    mt_json_key_double(&j, "peak_time_s", mt_secs(r->mmap_peak_time_us));
    mt_json_key_u64(&j, "leaked_bytes", r->mmap_bytes);
    mt_json_object_end(&j);
    mt_render_log_notes_json(&j, a);
    mt_json_key_string(&j, "events_lost_notice", a->lost_notice[0] ? a->lost_notice : NULL);
    mt_render_marks_json(&j, a);
    int trc = mt_render_threads_json(&j, a); /* "threads", "thread_filter" */
    mt_json_key(&j, "top_sites");
    mt_json_sites(&j, rep, rep->by_bytes, rep->nby_bytes);
    mt_json_key(&j, "top_sites_by_count");
    mt_json_sites(&j, rep, rep->by_count, rep->nby_count);
    mt_render_histograms_json(&j, rep);
    mt_json_key(&j, "warnings");
    mt_json_array_begin(&j);
    for (size_t i = 0; i < mt_symbolizer_warning_count(rep->sym); i++)
        mt_json_string(&j, mt_symbolizer_warning(rep->sym, i));
    mt_json_array_end(&j);
    mt_json_object_end(&j);
    int rc = mt_json_finish(&j);
    return trc < 0 ? trc : rc;
}

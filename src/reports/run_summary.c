// SPDX-License-Identifier: MIT
// The short summary `memtrace run` prints (run_summary.h). mt_summary_follow computes it while the
// program still writes the log, so its memory is taken from the machine the program runs on:
// instead of a full analysis (a 32-byte block entry plus 96 bytes per trace node) it keeps only
// what the summary shows: block sizes by address (size_map.h, 16-32 bytes a block), a 4-byte
// key per trace node to check the log as the analysis does, and the mappings, samples and exit
// in a replay that never sees a heap event. Its figures equal the analysis's (analysis.c,
// replay.c) for every log, cut or corrupt ones included: the rules below mirror theirs. A fork
// child whose inherited heap is in its parent's log goes to the full analysis, which reads it.
#include "run_summary.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "log_reader.h"
#include "modules.h"
#include "python_info.h"
#include "replay.h"
#include "size_map.h"
#include "grow.h"

/* The analysis's limit on node ids (nodes.c): ids are handed out densely from 1. */
#define MT_SUM_NODE_SLACK 4096u

/* A block a realloc released, in case REALLOC_FAILED brings it back (replay.c). */
typedef struct mt_sum_pending {
    uint64_t tid, addr, size;
} mt_sum_pending_t;

typedef struct mt_sum_pass {
    const char *path;
    int followed;
    /* the checks of the analysis: a key per defined node (0: undefined), the modules, Python */
    uint32_t *node_key;
    uint32_t node_cap, node_n, node_defined;
    mt_modules_t *mods;
    mt_pyinfo_t py;
    mt_replay_t side; /* anonymous mappings, samples, exit: no heap event reaches it */
    /* the heap, as replay.c counts it */
    mt_sizemap_t live;
    mt_sum_pending_t *pending;
    size_t npending, pending_cap;
    uint64_t allocations, frees, bytes_allocated;
    uint64_t heap_bytes, heap_blocks, peak_bytes, peak_time_us;
    int script_end;
    uint64_t end_bytes, end_blocks;
    uint64_t last_time_us;
    int process_present, has_origin;
    uint64_t pid;
} mt_sum_pass_t;

/* ---- trace nodes (nodes.c's rules) ---- */

static uint32_t mt_sum_node_key(uint64_t parent, uint64_t ip)
{
    uint64_t h = (ip ^ (parent * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
    return (uint32_t)(h >> 32) | 1;
}

static int mt_sum_node_valid(const mt_sum_pass_t *s, uint64_t id)
{
    return id == 0 || (id < s->node_n && s->node_key[id]);
}

/* 0, -EINVAL (corrupt), -EEXIST (conflicting redefinition) or -ENOMEM. A redefinition is
 * compared by key: a different node that collides in 32 bits passes where the analysis would
 * stop (only in a corrupt log). */
static int mt_sum_node_define(mt_sum_pass_t *s, uint64_t id, uint64_t parent, uint64_t ip)
{
    if (id == 0 || id > (uint64_t)s->node_defined * 2 + MT_SUM_NODE_SLACK || id >= UINT32_MAX)
        return -EINVAL;
    if (!mt_sum_node_valid(s, parent))
        return -EINVAL;
    uint32_t key = mt_sum_node_key(parent, ip);
    if (id < s->node_n && s->node_key[id])
        return s->node_key[id] == key ? 0 : -EEXIST;
    if (id >= s->node_cap) {
        uint32_t nc = s->node_cap ? s->node_cap : 1024;
        while (nc <= id)
            nc *= 2;
        uint32_t *nk = realloc(s->node_key, (size_t)nc * sizeof *nk);
        if (!nk)
            return -ENOMEM;
        memset(nk + s->node_cap, 0, (size_t)(nc - s->node_cap) * sizeof *nk);
        s->node_key = nk;
        s->node_cap = nc;
    }
    s->node_key[id] = key;
    s->node_defined++;
    if (id >= s->node_n)
        s->node_n = (uint32_t)id + 1;
    return 0;
}

/* ---- the heap (replay.c's arithmetic) ---- */

static mt_sum_pending_t *mt_sum_pending_find(mt_sum_pass_t *s, uint64_t tid)
{
    for (size_t i = 0; i < s->npending; i++)
        if (s->pending[i].tid == tid)
            return &s->pending[i];
    return NULL;
}

static void mt_sum_pending_drop(mt_sum_pass_t *s, mt_sum_pending_t *p)
{
    *p = s->pending[--s->npending];
}

/* Any other event of the thread: a realloc it had in flight freed its block for good. */
static void mt_sum_settle(mt_sum_pass_t *s, uint64_t tid)
{
    mt_sum_pending_t *p = s->npending ? mt_sum_pending_find(s, tid) : NULL;
    if (p)
        mt_sum_pending_drop(s, p);
}

static int mt_sum_insert(mt_sum_pass_t *s, uint64_t addr, uint64_t size, uint64_t time_us)
{
    int rc = mt_sizemap_put(&s->live, addr, size);
    if (rc < 0)
        return rc;
    s->heap_bytes += size;
    s->heap_blocks++;
    if (s->heap_bytes > s->peak_bytes) {
        s->peak_bytes = s->heap_bytes;
        s->peak_time_us = time_us;
    }
    return 0;
}

static int mt_sum_alloc(mt_sum_pass_t *s, const mt_record_t *rec)
{
    mt_sum_settle(s, rec->tid);
    if (rec->alloc_kind != MT_ALLOC_INHERITED) {
        s->allocations++;
        s->bytes_allocated += rec->size;
    }
    if (rec->addr == 0)
        return 0;
    /* a custom block is keyed apart from the slab it lies in (replay.h) */
    uint64_t addr =
        rec->alloc_kind == MT_ALLOC_CUSTOM ? rec->addr | MT_BLOCK_CUSTOM_BIT : rec->addr;
    uint64_t old;
    if (mt_sizemap_take(&s->live, addr, &old)) { /* a free we never saw */
        s->heap_bytes -= old;
        s->heap_blocks--;
    }
    return mt_sum_insert(s, addr, rec->size, rec->time_us);
}

/* A free or a realloc release; the released block is kept for REALLOC_FAILED. */
static int mt_sum_release(mt_sum_pass_t *s, const mt_record_t *rec)
{
    mt_sum_settle(s, rec->tid);
    uint64_t size;
    uint64_t addr = rec->tag == MT_TAG_CUSTOM_FREE ? rec->addr | MT_BLOCK_CUSTOM_BIT : rec->addr;
    if (!mt_sizemap_take(&s->live, addr, &size))
        return 0; /* an unknown free */
    s->frees++;
    s->heap_bytes -= size;
    s->heap_blocks--;
    if (rec->tag != MT_TAG_REALLOC_RELEASE)
        return 0;
    if (MT_GROW(s->pending, s->pending_cap, s->npending + 1, 8) < 0)
        return -ENOMEM;
    s->pending[s->npending++] = (mt_sum_pending_t){rec->tid, rec->addr, size};
    return 0;
}

static int mt_sum_realloc_failed(mt_sum_pass_t *s, const mt_record_t *rec)
{
    mt_sum_pending_t *p = s->npending ? mt_sum_pending_find(s, rec->tid) : NULL;
    if (!p || p->addr != rec->addr) {
        if (p)
            mt_sum_pending_drop(s, p);
        return 0; /* a protocol error */
    }
    mt_sum_pending_t b = *p;
    mt_sum_pending_drop(s, p);
    s->frees--;
    if (mt_sizemap_has(&s->live, b.addr))
        return 0; /* someone allocated it meanwhile: keep theirs */
    return mt_sum_insert(s, b.addr, b.size, rec->time_us);
}

/* ---- the pass (analysis.c's loop, with what the summary needs) ---- */

/* 1: go on, 0: the log is corrupt here (the reader was told), 2: the end (EXIT of a followed
 * log), 3: a log for the full analysis, < 0: an error. */
static int mt_sum_record(mt_sum_pass_t *s, mt_reader_t *rd, const mt_record_t *rec)
{
    char why[96];
    int rc;
    switch (rec->tag) {
    case MT_TAG_ALLOC:
        if (!mt_sum_node_valid(s, rec->node)) {
            snprintf(why, sizeof why, "allocation refers to unknown trace node %u", rec->node);
            goto corrupt;
        }
        s->last_time_us = rec->time_us;
        return mt_sum_alloc(s, rec) < 0 ? -ENOMEM : 1;
    case MT_TAG_FREE:
    case MT_TAG_REALLOC_RELEASE:
    case MT_TAG_CUSTOM_FREE:
        s->last_time_us = rec->time_us;
        return mt_sum_release(s, rec) < 0 ? -ENOMEM : 1;
    case MT_TAG_REALLOC_FAILED:
        s->last_time_us = rec->time_us;
        return mt_sum_realloc_failed(s, rec) < 0 ? -ENOMEM : 1;
    case MT_TAG_MMAP:
        if (!mt_sum_node_valid(s, rec->node)) {
            snprintf(why, sizeof why, "mmap refers to unknown trace node %u", rec->node);
            goto corrupt;
        }
        s->last_time_us = rec->time_us;
        return mt_replay_record(&s->side, rec) < 0 ? -ENOMEM : 1;
    case MT_TAG_MUNMAP:
    case MT_TAG_SAMPLE:
    case MT_TAG_NOTICE: /* the side replay counts mappings and samples */
        s->last_time_us = rec->time_us;
        return mt_replay_record(&s->side, rec) < 0 ? -ENOMEM : 1;
    case MT_TAG_EXIT:
        s->last_time_us = rec->time_us;
        if (mt_replay_record(&s->side, rec) < 0)
            return -ENOMEM;
        /* A followed log gets nothing after EXIT (an exec'd image writes a new log). */
        return s->followed ? 2 : 1;
    case MT_TAG_TRACE_NODE:
        rc = mt_sum_node_define(s, rec->id, rec->parent, rec->ip);
        if (rc == -EINVAL || rc == -EEXIST) {
            snprintf(why, sizeof why, "bad trace node %llu (parent %llu)",
                     (unsigned long long)rec->id, (unsigned long long)rec->parent);
            goto corrupt;
        }
        return rc < 0 ? rc : 1;
    case MT_TAG_MODULE_LOAD:
        rc = mt_modules_load(s->mods, rec);
        if (rc == -EEXIST) {
            snprintf(why, sizeof why, "module %llu loaded twice", (unsigned long long)rec->id);
            goto corrupt;
        }
        return rc < 0 ? rc : 1;
    case MT_TAG_MODULE_UNLOAD:
        rc = mt_modules_unload(s->mods, rec->id);
        if (rc == -ENOENT) {
            snprintf(why, sizeof why, "unload of unknown module %llu", (unsigned long long)rec->id);
            goto corrupt;
        }
        return rc < 0 ? rc : 1;
    case MT_TAG_PROCESS:
        s->process_present = 1;
        s->pid = rec->a;
        return 1;
    case MT_TAG_FORK:
        s->last_time_us = rec->time_us;
        return 1;
    case MT_TAG_ORIGIN:
        if (s->has_origin)
            return 1; /* one per log; a second one changes nothing (analysis.c) */
        s->has_origin = 1;
        /* A fork child whose inherited heap is in its parent's log: the analysis reads that
         * log up to the fork (inherit.c). That is the analysis's business: let it do it. */
        if (rec->a == MT_ORIGIN_FORK && !(rec->c & MT_ORIGIN_HEAP_LISTED) &&
            mt_reader_events(rd) == 0 && s->heap_blocks == 0)
            return 3;
        return 1;
    case MT_TAG_PY_SCRIPT_END:
        /* what "not freed" means for a script (analysis.h): held when it ended */
        s->script_end = 1;
        s->end_bytes = s->heap_bytes;
        s->end_blocks = s->heap_blocks;
        return 1;
    case MT_TAG_PY_INTERP:
    case MT_TAG_PY_CODE:
    case MT_TAG_PY_LOCATION:
    case MT_TAG_PY_ARENA_ALLOC:
    case MT_TAG_PY_ARENA_FREE:
        rc = mt_pyinfo_record(&s->py, rec, s->mods, &s->side);
        if (rc == -EINVAL) {
            snprintf(why, sizeof why, "bad Python record (tag 0x%02x)", rec->tag);
            goto corrupt;
        }
        return rc < 0 ? rc : 1;
    default:
        return 1;
    }
corrupt:
    mt_reader_fail(rd, why);
    return 0;
}

static void mt_sum_pass_free(mt_sum_pass_t *s)
{
    free(s->node_key);
    free(s->pending);
    mt_sizemap_destroy(&s->live);
    mt_replay_destroy(&s->side);
    mt_pyinfo_destroy(&s->py);
    mt_modules_free(s->mods);
}

/* 0, 3 (the full analysis must do this log), or a negative errno. */
static int mt_sum_run(mt_sum_pass_t *s, mt_reader_t *rd, mt_summary_t *out)
{
    mt_record_t rec;
    memset(&rec, 0, sizeof rec);
    int rc;
    while ((rc = mt_reader_next(rd, &rec)) > 0) {
        rc = mt_sum_record(s, rd, &rec);
        if (rc != 1)
            break;
    }
    if (rc < 0 || rc == 3)
        return rc;
    mt_replay_finish(&s->side);
    const mt_replay_t *r = &s->side;
    int cut = mt_reader_state(rd) == MT_READER_TRUNCATED;
    out->allocations = s->allocations;
    out->frees = s->frees;
    out->bytes_allocated = s->bytes_allocated;
    out->peak_heap_bytes = s->peak_bytes;
    out->peak_time_s = (double)s->peak_time_us / 1e6;
    out->peak_rss_bytes = r->peak_rss_bytes;
    out->leaked_bytes = s->script_end ? s->end_bytes : s->heap_bytes;
    out->leaked_blocks = s->script_end ? s->end_blocks : s->heap_blocks;
    out->leaked_at_script_end = s->script_end;
    out->mmap_peak_bytes = r->mmap_peak_bytes;
    out->mmap_leaked_bytes = r->mmap_bytes;
    out->duration_s = (double)s->last_time_us / 1e6;
    out->pid = s->process_present ? (uint32_t)s->pid : mt_reader_pid(rd);
    out->truncated = cut || !r->has_exit;
    out->exit_reason = r->has_exit ? r->exit_reason : -1;
    out->exit_status = (int)r->exit_status;
    return 0;
}

/* The summary from a full analysis: a fork child's log, whose heap starts as its parent's. */
static int mt_summary_analysis(const char *path, mt_follow_fn follow, void *follow_arg,
                               mt_summary_t *out, char *err, size_t errlen)
{
    mt_analysis_t *a;
    int rc = mt_analysis_load_follow(&a, path, follow, follow_arg, err, errlen);
    if (rc < 0)
        return rc;
    mt_summary_of_analysis(a, out);
    mt_analysis_free(a);
    return 0;
}

void mt_summary_of_analysis(const mt_analysis_t *a, mt_summary_t *out)
{
    const mt_replay_t *r = &a->replay;
    mt_held_t held = mt_analysis_held(a);
    *out = (mt_summary_t){
        .allocations = r->allocations,
        .frees = r->frees,
        .bytes_allocated = r->bytes_allocated,
        .peak_heap_bytes = r->peak_heap_bytes,
        .peak_time_s = (double)r->peak_time_us / 1e6,
        .peak_rss_bytes = r->peak_rss_bytes,
        .leaked_bytes = held.bytes,
        .leaked_blocks = held.blocks,
        .leaked_at_script_end = held.at_script_end,
        .mmap_peak_bytes = r->mmap_peak_bytes,
        .mmap_leaked_bytes = r->mmap_bytes,
        .duration_s = (double)r->last_time_us / 1e6,
        .pid = a->process.present ? (uint32_t)a->process.pid : a->header_pid,
        /* an aggregated log without its figures counts nothing: as a cut log */
        .truncated = a->truncated || (a->aggregated && !a->agg_done),
        .exit_reason = r->has_exit ? r->exit_reason : -1,
        .exit_status = (int)r->exit_status,
        .aggregated_missing = a->aggregated && !a->agg_done,
    };
}

int mt_summary_follow(const char *path, mt_follow_fn follow, void *follow_arg, mt_summary_t *out,
                      char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    mt_reader_t *rd;
    int rc = mt_reader_open_light(&rd, path, follow, follow_arg, err, errlen);
    if (rc < 0)
        return rc;
    if (mt_reader_flags(rd) & MT_LOG_FLAG_AGGREGATED) {
        /* its figures are the analysis's to set (AGG_* records), and cost nothing to read */
        mt_reader_close(rd);
        return mt_summary_analysis(path, follow, follow_arg, out, err, errlen);
    }
    mt_sum_pass_t s;
    memset(&s, 0, sizeof s);
    s.path = path;
    s.followed = follow != NULL;
    mt_pyinfo_init(&s.py);
    if ((rc = mt_modules_new(&s.mods)) < 0 || (rc = mt_replay_init(&s.side)) < 0 ||
        (rc = mt_sizemap_init(&s.live)) < 0 || (rc = mt_sum_run(&s, rd, out)) < 0)
        snprintf(err, errlen, "%s: %s", mt_reader_name(rd), strerror(-rc));
    mt_reader_close(rd);
    mt_sum_pass_free(&s);
    if (rc == 3)
        return mt_summary_analysis(path, follow, follow_arg, out, err, errlen);
    return rc < 0 ? rc : 0;
}

int mt_summary_load(const char *path, mt_summary_t *out, char *err, size_t errlen)
{
    return mt_summary_follow(path, NULL, NULL, out, err, errlen);
}

// SPDX-License-Identifier: MIT
// The single pass from log records to replayed state (see analysis.h). This loop runs once per
// record of logs with billions of them: it must stay free of allocation and indirection beyond
// the reader and replay calls. Ids are validated here, before replay trusts them.
#include "analysis.h"

#include "inherit.h"
#include "grow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *mt_strndup0(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void mt_process_clear(mt_process_info_t *p)
{
    free(p->exe);
    for (size_t i = 0; i < p->argc; i++)
        free(p->argv[i]);
    free(p->argv);
    memset(p, 0, sizeof *p);
}

static int mt_process_set(mt_process_info_t *p, const mt_record_t *rec)
{
    /* Keep the first PROCESS record: after exec the new image writes its own log. */
    if (p->present)
        return 0;
    p->present = 1;
    p->pid = rec->a;
    p->ppid = rec->b;
    p->page_size = rec->c;
    p->exe = mt_strndup0(rec->str.ptr, rec->str.len);
    p->argv = calloc(rec->argc ? rec->argc : 1, sizeof *p->argv);
    if (!p->exe || !p->argv)
        return -ENOMEM;
    for (size_t i = 0; i < rec->argc; i++) {
        p->argv[i] = mt_strndup0(rec->argv[i].ptr, rec->argv[i].len);
        if (!p->argv[i])
            return -ENOMEM;
        p->argc = i + 1;
    }
    return 0;
}

static int mt_lineage_origin(mt_lineage_t *l, const mt_record_t *rec)
{
    if (l->has_origin)
        return 0; /* one per log; a second one changes nothing */
    l->has_origin = 1;
    l->how = rec->a <= MT_ORIGIN_ATTACH ? (int)rec->a : MT_ORIGIN_START;
    l->fork_seq = rec->b;
    l->flags = (unsigned)rec->c;
    free(l->run_id);
    l->run_id = mt_strndup0(rec->str.ptr, rec->str.len);
    l->from_log = mt_strndup0(rec->str2.ptr, rec->str2.len);
    return l->run_id && l->from_log ? 0 : -ENOMEM;
}

static int mt_lineage_next(mt_lineage_t *l, const mt_record_t *rec)
{
    free(l->next_log);
    l->next_log = mt_strndup0(rec->str.ptr, rec->str.len);
    return l->next_log ? 0 : -ENOMEM;
}

static void mt_lineage_clear(mt_lineage_t *l)
{
    free(l->run_id);
    free(l->from_log);
    free(l->next_log);
    memset(l, 0, sizeof *l);
}

/* A fork child's own node ids follow its parent's (inherit.h): false when the shifted id no
 * longer fits (a corrupt log). */
static inline int mt_analysis_shift(const mt_analysis_t *a, uint32_t *id)
{
    if (*id == 0)
        return 1;
    if (*id > UINT32_MAX - 1 - a->node_base)
        return 0;
    *id += a->node_base;
    return 1;
}

/* How many records ahead mt_analysis_run prefetches: about the events replayed while one
 * miss to memory is outstanding. */
#define MT_ANALYSIS_PREFETCH 8
/* From this many slots of the block table on (2 MiB), lookups miss the cache. */
#define MT_ANALYSIS_PREFETCH_SLOTS (1u << 16)

/* mt_analysis_snapshots: reports every time asked for that the clock has passed. */
static void mt_analysis_snap(mt_analysis_t *a, uint64_t now)
{
    while (a->snap_i < a->snap_n && now > a->snap_us[a->snap_i]) {
        a->snap_fn(a->snap_arg, a, a->snap_i);
        a->snap_i++;
    }
}

/* A field of a record's head as the reader keeps it (mt_reader_peek): bytes, not a record. */
#define MT_HEAD_GET(h, field, v) memcpy(&(v), (h) + offsetof(mt_record_t, field), sizeof(v))

/* Replays the heap events among the n records at heads (mt_reader_peek) up to the first other
 * record: the pass's own loop without the checks that only a window, a snapshot or a live view
 * need (mt_analysis_run takes this path only without them), and without copying a record.
 * Returns how many it replayed; *rc is 0, a negative errno, or 1 when the record after them is
 * corrupt (why says how; it counts as read). */
/* No block or mapping is larger than a process's address space: 2^57 bytes with x86-64's
 * five-level page tables (arm64 allows 2^52). A size above it comes from a damaged log, and
 * summed with others it would wrap the totals into small, wrong numbers. */
#define MT_ANALYSIS_MAX_BLOCK (1ull << 57)

static void mt_analysis_too_big(char *why, size_t len, const char *what, uint64_t size)
{
    snprintf(why, len, "%s of %llu bytes, more than an address space holds", what,
             (unsigned long long)size);
}

static size_t mt_analysis_heap_run(mt_analysis_t *a, const unsigned char *heads, size_t n,
                                   char *why, size_t whylen, int *rc)
{
    mt_replay_t *r = &a->replay;
    int prefetch = r->mask >= MT_ANALYSIS_PREFETCH_SLOTS;
    size_t k = 0;
    *rc = 0;
    for (const unsigned char *h = heads; k < n; k++, h += MT_READER_HEAD_STRIDE) {
        uint8_t tag = h[offsetof(mt_record_t, tag)];
        uint64_t tid, t, addr;
        if (prefetch && k + MT_ANALYSIS_PREFETCH < n) {
            MT_HEAD_GET(h + MT_ANALYSIS_PREFETCH * MT_READER_HEAD_STRIDE, addr, addr);
            mt_replay_prefetch(r, addr);
        }
        MT_HEAD_GET(h, tid, tid);
        MT_HEAD_GET(h, time_us, t);
        MT_HEAD_GET(h, addr, addr);
        if (__builtin_expect(tag == MT_TAG_FREE, 1)) {
            *rc = mt_replay_free(r, tid, t, addr);
        } else if (__builtin_expect(tag == MT_TAG_ALLOC, 1)) {
            uint32_t node;
            uint64_t size;
            MT_HEAD_GET(h, node, node);
            MT_HEAD_GET(h, size, size);
            if (__builtin_expect(a->node_base != 0, 0) && !mt_analysis_shift(a, &node)) {
                snprintf(why, whylen, "allocation refers to trace node %u", node);
                *rc = 1;
                return k;
            }
            if (__builtin_expect(!mt_nodes_valid(&a->nodes, node), 0)) {
                snprintf(why, whylen, "allocation refers to unknown trace node %u", node);
                *rc = 1;
                return k;
            }
            if (__builtin_expect(size > MT_ANALYSIS_MAX_BLOCK, 0)) {
                mt_analysis_too_big(why, whylen, "allocation", size);
                *rc = 1;
                return k;
            }
            *rc =
                mt_replay_alloc(r, tid, t, addr, size, node, h[offsetof(mt_record_t, alloc_kind)]);
        } else {
            return k;
        }
        if (__builtin_expect(*rc < 0, 0))
            return k + 1;
    }
    return k;
}

static int mt_analysis_run(mt_analysis_t *a, mt_reader_t *rd, mt_progress_fn progress,
                           void *progress_arg, char *err, size_t errlen)
{
    mt_record_t rec;
    int rc;
    char why[96];
    uint32_t tick = 0, live_tick = 0;
    /* without a window: from 0 (already open), to the end (never passed) */
    uint64_t win_from = a->window.on ? a->window.from_us : 0;
    uint64_t win_to = a->window.on ? a->window.to_us : UINT64_MAX;
    int win_opened = win_from == 0;
    if (a->window.on && win_from == 0)
        mt_replay_window_open(&a->replay, 0);
    memset(&rec, 0, sizeof rec);
    if (a->live && a->live->tick && a->live->tick(a->live->arg, a))
        goto end;
    for (;;) {
        /* Heap events a batch at a time where nothing needs a look at each record (a view that
         * reads the analysis meanwhile, a window, snapshots). */
        if (a->live == NULL && !a->window.on && a->snap_i >= a->snap_n) {
            const unsigned char *heads;
            size_t n, k;
            rc = mt_reader_peek(rd, &heads, &n);
            if (rc <= 0)
                break;
            if (n) {
                int hrc;
                k = mt_analysis_heap_run(a, heads, n, why, sizeof why, &hrc);
                mt_reader_skip(rd, hrc == 1 ? k + 1 : k);
                if (__builtin_expect(progress != NULL, 0) && (tick += (uint32_t)k) >= 0x10000) {
                    tick = 0;
                    progress(progress_arg, mt_reader_bytes_done(rd), mt_reader_size(rd));
                }
                if (hrc == 1) {
                    mt_reader_fail(rd, why);
                    rc = 0;
                    break;
                }
                if (hrc < 0) {
                    rc = hrc;
                    break;
                }
                if (k == n)
                    continue;
            }
        }
        if ((rc = mt_reader_next(rd, &rec)) <= 0)
            break;
        /* one predictable branch per record for a view that reads the analysis meanwhile */
        if (__builtin_expect(a->live != NULL, 0) && ++live_tick == MT_ANALYSIS_TICK) {
            live_tick = 0;
            if (a->live->tick && a->live->tick(a->live->arg, a))
                goto end;
        }
        /* two predictable branches per record for the window; its end is where the replay
         * stops, so that what is live then is what the window left held */
        if (__builtin_expect(rec.time_us > win_to, 0)) {
            a->window_stopped = 1;
            goto end;
        }
        if (__builtin_expect(!win_opened, 0) && rec.time_us >= win_from) {
            win_opened = 1;
            mt_replay_window_open(&a->replay, win_from);
        }
        /* one predictable branch per record; the callback every 64 Ki records */
        if (__builtin_expect(progress && ++tick == 0x10000, 0)) {
            tick = 0;
            progress(progress_arg, mt_reader_bytes_done(rd), mt_reader_size(rd));
        }
        /* one predictable branch when no snapshot is asked for; every record that changes the
         * heap, or a realloc's release just after a snapshot's time would come before it */
        if (__builtin_expect(a->snap_i < a->snap_n, 0) &&
            (rec.tag == MT_TAG_ALLOC || rec.tag == MT_TAG_FREE ||
             rec.tag == MT_TAG_REALLOC_RELEASE || rec.tag == MT_TAG_REALLOC_FAILED ||
             rec.tag == MT_TAG_CUSTOM_FREE))
            mt_analysis_snap(a, rec.time_us);
        /* the table slot of an event a few records on, while this one is replayed (a table
         * that fits the cache needs none) */
        if (a->replay.mask >= MT_ANALYSIS_PREFETCH_SLOTS) {
            uint64_t ahead = mt_reader_ahead(rd, MT_ANALYSIS_PREFETCH);
            if (ahead)
                mt_replay_prefetch(&a->replay, ahead);
        }
        /* Nearly every record is an allocation or a free: two predictable branches, not the
         * switch's indirect jump, which mispredicts as the two alternate (churn.c's report:
         * a tenth of its CPU time). */
        if (__builtin_expect(rec.tag == MT_TAG_FREE, 1)) {
            rc = mt_replay_free(&a->replay, rec.tid, rec.time_us, rec.addr);
            if (__builtin_expect(rc < 0, 0))
                break;
            continue;
        }
        if (__builtin_expect(rec.tag == MT_TAG_ALLOC, 1)) {
            if (__builtin_expect(a->node_base != 0, 0) && !mt_analysis_shift(a, &rec.node)) {
                snprintf(why, sizeof why, "allocation refers to trace node %u", rec.node);
                goto corrupt;
            }
            if (__builtin_expect(!mt_nodes_valid(&a->nodes, rec.node), 0)) {
                snprintf(why, sizeof why, "allocation refers to unknown trace node %u", rec.node);
                goto corrupt;
            }
            if (__builtin_expect(rec.size > MT_ANALYSIS_MAX_BLOCK, 0)) {
                mt_analysis_too_big(why, sizeof why, "allocation", rec.size);
                goto corrupt;
            }
            rc = mt_replay_alloc(&a->replay, rec.tid, rec.time_us, rec.addr, rec.size, rec.node,
                                 rec.alloc_kind);
            if (__builtin_expect(rc < 0, 0))
                break;
            if (__builtin_expect(a->live != NULL, 0) && a->live->alloc &&
                rec.alloc_kind != MT_ALLOC_INHERITED)
                a->live->alloc(a->live->arg, rec.node, rec.tid, rec.size);
            continue;
        }
        switch (rec.tag) {
        case MT_TAG_MMAP:
            if (!mt_analysis_shift(a, &rec.node) || !mt_nodes_valid(&a->nodes, rec.node)) {
                snprintf(why, sizeof why, "mmap refers to unknown trace node %u", rec.node);
                goto corrupt;
            }
            if (rec.size > MT_ANALYSIS_MAX_BLOCK) {
                mt_analysis_too_big(why, sizeof why, "mapping", rec.size);
                goto corrupt;
            }
            rc = mt_replay_record(&a->replay, &rec);
            break;
        case MT_TAG_TRACE_NODE:
            if (a->node_base) {
                rec.id = rec.id ? rec.id + a->node_base : 0;
                rec.parent = rec.parent ? rec.parent + a->node_base : 0;
            }
            rc = mt_nodes_define(&a->nodes, a->modules, rec.id, rec.parent, rec.ip);
            if (rc == -EINVAL || rc == -EEXIST) {
                snprintf(why, sizeof why, "bad trace node %llu (parent %llu)",
                         (unsigned long long)rec.id, (unsigned long long)rec.parent);
                goto corrupt;
            }
            break;
        case MT_TAG_MODULE_LOAD:
            rc = mt_modules_load(a->modules, &rec);
            if (rc == -EEXIST) {
                snprintf(why, sizeof why, "module %llu loaded twice", (unsigned long long)rec.id);
                goto corrupt;
            }
            break;
        case MT_TAG_MODULE_UNLOAD:
            rc = mt_modules_unload(a->modules, rec.id);
            if (rc == -ENOENT) {
                snprintf(why, sizeof why, "unload of unknown module %llu",
                         (unsigned long long)rec.id);
                goto corrupt;
            }
            break;
        case MT_TAG_PROCESS:
            rc = mt_process_set(&a->process, &rec);
            break;
        case MT_TAG_ORIGIN:
            rc = a->lineage.has_origin ? 0 : mt_lineage_origin(&a->lineage, &rec);
            if (rc == 0 && a->lineage.how == MT_ORIGIN_ATTACH)
                a->replay.attached = 1;
            if (rc == 0 && a->lineage.how == MT_ORIGIN_FORK && !a->inherit &&
                mt_reader_events(rd) == 0 && !a->replay.all_heap_blocks)
                rc = mt_inherit_import(a);
            break;
        case MT_TAG_NEXT_LOG:
            rc = mt_lineage_next(&a->lineage, &rec);
            break;
        case MT_TAG_FORK:
            a->lineage.forks++;
            a->replay.last_time_us = rec.time_us;
            if (a->stop_at_fork && rec.a == a->stop_at_fork) {
                a->stopped_at_fork = 1;
                goto end;
            }
            rc = 0;
            break;
        case MT_TAG_NOTICE:
            if (rec.a == MT_NOTICE_MARK) { /* a point in time, no recording problem */
                a->replay.last_time_us = rec.time_us;
                rc = mt_marks_add(&a->marks, rec.str.ptr, rec.str.len, rec.time_us);
                if (rc == 0 && a->window.to_mark && a->marks.n == a->window.to_mark) {
                    a->window_stopped = 1;
                    goto end;
                }
                break;
            }
            a->notices[rec.a < 7 ? rec.a : 7]++;
            if (rec.a == MT_NOTICE_ALLOCATOR && !a->allocator_notice[0])
                snprintf(a->allocator_notice, sizeof a->allocator_notice, "%.*s",
                         (int)(rec.str.len < 255 ? rec.str.len : 255), rec.str.ptr);
            if (rec.a == MT_NOTICE_EVENTS_LOST && !a->lost_notice[0])
                snprintf(a->lost_notice, sizeof a->lost_notice, "%.*s",
                         (int)(rec.str.len < 255 ? rec.str.len : 255), rec.str.ptr);
            rc = mt_replay_record(&a->replay, &rec);
            break;
        case MT_TAG_LEAK_SCAN:
            rc = mt_leakclass_scan(&a->leaks, &a->replay, &rec);
            break;
        case MT_TAG_LEAK_BLOCK:
            rc = mt_leakclass_block(&a->leaks, &a->replay, &rec);
            break;
        case MT_TAG_LEAK_SCAN_END:
            rc = mt_leakclass_end(&a->leaks, &a->replay, &rec);
            break;
        case MT_TAG_THREAD_NAME:
            a->threads_named++;
            rc = mt_tnames_set(&a->thread_names, rec.a, rec.str.ptr, rec.str.len);
            break;
        case MT_TAG_PY_INTERP:
        case MT_TAG_PY_CODE:
        case MT_TAG_PY_LOCATION:
        case MT_TAG_PY_SCRIPT_END:
        case MT_TAG_PY_ARENA_ALLOC:
        case MT_TAG_PY_ARENA_FREE:
            rc = mt_pyinfo_record(&a->python, &rec, a->modules, &a->replay);
            a->replay.py_arena_bytes = a->python.arena_bytes; /* for the sampled series */
            if (rec.tag == MT_TAG_PY_SCRIPT_END && rc >= 0)
                mt_replay_threads_mark_end(&a->replay); /* what each thread held then */
            if (rc == -EINVAL) {
                snprintf(why, sizeof why, "bad Python record (tag 0x%02x)", rec.tag);
                goto corrupt;
            }
            break;
        case MT_TAG_AGG_HEAP:
            if (a->agg_done || !a->aggregated) {
                snprintf(why, sizeof why, "aggregated figures %s",
                         a->agg_done ? "given twice" : "in a log of events");
                goto corrupt;
            }
            rc = mt_replay_agg_heap(&a->replay, rec.time_us, rec.str.ptr, rec.str.len);
            if (rc == -EINVAL) {
                snprintf(why, sizeof why, "bad aggregated figures");
                goto corrupt;
            }
            a->agg_done = 1;
            break;
        case MT_TAG_AGG_SITE:
        case MT_TAG_AGG_LIVE:
            if (!a->agg_done || !mt_analysis_shift(a, &rec.node) ||
                !mt_nodes_valid(&a->nodes, rec.node)) {
                snprintf(why, sizeof why, "aggregated figures of unknown trace node %u", rec.node);
                goto corrupt;
            }
            if (rec.tag == MT_TAG_AGG_SITE)
                rc =
                    mt_replay_agg_site(&a->replay, rec.node, rec.a, rec.size, rec.b, rec.c, rec.id);
            else
                rc = mt_replay_agg_live(&a->replay, a->header_pid, rec.time_us, rec.addr, rec.size,
                                        rec.node, rec.alloc_kind);
            if (rc == -EEXIST || rc == -EINVAL) {
                snprintf(why, sizeof why, "aggregated block at 0x%llx listed twice",
                         (unsigned long long)rec.addr);
                goto corrupt;
            }
            break;
        case MT_TAG_EXIT:
            rc = mt_replay_record(&a->replay, &rec);
            /* A followed log gets nothing after EXIT (an exec'd image writes a new log): do
             * not wait for the program to end. */
            if (rc >= 0 && a->followed)
                goto end;
            break;
        default:
            rc = mt_replay_record(&a->replay, &rec);
            break;
        }
        if (rc < 0) {
            snprintf(err, errlen, "%s: %s", a->path, strerror(-rc));
            return rc;
        }
        continue;
    corrupt:
        mt_reader_fail(rd, why);
        rc = 0;
        break;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", a->path, strerror(-rc));
        return rc;
    }
end:
    mt_analysis_snap(a, UINT64_MAX);
    mt_replay_finish(&a->replay);
    a->events = mt_reader_events(rd);
    if (a->window.on) {
        /* the window's end as the replay saw it: the end of the log when it came first */
        a->window_at_end = !a->window_stopped;
        if (a->window_at_end)
            a->window.to_us = a->replay.last_time_us;
        if (a->window.from_us > a->window.to_us) /* --from end, or past it */
            a->window.from_us = a->window.to_us;
        if (!win_opened) /* the window starts at or after the last record: empty */
            mt_replay_window_open(&a->replay, a->window.from_us);
    }
    if (a->stopped_at_fork || a->window_stopped)
        return 0; /* read up to a fork, or to the window's end: not cut, only not read further */
    if (mt_reader_state(rd) == MT_READER_TRUNCATED) {
        a->cut = 1;
        snprintf(a->cut_reason, sizeof a->cut_reason, "%s", mt_reader_reason(rd));
    }
    /* A log without EXIT was cut too (SIGKILL, or the recorder could not finish). */
    a->truncated = a->cut || !a->replay.has_exit;
    if (a->truncated && !a->cut)
        snprintf(a->cut_reason, sizeof a->cut_reason,
                 "no exit record: the program was killed or is still running");
    if (a->truncated)
        mt_reader_describe_truncation(rd, a->truncation, sizeof a->truncation);
    return 0;
}

/* The threads a filter selected: sorted tids; NULL sel for no filter. */
typedef struct mt_tid_set {
    uint64_t *v;
    size_t n, cap;
} mt_tid_set_t;

static int mt_tid_set_add(mt_tid_set_t *s, uint64_t tid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == tid)
            return 0;
    if (MT_GROW(s->v, s->cap, s->n + 1, 8) < 0)
        return -ENOMEM;
    s->v[s->n++] = tid;
    return 0;
}

/* How a log is read: its place among the logs a report reads (inherit.h), and the threads
 * whose blocks count (--thread; NULL: all). */
typedef struct mt_load_opts {
    uint64_t stop_at_fork;
    int depth;
    int no_files;
    const mt_tid_set_t *sel;
    const mt_analysis_t *snap_like; /* mt_analysis_snapshots: its snapshot request */
    const mt_live_hooks_t *live;    /* mt_analysis_load_live */
    const mt_window_t *window;      /* NULL: the whole log */
} mt_load_opts_t;

static int mt_analysis_start(mt_analysis_t **out, mt_reader_t *rd, int followed,
                             const mt_load_opts_t *lo, mt_progress_fn progress, void *progress_arg,
                             char *err, size_t errlen)
{
    mt_analysis_t *a = calloc(1, sizeof *a);
    int rc = -ENOMEM;
    if (!a)
        goto fail;
    mt_pyinfo_init(&a->python);
    a->path = strdup(mt_reader_name(rd));
    if (!a->path || (rc = mt_modules_new(&a->modules)) < 0 || (rc = mt_nodes_init(&a->nodes)) < 0 ||
        (rc = mt_replay_init(&a->replay)) < 0)
        goto fail;
    a->followed = followed;
    if (lo) {
        a->stop_at_fork = lo->stop_at_fork;
        a->depth = lo->depth;
        a->no_files = lo->no_files;
        if (lo->sel && (rc = mt_replay_select(&a->replay, lo->sel->v, lo->sel->n)) < 0)
            goto fail;
        a->thread_filter = lo->sel != NULL;
        a->live = lo->live;
        if (lo->window && lo->window->on) {
            a->window = *lo->window;
            /* nothing before the window counts, from the first record on */
            a->replay.win_from_us = a->window.from_us;
        }
        if (lo->snap_like) {
            const mt_analysis_t *l = lo->snap_like;
            a->snap_us = l->snap_us;
            a->snap_n = l->snap_n;
            a->snap_fn = l->snap_fn;
            a->snap_arg = l->snap_arg;
            a->stop_at_fork = l->stop_at_fork;
            a->depth = l->depth;
            a->show_import_machinery = l->show_import_machinery;
            a->replay.watch = l->replay.watch;
        }
    }
    a->start_realtime_ns = mt_reader_start_realtime_ns(rd);
    a->header_pid = mt_reader_pid(rd);
    a->aggregated = (mt_reader_flags(rd) & MT_LOG_FLAG_AGGREGATED) != 0;
    rc = mt_analysis_run(a, rd, progress, progress_arg, err, errlen);
    mt_reader_close(rd);
    if (rc < 0) {
        mt_analysis_free(a);
        return rc;
    }
    *out = a;
    return 0;
fail:
    snprintf(err, errlen, "%s: %s", mt_reader_name(rd), strerror(-rc));
    mt_reader_close(rd);
    mt_analysis_free(a);
    return rc;
}

int mt_analysis_load(mt_analysis_t **out, const char *path, char *err, size_t errlen)
{
    return mt_analysis_load_progress(out, path, NULL, NULL, err, errlen);
}

int mt_analysis_load_progress(mt_analysis_t **out, const char *path, mt_progress_fn progress,
                              void *progress_arg, char *err, size_t errlen)
{
    mt_reader_t *rd;
    *out = NULL;
    int rc = mt_reader_open(&rd, path, err, errlen);
    if (rc < 0)
        return rc;
    return mt_analysis_start(out, rd, 0, NULL, progress, progress_arg, err, errlen);
}

int mt_analysis_load_upto(mt_analysis_t **out, const char *path, uint64_t fork_seq, int depth,
                          char *err, size_t errlen)
{
    mt_reader_t *rd;
    *out = NULL;
    int rc = mt_reader_open(&rd, path, err, errlen);
    if (rc < 0)
        return rc;
    mt_load_opts_t lo = {.stop_at_fork = fork_seq, .depth = depth};
    return mt_analysis_start(out, rd, 0, &lo, NULL, NULL, err, errlen);
}

int mt_analysis_snapshots(const mt_analysis_t *like, const uint64_t *times, size_t n,
                          mt_snapshot_fn fn, void *arg, char *err, size_t errlen)
{
    return mt_analysis_snapshots_watch(like, times, n, fn, arg, NULL, err, errlen);
}

int mt_analysis_snapshots_watch(const mt_analysis_t *like, const uint64_t *times, size_t n,
                                mt_snapshot_fn fn, void *arg, const mt_replay_watch_t *watch,
                                char *err, size_t errlen)
{
    mt_reader_t *rd;
    int rc = mt_reader_open(&rd, like->path, err, errlen);
    if (rc < 0)
        return rc;
    mt_analysis_t req = {.snap_us = times,
                         .snap_n = n,
                         .snap_fn = fn,
                         .snap_arg = arg,
                         .stop_at_fork = like->stop_at_fork,
                         .depth = like->depth,
                         .show_import_machinery = like->show_import_machinery,
                         .replay = {.watch = watch}};
    mt_tid_set_t sel = {.v = like->replay.sel_tids, .n = like->replay.nsel};
    mt_load_opts_t lo = {.sel = like->thread_filter ? &sel : NULL,
                         .snap_like = &req,
                         .window = like->window.on ? &like->window : NULL};
    mt_analysis_t *a;
    rc = mt_analysis_start(&a, rd, 0, &lo, NULL, NULL, err, errlen);
    if (rc == 0)
        mt_analysis_free(a);
    return rc;
}

int mt_analysis_load_live(mt_analysis_t **out, const char *path, mt_follow_fn follow,
                          void *follow_arg, const mt_live_hooks_t *hooks, char *err, size_t errlen)
{
    mt_reader_t *rd;
    int rc = mt_reader_open_light(&rd, path, follow, follow_arg, err, errlen);
    if (rc < 0)
        return rc;
    mt_load_opts_t lo = {.live = hooks};
    return mt_analysis_start(out, rd, follow != NULL, &lo, NULL, NULL, err, errlen);
}

int mt_analysis_load_follow(mt_analysis_t **out, const char *path, mt_follow_fn follow,
                            void *follow_arg, char *err, size_t errlen)
{
    mt_reader_t *rd;
    *out = NULL;
    int rc = mt_reader_open_follow(&rd, path, follow, follow_arg, err, errlen);
    if (rc < 0)
        return rc;
    return mt_analysis_start(out, rd, follow != NULL, NULL, NULL, NULL, err, errlen);
}

/* The first pass for a filter by name: every THREAD_NAME record, nothing replayed (the
 * records are decoded, which is most of the cost of reading; no table grows with events). */
static int mt_analysis_read_names(const char *path, mt_thread_names_t *names,
                                  mt_progress_fn progress, void *progress_arg, char *err,
                                  size_t errlen)
{
    mt_reader_t *rd;
    int rc = mt_reader_open(&rd, path, err, errlen);
    if (rc < 0)
        return rc;
    mt_record_t rec;
    uint32_t tick = 0;
    memset(&rec, 0, sizeof rec);
    while ((rc = mt_reader_next(rd, &rec)) > 0) {
        if (__builtin_expect(progress && ++tick == 0x10000, 0)) {
            tick = 0;
            progress(progress_arg, mt_reader_bytes_done(rd), mt_reader_size(rd));
        }
        if (rec.tag == MT_TAG_THREAD_NAME &&
            (rc = mt_tnames_set(names, rec.a, rec.str.ptr, rec.str.len)) < 0)
            break;
    }
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
    mt_reader_close(rd);
    return rc < 0 ? rc : 0;
}

/* "main 4242, loader-0 4243, ..." for an error line: the first threads by tid. */
static void mt_analysis_list_threads(const mt_thread_names_t *names, char *buf, size_t len)
{
    size_t used = 0, shown = 0;
    uint64_t last = 0;
    buf[0] = '\0';
    /* ascending tid without sorting: the smallest tid above the last one shown, a few times */
    for (; shown < 8 && used < len; shown++) {
        const mt_tname_t *best = NULL;
        for (size_t i = 0; names->v && i <= names->mask; i++) {
            const mt_tname_t *t = &names->v[i];
            if (t->name && (shown == 0 || t->tid > last) && (!best || t->tid < best->tid))
                best = t;
        }
        if (!best)
            break;
        int k = snprintf(buf + used, len - used, "%s%.40s %llu", shown ? ", " : "", best->name,
                         (unsigned long long)best->tid);
        if (k < 0)
            break;
        used += (size_t)k;
        last = best->tid;
    }
    if (shown == 8 && names->n > 8 && used < len)
        snprintf(buf + used, len - used, ", ...");
}

int mt_analysis_load_filtered(mt_analysis_t **out, const char *path,
                              const mt_thread_filter_t *filter, mt_progress_fn progress,
                              void *progress_arg, char *err, size_t errlen)
{
    return mt_analysis_load_window(out, path, filter, NULL, progress, progress_arg, err, errlen);
}

int mt_analysis_load_window(mt_analysis_t **out, const char *path, const mt_thread_filter_t *filter,
                            const mt_window_t *window, mt_progress_fn progress, void *progress_arg,
                            char *err, size_t errlen)
{
    *out = NULL;
    if (!filter || filter->n == 0) {
        if (!window || !window->on)
            return mt_analysis_load_progress(out, path, progress, progress_arg, err, errlen);
        mt_reader_t *rd;
        int rc = mt_reader_open(&rd, path, err, errlen);
        if (rc < 0)
            return rc;
        mt_load_opts_t lo = {.window = window};
        return mt_analysis_start(out, rd, 0, &lo, progress, progress_arg, err, errlen);
    }
    mt_thread_names_t names = {0};
    mt_tid_set_t sel = {0};
    size_t matched = 0;
    int rc = 0, by_name = 0;
    uint64_t tid;
    for (size_t i = 0; i < filter->n; i++)
        by_name |= !mt_tnames_is_tid(filter->specs[i], &tid);
    if (by_name &&
        (rc = mt_analysis_read_names(path, &names, progress, progress_arg, err, errlen)) < 0)
        goto out;
    for (size_t i = 0; i < filter->n && rc == 0; i++) {
        const char *spec = filter->specs[i];
        if (mt_tnames_is_tid(spec, &tid)) {
            rc = mt_tid_set_add(&sel, tid); /* checked against the log after the pass */
            continue;
        }
        size_t found = 0;
        for (size_t k = 0; names.v && k <= names.mask && rc == 0; k++)
            if (names.v[k].name && strcmp(names.v[k].name, spec) == 0) {
                rc = mt_tid_set_add(&sel, names.v[k].tid);
                found++;
            }
        if (found) {
            matched++;
        } else if (!filter->allow_missing && rc == 0) {
            char list[512];
            mt_analysis_list_threads(&names, list, sizeof list);
            snprintf(err, errlen, "%s: no thread named '%.100s' (threads: %s)", path, spec,
                     list[0] ? list : "none named");
            rc = -ENOENT;
        }
    }
    if (rc == -ENOMEM)
        snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
    if (rc < 0)
        goto out;
    mt_reader_t *rd;
    if ((rc = mt_reader_open(&rd, path, err, errlen)) < 0)
        goto out;
    mt_load_opts_t lo = {.sel = &sel, .window = window};
    if ((rc = mt_analysis_start(out, rd, 0, &lo, progress, progress_arg, err, errlen)) < 0)
        goto out;
    /* A thread id counts when the log has the thread: a name, or an event of its own. */
    mt_analysis_t *a = *out;
    for (size_t i = 0; i < filter->n; i++) {
        if (!mt_tnames_is_tid(filter->specs[i], &tid))
            continue;
        if (mt_analysis_thread_known(a, filter->specs[i])) {
            matched++;
        } else if (!filter->allow_missing) {
            snprintf(err, errlen, "%s: no thread with id %llu", path, (unsigned long long)tid);
            mt_analysis_free(a);
            *out = NULL;
            rc = -ENOENT;
            goto out;
        }
    }
    a->thread_specs_matched = matched;
out:
    mt_tnames_destroy(&names);
    free(sel.v);
    return rc;
}

void mt_analysis_thread_label(const mt_analysis_t *a, uint64_t tid, char *buf, size_t len)
{
    const char *name = mt_tnames_get(&a->thread_names, tid);
    if (name)
        snprintf(buf, len, "%s", name);
    else if (tid == 0)
        snprintf(buf, len, "(inherited)");
    else
        snprintf(buf, len, "tid %llu", (unsigned long long)tid);
}

int mt_analysis_thread_known(const mt_analysis_t *a, const char *spec)
{
    uint64_t tid;
    if (mt_tnames_is_tid(spec, &tid)) {
        if (mt_tnames_get(&a->thread_names, tid))
            return 1;
        for (uint32_t k = 0; k < a->replay.ntstats; k++)
            if (a->replay.tstats[k].tid == tid)
                return 1;
        return 0;
    }
    const mt_thread_names_t *t = &a->thread_names;
    for (size_t k = 0; t->v && k <= t->mask; k++)
        if (t->v[k].name && strcmp(t->v[k].name, spec) == 0)
            return 1;
    return 0;
}

void mt_analysis_thread_held(const mt_analysis_t *a, const mt_thread_stats_t *ts, uint64_t *bytes,
                             uint64_t *blocks)
{
    int end = a->python.script_end && a->replay.threads_end_marked;
    *bytes = end ? ts->end_bytes : ts->live_bytes;
    *blocks = end ? ts->end_blocks : ts->live_blocks;
}

int mt_analysis_load_mem(mt_analysis_t **out, const void *buf, size_t len, const char *name,
                         char *err, size_t errlen)
{
    mt_reader_t *rd;
    *out = NULL;
    int rc = mt_reader_open_mem(&rd, buf, len, name, err, errlen);
    if (rc < 0)
        return rc;
    /* A buffer (a test, the fuzzer) names no file that could be opened. */
    mt_load_opts_t lo = {.no_files = 1};
    return mt_analysis_start(out, rd, 0, &lo, NULL, NULL, err, errlen);
}

int mt_analysis_load_mem_window(mt_analysis_t **out, const void *buf, size_t len, const char *name,
                                const mt_window_t *window, char *err, size_t errlen)
{
    mt_reader_t *rd;
    *out = NULL;
    int rc = mt_reader_open_mem(&rd, buf, len, name, err, errlen);
    if (rc < 0)
        return rc;
    mt_load_opts_t lo = {.no_files = 1, .window = window};
    return mt_analysis_start(out, rd, 0, &lo, NULL, NULL, err, errlen);
}

void mt_analysis_free(mt_analysis_t *a)
{
    if (!a)
        return;
    mt_process_clear(&a->process);
    mt_lineage_clear(&a->lineage);
    free(a->inherit_log);
    mt_modules_free(a->modules);
    mt_nodes_destroy(&a->nodes);
    mt_replay_destroy(&a->replay);
    mt_tnames_destroy(&a->thread_names);
    mt_leakclass_destroy(&a->leaks);
    mt_pyinfo_destroy(&a->python);
    mt_marks_free(&a->marks);
    free(a->path);
    free(a);
}

char *mt_analysis_command(const mt_analysis_t *a)
{
    size_t n = 1;
    for (size_t i = 0; i < a->process.argc; i++)
        n += strlen(a->process.argv[i]) + 1;
    char *s = malloc(n), *p = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < a->process.argc; i++) {
        size_t l = strlen(a->process.argv[i]);
        if (i)
            *p++ = ' ';
        memcpy(p, a->process.argv[i], l);
        p += l;
    }
    *p = '\0';
    return s;
}

mt_held_t mt_analysis_held(const mt_analysis_t *a)
{
    if (a->python.script_end)
        return (mt_held_t){a->python.end_heap_bytes, a->python.end_heap_blocks, 1};
    return (mt_held_t){a->replay.heap_bytes, a->replay.heap_blocks, 0};
}

void mt_analysis_node_held(const mt_analysis_t *a, uint32_t node, uint64_t *bytes, uint64_t *blocks)
{
    if (a->python.script_end) {
        int known = node < a->python.nend;
        *bytes = known ? a->python.end_bytes[node] : 0;
        *blocks = known ? a->python.end_blocks[node] : 0;
        return;
    }
    mt_node_stats_t st = mt_replay_node(&a->replay, node);
    *bytes = st.live_bytes;
    *blocks = st.live_blocks;
}

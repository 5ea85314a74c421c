// SPDX-License-Identifier: MIT
// `memtrace logstats` (log_stats.h): the reader counts, this file names them and
// render_logstats.c prints them. Tags
// that carry the allocation function in their low nibble (ALLOC and its three forms) are
// counted per form, the function folded.
#include "log_stats.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int mt_logstats_load(mt_logstats_report_t *rep, const char *path, char *err, size_t errlen)
{
    memset(rep, 0, sizeof *rep);
    mt_reader_t *r;
    int rc = mt_reader_open_stats(&r, path, &rep->st, err, errlen);
    if (rc < 0)
        return rc;
    mt_record_t rec;
    while ((rc = mt_reader_next(r, &rec)) > 0)
        ;
    rep->events = mt_reader_events(r);
    rep->truncated = mt_reader_state(r) == MT_READER_TRUNCATED;
    snprintf(rep->reason, sizeof rep->reason, "%s", mt_reader_reason(r));
    mt_reader_close(r); /* joins the prefetch thread: its counts are complete now */
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    struct stat sb;
    rep->file_bytes = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    return 0;
}

static const char *const mt_logstats_streams[MT_STREAMS] = {
    [MT_STREAM_MAIN] = "main",     [MT_STREAM_SIZE] = "size", [MT_STREAM_ADDR] = "address",
    [MT_STREAM_NODE] = "node",     [MT_STREAM_BACK] = "back", [MT_STREAM_TIME] = "time",
    [MT_STREAM_PARENT] = "parent", [MT_STREAM_IP] = "ip",     [MT_STREAM_RUN] = "run",
};

const char *mt_logstats_stream_name(int k)
{
    return k >= 0 && k < MT_STREAMS ? mt_logstats_streams[k] : NULL;
}

const char *mt_logstats_tag_name(unsigned tag)
{
    switch (tag & 0xf0) {
    case MT_TAG_ALLOC:
        return "alloc";
    case MT_TAG_ALLOC_REUSE:
        return "alloc_reuse";
    case MT_TAG_ALLOC_NEXT:
        return "alloc_next";
    case MT_TAG_ALLOC_REUSE_AT:
        return "alloc_reuse_at";
    case MT_TAG_ALLOC_PREV:
        return "alloc_prev";
    default:
        break;
    }
    switch (tag) {
    case MT_TAG_PROCESS:
        return "process";
    case MT_TAG_MODULE_LOAD:
        return "module_load";
    case MT_TAG_MODULE_UNLOAD:
        return "module_unload";
    case MT_TAG_THREAD:
        return "thread";
    case MT_TAG_TRACE_NODE:
        return "trace_node";
    case MT_TAG_THREAD_NAME:
        return "thread_name";
    case MT_TAG_TRACE_NODE_AT:
        return "trace_node_at";
    case MT_TAG_TRACE_NODE_IP:
        return "trace_node_ip";
    case MT_TAG_FREE:
        return "free";
    case MT_TAG_REALLOC_RELEASE:
        return "realloc_release";
    case MT_TAG_REALLOC_FAILED:
        return "realloc_failed";
    case MT_TAG_CUSTOM_FREE:
        return "custom_free";
    case MT_TAG_FREE_BACK:
        return "free_back";
    case MT_TAG_REALLOC_RELEASE_BACK:
        return "realloc_release_back";
    case MT_TAG_FREE_RUN:
        return "free_run";
    case MT_TAG_REPEAT:
        return "repeat";
    case MT_TAG_MMAP:
        return "mmap";
    case MT_TAG_MUNMAP:
        return "munmap";
    case MT_TAG_SAMPLE:
        return "sample";
    case MT_TAG_EXIT:
        return "exit";
    case MT_TAG_NOTICE:
        return "notice";
    case MT_TAG_FORK:
        return "fork";
    case MT_TAG_AGG_HEAP:
        return "agg_heap";
    case MT_TAG_AGG_SITE:
        return "agg_site";
    case MT_TAG_AGG_LIVE:
        return "agg_live";
    case MT_TAG_ORIGIN:
        return "origin";
    case MT_TAG_NEXT_LOG:
        return "next_log";
    case MT_TAG_LEAK_SCAN:
        return "leak_scan";
    case MT_TAG_LEAK_BLOCK:
        return "leak_block";
    case MT_TAG_LEAK_SCAN_END:
        return "leak_scan_end";
    case MT_TAG_PY_INTERP:
        return "py_interp";
    case MT_TAG_PY_CODE:
        return "py_code";
    case MT_TAG_PY_LOCATION:
        return "py_location";
    case MT_TAG_PY_SCRIPT_END:
        return "py_script_end";
    case MT_TAG_PY_ARENA_ALLOC:
        return "py_arena_alloc";
    case MT_TAG_PY_ARENA_FREE:
        return "py_arena_free";
    default:
        return NULL;
    }
}

// SPDX-License-Identifier: MIT
// `memtrace logstats` (log_stats.h): the reader counts, this file names and prints them. Tags
// that carry the allocation function in their low nibble (ALLOC and its three forms) are
// counted per form, the function folded.
#include "log_stats.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fmt.h"
#include "json_writer.h"

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
    case MT_TAG_FREE_BACK:
        return "free_back";
    case MT_TAG_REALLOC_RELEASE_BACK:
        return "realloc_release_back";
    case MT_TAG_FREE_RUN:
        return "free_run";
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

/* Per record type, the allocation forms' 16 tags folded: records and raw bytes. */
typedef struct mt_logstats_row {
    const char *name;
    uint64_t records, bytes;
} mt_logstats_row_t;

static size_t mt_logstats_rows(const mt_logstats_report_t *rep, mt_logstats_row_t *rows)
{
    size_t n = 0;
    for (unsigned tag = 0; tag < 256; tag++) {
        if (!rep->st.tag_records[tag] && !rep->st.tag_bytes[tag])
            continue;
        const char *name = mt_logstats_tag_name(tag);
        size_t i = 0;
        while (i < n && strcmp(rows[i].name, name ? name : "?") != 0)
            i++;
        if (i == n)
            rows[n++] = (mt_logstats_row_t){name ? name : "?", 0, 0};
        rows[i].records += rep->st.tag_records[tag];
        rows[i].bytes += rep->st.tag_bytes[tag];
    }
    /* largest first */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && rows[j].bytes > rows[j - 1].bytes; j--) {
            mt_logstats_row_t t = rows[j];
            rows[j] = rows[j - 1];
            rows[j - 1] = t;
        }
    return n;
}

static double mt_logstats_pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

int mt_logstats_render_text(const mt_logstats_report_t *rep, FILE *out)
{
    const mt_log_stats_t *st = &rep->st;
    char b1[32], b2[32], b3[32], b4[32];
    fprintf(
        out, "%s in %s chunks, %s raw, %s events%s\n",
        mt_fmt_bytes_exact(b1, sizeof b1, rep->file_bytes), mt_fmt_count(b2, sizeof b2, st->chunks),
        mt_fmt_bytes_exact(b3, sizeof b3, st->raw_bytes), mt_fmt_count(b4, sizeof b4, rep->events),
        rep->truncated ? " (cut: the counts cover what could be read)" : "");
    fprintf(out, "\nstream     compressed     %%          raw\n");
    uint64_t comp = st->compressed_bytes;
    for (int k = 0; k < MT_STREAMS; k++)
        fprintf(out, "%-8s %12llu %5.1f%% %12llu\n", mt_logstats_streams[k],
                (unsigned long long)st->stream_compressed[k],
                mt_logstats_pct(st->stream_compressed[k], comp),
                (unsigned long long)st->stream_raw[k]);
    fprintf(out, "%-8s %12llu        %12llu\n", "headers",
            (unsigned long long)(MT_LOG_HEADER_SIZE + st->chunk_header_bytes),
            (unsigned long long)st->raw_header_bytes);
    mt_logstats_row_t rows[256];
    size_t n = mt_logstats_rows(rep, rows);
    fprintf(out, "\nrecord                    records      raw bytes      %%  bytes/record\n");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%-22s %12llu %14llu %5.1f%% %10.2f\n", rows[i].name,
                (unsigned long long)rows[i].records, (unsigned long long)rows[i].bytes,
                mt_logstats_pct(rows[i].bytes, st->raw_bytes),
                rows[i].records ? (double)rows[i].bytes / (double)rows[i].records : 0.0);
    fprintf(out, "%-22s %12s %14llu %5.1f%%\n", "(clock pairs)", "",
            (unsigned long long)st->stream_raw[MT_STREAM_TIME],
            mt_logstats_pct(st->stream_raw[MT_STREAM_TIME], st->raw_bytes));
    return ferror(out) ? -EIO : 0;
}

int mt_logstats_render_json(const mt_logstats_report_t *rep, FILE *out)
{
    const mt_log_stats_t *st = &rep->st;
    mt_json_t j;
    mt_json_init(&j, out, 1);
    mt_json_object_begin(&j);
    mt_json_key(&j, "format");
    mt_json_string(&j, "memtrace-logstats");
    mt_json_key(&j, "schema_version");
    mt_json_u64(&j, 1);
    mt_json_key(&j, "log_version");
    mt_json_u64(&j, MT_LOG_VERSION);
    mt_json_key(&j, "file_bytes");
    mt_json_u64(&j, rep->file_bytes);
    mt_json_key(&j, "chunks");
    mt_json_u64(&j, st->chunks);
    mt_json_key(&j, "compressed_bytes");
    mt_json_u64(&j, st->compressed_bytes);
    mt_json_key(&j, "raw_bytes");
    mt_json_u64(&j, st->raw_bytes);
    mt_json_key(&j, "events");
    mt_json_u64(&j, rep->events);
    mt_json_key(&j, "truncated");
    mt_json_bool(&j, rep->truncated);
    mt_json_key(&j, "streams");
    mt_json_object_begin(&j);
    for (int k = 0; k < MT_STREAMS; k++) {
        mt_json_key(&j, mt_logstats_streams[k]);
        mt_json_object_begin(&j);
        mt_json_key(&j, "compressed_bytes");
        mt_json_u64(&j, st->stream_compressed[k]);
        mt_json_key(&j, "raw_bytes");
        mt_json_u64(&j, st->stream_raw[k]);
        mt_json_object_end(&j);
    }
    mt_json_object_end(&j);
    mt_json_key(&j, "records");
    mt_json_object_begin(&j);
    mt_logstats_row_t rows[256];
    size_t n = mt_logstats_rows(rep, rows);
    for (size_t i = 0; i < n; i++) {
        mt_json_key(&j, rows[i].name);
        mt_json_object_begin(&j);
        mt_json_key(&j, "count");
        mt_json_u64(&j, rows[i].records);
        mt_json_key(&j, "raw_bytes");
        mt_json_u64(&j, rows[i].bytes);
        mt_json_object_end(&j);
    }
    mt_json_object_end(&j);
    mt_json_object_end(&j);
    return mt_json_finish(&j);
}

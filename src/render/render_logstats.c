// SPDX-License-Identifier: MIT
// `memtrace logstats` as text and JSON (render_logstats.h): the rows of a built
// mt_logstats_report_t, allocation forms folded per record type.
#include "render_logstats.h"

#include <errno.h>
#include <string.h>

#include "fmt.h"
#include "json_writer.h"

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
        fprintf(out, "%-8s %12llu %5.1f%% %12llu\n", mt_logstats_stream_name(k),
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
    mt_json_document_begin(&j, out, 1, "memtrace-logstats", NULL);
    mt_json_key_u64(&j, "log_version", st->version);
    mt_json_key_u64(&j, "file_bytes", rep->file_bytes);
    mt_json_key_u64(&j, "chunks", st->chunks);
    mt_json_key_u64(&j, "compressed_bytes", st->compressed_bytes);
    mt_json_key_u64(&j, "raw_bytes", st->raw_bytes);
    mt_json_key_u64(&j, "events", rep->events);
    mt_json_key_bool(&j, "truncated", rep->truncated);
    mt_json_key(&j, "streams");
    mt_json_object_begin(&j);
    for (int k = 0; k < MT_STREAMS; k++) {
        mt_json_key(&j, mt_logstats_stream_name(k));
        mt_json_object_begin(&j);
        mt_json_key_u64(&j, "compressed_bytes", st->stream_compressed[k]);
        mt_json_key_u64(&j, "raw_bytes", st->stream_raw[k]);
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
        mt_json_key_u64(&j, "count", rows[i].records);
        mt_json_key_u64(&j, "raw_bytes", rows[i].bytes);
        mt_json_object_end(&j);
    }
    mt_json_object_end(&j);
    mt_json_object_end(&j);
    return mt_json_finish(&j);
}

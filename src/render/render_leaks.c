// SPDX-License-Identifier: MIT
// Leak report renderers (see render_leaks.h). Text follows valgrind's wording so people and
// scripts used to memcheck read it at once; JSON keys are a public schema; SARIF and JUnit
// follow their specifications closely enough for GitHub code scanning and CI test tabs.
#include "render_leaks.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "json_writer.h"
#include "mt_config.h"
#include "frame_filter.h"
#include "names.h"
#include "render_stack.h"
#include "render_threads.h"
#include "text_escape.h"

#define MT_SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"
#define MT_INFO_URI "https://github.com/memtrace/memtrace"
#define MT_SUPP_MAX_FRAMES 24 /* valgrind's VG_MAX_SUPP_CALLERS */

static const char *const mt_lost_phrase[MT_LEAKS_NKINDS] = {
    "definitely lost", "indirectly lost", "possibly lost", "still reachable", "not freed at exit"};

static const char *mt_basename(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static const mt_module_t *mt_frame_module(const mt_leaks_t *l, const mt_frame_t *f)
{
    return mt_modules_get(l->a->modules, f->module);
}

static size_t mt_listed_count(const mt_leaks_t *l)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += (size_t)mt_leaks_listed(l, &l->v[i]);
    return n;
}

/* "192 (96 direct, 96 indirect) bytes in 1 blocks are definitely lost" */
static void mt_leak_headline(char *buf, size_t len, const mt_leak_t *k, int python_end)
{
    char t[32], d[32], in[32], b[32];
    mt_fmt_count(b, sizeof b, k->blocks);
    if (k->kind == MT_LEAKS_DEFINITE && k->indirect_bytes)
        snprintf(buf, len, "%s (%s direct, %s indirect) bytes in %s blocks are %s",
                 mt_fmt_count(t, sizeof t, mt_leak_total_bytes(k)),
                 mt_fmt_count(d, sizeof d, k->bytes),
                 mt_fmt_count(in, sizeof in, k->indirect_bytes), b, mt_lost_phrase[k->kind]);
    else if (k->kind == MT_LEAKS_UNCLASSIFIED)
        snprintf(buf, len, "%s bytes in %s blocks are not freed %s",
                 mt_fmt_count(t, sizeof t, k->bytes), b,
                 python_end ? "at the end of the script" : "at exit");
    else if (k->kind == MT_LEAKS_REACHABLE && python_end)
        snprintf(buf, len, "%s bytes in %s blocks are still reachable (a library's or an import's)",
                 mt_fmt_count(t, sizeof t, k->bytes), b);
    else
        snprintf(buf, len, "%s bytes in %s blocks are %s", mt_fmt_count(t, sizeof t, k->bytes), b,
                 mt_lost_phrase[k->kind]);
}

/* ---- text ---- */

static void mt_text_total(FILE *o, const char *label, uint64_t bytes, uint64_t blocks)
{
    char b[32], c[32];
    fprintf(o, "  %18s: %s bytes in %s blocks\n", label, mt_fmt_count(b, sizeof b, bytes),
            mt_fmt_count(c, sizeof c, blocks));
}

int mt_render_leaks_text(const mt_leaks_t *l, FILE *o, const mt_leaks_render_opts_t *opt)
{
    const mt_analysis_t *a = l->a;
    const mt_leakclass_t *c = &a->leaks;
    const char *head = opt->colour ? "\033[1;4m" : "", *warn = opt->colour ? "\033[1;33m" : "",
               *bold = opt->colour ? "\033[1m" : "", *rst = opt->colour ? "\033[0m" : "";
    char line[256], t1[32];

    fprintf(o, "%smemtrace leaks%s ", head, rst);
    mt_text_put(o, a->path);
    fprintf(o, "\n  %-18s ", "command");
    mt_text_put(o, l->command[0] ? l->command : "(unknown)"); /* the program's argv */
    fputc('\n', o);
    mt_render_thread_filter_text(o, a, 18);
    if (l->classified) {
        fprintf(o, "  %-18s at %s, %" PRIu64 " other thread%s held still", "leak check",
                mt_fmt_clock(t1, sizeof t1, c->scan_time_us), c->threads_stopped,
                c->threads_stopped == 1 ? "" : "s");
        if (c->threads_missed)
            fprintf(o, ", %s%" PRIu64 " ran on (scanned as found, without registers)%s", warn,
                    c->threads_missed, rst);
        fputc('\n', o);
    } else if (l->python_end) {
        fprintf(o,
                "  %-18s Python script: blocks still allocated when the script ended (before\n"
                "  %-18s interpreter finalization) by a line of its own code are not freed at\n"
                "  %-18s the end of the script, caches kept on purpose included; those of the\n"
                "  %-18s standard library, site-packages and imports are still reachable\n",
                "leaks", "", "", "");
        if (a->python.flags & MT_PY_FRAMES)
            fprintf(o,
                    "  %-18s %s bytes in %" PRIu64 " blocks held by the interpreter itself (no "
                    "Python frame), not listed\n",
                    "", mt_fmt_count(t1, sizeof t1, l->interp_bytes), l->interp_blocks);
        else
            fprintf(o, "  %-18s native stacks only: Python %u.%u frames are not supported\n", "",
                    a->python.major, a->python.minor);
        if (c->complete) {
            char t2[32], t3[32];
            fprintf(o,
                    "  %-18s after finalization: %s bytes definitely, %s possibly lost, %s still "
                    "reachable\n"
                    "  %-18s (the view of valgrind: memtrace leaks --after-finalization)\n",
                    "leak scan", mt_fmt_count(t1, sizeof t1, c->bytes[MT_LEAKS_DEFINITE]),
                    mt_fmt_count(t2, sizeof t2, c->bytes[MT_LEAKS_POSSIBLE]),
                    mt_fmt_count(t3, sizeof t3, c->bytes[MT_LEAKS_REACHABLE]), "");
        }
    } else if (a->window_stopped) {
        fprintf(o,
                "  %-18s not in the window: it ends before the program did, so the blocks\n"
                "  %-18s allocated in it and still held at its end are listed, unclassified\n",
                "leak check", "");
    } else if (a->lineage.how == MT_ORIGIN_ATTACH) {
        fprintf(o,
                "  %-18s not possible: memtrace attach recorded part of the process's life, so\n"
                "  %-18s the blocks listed are those allocated while attached and still held\n"
                "  %-18s when it stopped (not freed at exit means: not freed by then)\n",
                "leak check", "", "");
    } else {
        if (a->python.present && a->aggregated)
            fprintf(o,
                    "  %-18s an aggregated log has no heap at the end of the script: the\n"
                    "  %-18s blocks not freed at exit (after finalization) are listed\n",
                    "python", "");
        else if (a->python.present)
            fprintf(o,
                    "  %-18s %sno end-of-script marker%s (the script did not finish normally):\n"
                    "  %-18s blocks not freed when the log ends are listed\n",
                    "python", warn, rst, "");
        fprintf(o,
                "  %-18s %snot run%s: the log has no leak scan (record with 'memtrace run "
                "--leak-check'),\n"
                "  %-18s so blocks are not classified: every block not freed at exit is listed,\n"
                "  %-18s including memory still reachable from globals and caches\n",
                "leak check", warn, rst, "", "");
    }

    size_t total = mt_listed_count(l), no = 0;
    for (size_t i = 0; i < l->n; i++) {
        const mt_leak_t *k = &l->v[i];
        if (!mt_leaks_listed(l, k))
            continue;
        mt_leak_headline(line, sizeof line, k, l->python_end);
        fprintf(o, "\n%s%s%s in loss record %zu of %zu\n", bold, line, rst, ++no, total);
        mt_render_frames_text(o, opt->colour, l->a->modules, k->frames, k->nframes, opt->max_frames,
                              "    ");
    }
    if (total == 0)
        fprintf(o, "\n  no leaks of the kinds shown\n");

    fprintf(o, "\n%sLEAK SUMMARY%s\n", head, rst);
    if (l->classified) {
        for (unsigned k = 0; k < MT_LEAKS_UNCLASSIFIED; k++)
            mt_text_total(o, mt_lost_phrase[k], l->bytes[k], l->blocks[k]);
    } else if (l->python_end) {
        mt_text_total(o, "held at script end", l->bytes[MT_LEAKS_UNCLASSIFIED],
                      l->blocks[MT_LEAKS_UNCLASSIFIED]);
        mt_text_total(o, mt_lost_phrase[MT_LEAKS_REACHABLE], l->bytes[MT_LEAKS_REACHABLE],
                      l->blocks[MT_LEAKS_REACHABLE]);
    } else {
        mt_text_total(o, mt_lost_phrase[MT_LEAKS_UNCLASSIFIED], l->bytes[MT_LEAKS_UNCLASSIFIED],
                      l->blocks[MT_LEAKS_UNCLASSIFIED]);
    }
    mt_text_total(o, "suppressed", l->suppressed_bytes, l->suppressed_blocks);

    if (l->supps && l->supps->n) {
        fprintf(o, "\n%ssuppressions used%s\n", head, rst);
        size_t used = 0;
        for (size_t i = 0; i < l->supps->n; i++) {
            const mt_supp_t *s = &l->supps->v[i];
            if (!s->matched_leaks)
                continue;
            used++;
            char b[32];
            fprintf(o, "  %6" PRIu64 " leak%s %10s bytes  ", s->matched_leaks,
                    s->matched_leaks == 1 ? " " : "s", mt_fmt_count(b, sizeof b, s->matched_bytes));
            mt_text_put(o, s->name);
            fputs("  (", o);
            mt_text_put(o, s->file);
            fprintf(o, ":%u)\n", s->line);
        }
        if (!used)
            fprintf(o, "  (none matched)\n");
    }
    if (c->inconsistencies)
        fprintf(o,
                "\n%swarning:%s %" PRIu64 " leak-scan records disagree with the log (a block "
                "not live, listed twice, or a wrong count); those blocks count as reachable\n",
                warn, rst, c->inconsistencies);
    size_t nw = mt_symbolizer_warning_count(l->sym);
    for (size_t i = 0; i < nw; i++) {
        fprintf(o, "%snote:%s ", warn, rst);
        mt_text_put(o, mt_symbolizer_warning(l->sym, i));
        fputc('\n', o);
    }
    /* Some allocations bypassed the hooks (a C++ new from tcmalloc): no leak of theirs can be
     * listed here, and the leaks report is the one CI reads. */
    if (a->allocator_notice[0])
        mt_render_text_warning(o, warn, rst, a->allocator_notice, NULL);
    if (a->truncated)
        mt_render_text_warning(o, warn, rst, a->truncation, a->cut_reason);
    return ferror(o) ? -EIO : 0;
}

/* ---- JSON ---- */

static void mt_json_bb(mt_json_t *j, const char *key, uint64_t bytes, uint64_t blocks)
{
    mt_json_key(j, key);
    mt_json_object_begin(j);
    mt_json_key_u64(j, "bytes", bytes);
    mt_json_key_u64(j, "blocks", blocks);
    mt_json_object_end(j);
}

int mt_render_leaks_json(const mt_leaks_t *l, FILE *out, int pretty)
{
    const mt_analysis_t *a = l->a;
    const mt_leakclass_t *c = &a->leaks;
    mt_json_t j;
    mt_json_document_begin(&j, out, pretty, "memtrace-leaks", a->path);
    mt_json_key_string(&j, "command", l->command);
    mt_render_thread_filter_json(&j, a);
    mt_json_key_bool(&j, "classified", l->classified);
    mt_json_key(&j, "python_script_end");
    if (l->python_end) {
        mt_json_object_begin(&j);
        mt_json_key_double(&j, "time_s", (double)a->python.script_end_us / 1e6);
        mt_json_bb(&j, "interpreter", l->interp_bytes, l->interp_blocks);
        /* the scan after finalization, when the log has one: not the verdict here */
        mt_json_key(&j, "scan_after_finalization");
        if (c->complete) {
            mt_json_object_begin(&j);
            for (unsigned k = 0; k < MT_LEAKS_UNCLASSIFIED; k++)
                mt_json_bb(&j, mt_leakclass_kind_name(k), c->bytes[k], c->blocks[k]);
            mt_json_object_end(&j);
        } else {
            mt_json_null(&j);
        }
        mt_json_object_end(&j);
    } else {
        mt_json_null(&j);
    }
    mt_json_key(&j, "scan");
    if (l->classified) {
        mt_json_object_begin(&j);
        mt_json_key_double(&j, "time_s", (double)c->scan_time_us / 1e6);
        mt_json_key_u64(&j, "threads_stopped", c->threads_stopped);
        mt_json_key_u64(&j, "threads_missed", c->threads_missed);
        mt_json_key_u64(&j, "inconsistencies", c->inconsistencies);
        mt_json_object_end(&j);
    } else {
        mt_json_null(&j);
    }
    mt_json_key(&j, "totals");
    mt_json_object_begin(&j);
    for (unsigned k = 0; k < MT_LEAKS_UNCLASSIFIED; k++) {
        /* at the end of a Python script, the libraries' and imports' blocks are reachable */
        if (l->classified || (l->python_end && k == MT_LEAKS_REACHABLE)) {
            mt_json_bb(&j, mt_leakclass_kind_name(k), l->bytes[k], l->blocks[k]);
        } else {
            mt_json_key(&j, mt_leakclass_kind_name(k));
            mt_json_null(&j); /* unknown, not zero */
        }
    }
    if (!l->classified)
        mt_json_bb(&j, "unclassified", l->bytes[MT_LEAKS_UNCLASSIFIED],
                   l->blocks[MT_LEAKS_UNCLASSIFIED]);
    mt_json_object_end(&j);
    mt_json_key(&j, "leaks");
    mt_json_array_begin(&j);
    for (size_t i = 0; i < l->n; i++) {
        const mt_leak_t *k = &l->v[i];
        if (!mt_leaks_listed(l, k))
            continue;
        mt_json_object_begin(&j);
        mt_json_key_string(&j, "kind", mt_leakclass_kind_name(k->kind));
        mt_json_key_u64(&j, "bytes", k->bytes);
        mt_json_key_u64(&j, "blocks", k->blocks);
        mt_json_key_u64(&j, "indirect_bytes", k->indirect_bytes);
        mt_json_key(&j, "stack");
        mt_render_frames_json(&j, l->a->modules, k->frames, k->nframes);
        mt_json_object_end(&j);
    }
    mt_json_array_end(&j);
    mt_json_bb(&j, "suppressed", l->suppressed_bytes, l->suppressed_blocks);
    mt_json_key(&j, "suppressions");
    mt_json_array_begin(&j);
    for (size_t i = 0; l->supps && i < l->supps->n; i++) {
        const mt_supp_t *s = &l->supps->v[i];
        mt_json_object_begin(&j);
        mt_json_key_string(&j, "name", s->name);
        mt_json_key_string(&j, "file", s->file);
        mt_json_key_u64(&j, "line", s->line);
        mt_json_key_u64(&j, "matched_leaks", s->matched_leaks);
        mt_json_key_u64(&j, "matched_bytes", s->matched_bytes);
        mt_json_key_u64(&j, "matched_blocks", s->matched_blocks);
        mt_json_object_end(&j);
    }
    mt_json_array_end(&j);
    mt_render_log_notes_json(&j, a);
    mt_json_key(&j, "warnings");
    mt_json_array_begin(&j);
    for (size_t i = 0; i < mt_symbolizer_warning_count(l->sym); i++)
        mt_json_string(&j, mt_symbolizer_warning(l->sym, i));
    mt_json_array_end(&j);
    mt_json_object_end(&j);
    return mt_json_finish(&j);
}

/* ---- SARIF ---- */

long mt_render_leaks_user_frame(const mt_leaks_t *l, const mt_leak_t *k)
{
    return mt_filter_first_user(k->frames, k->nframes, l->a->modules);
}

static const char *const mt_rule_ids[MT_LEAKS_NKINDS] = {
    "memtrace/definite-leak", "memtrace/indirect-leak", "memtrace/possible-leak",
    "memtrace/reachable-at-exit", "memtrace/not-freed-at-exit"};

static const char *const mt_rule_text[MT_LEAKS_NKINDS] = {
    "Memory definitely lost: no pointer to the block remains",
    "Memory indirectly lost: reachable only from lost blocks",
    "Memory possibly lost: only a pointer into the middle of the block remains",
    "Memory still reachable at exit",
    "Memory not freed at exit (recorded without --leak-check: not classified)"};

/* DWARF names a file relative to the directory it was compiled in ("../src/app.c" from a meson
 * build dir), which code-scanning UIs cannot place. Find a tail of the path that exists under
 * the source root ("src/app.c"); NULL when none does. The only file-system access
 * of the renderers, and only for SARIF, whose whole point is an exact source location. */
static const char *mt_sarif_find_under(const mt_leaks_render_opts_t *o, const char *file)
{
    if (!o->source_root || !o->source_root[0])
        return NULL;
    /* The longest tail wins: "main/src/app.c" before "src/app.c", the first that exists. */
    for (const char *p = file; p && *p; p = strchr(p, '/'), p = p ? p + 1 : NULL) {
        if (strncmp(p, "../", 3) == 0 || strncmp(p, "./", 2) == 0)
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", o->source_root, p);
        if (access(path, F_OK) == 0)
            return p;
    }
    return NULL;
}

/* s percent-encoded as a URI path (RFC 3986: unreserved characters and '/' kept). */
static void mt_sarif_uri_path(char *dst, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("/-._~", c)) {
            dst[n++] = (char)c;
        } else {
            dst[n++] = '%';
            dst[n++] = hex[c >> 4];
            dst[n++] = hex[c & 15];
        }
    }
    dst[n] = '\0';
}

/* GitHub code scanning places a location by a path relative to the repository (uriBaseId
 * %SRCROOT%, the source root); a file outside it gets an absolute file: URI, and a relative
 * name that is not under the root (a library's own source tree) gets no base at all rather
 * than a wrong one. */
static void mt_sarif_location(mt_json_t *j, const mt_leaks_render_opts_t *o, const mt_frame_t *f)
{
    char path[4200], enc[3 * 4200], uri[3 * 4200 + 16];
    const char *rest = NULL;
    int rel = mt_path_under(f->file, o->source_root, &rest);
    const char *found = f->file[0] == '/' ? NULL : mt_sarif_find_under(o, f->file);
    snprintf(path, sizeof path, "%s", rel ? rest : found ? found : f->file);
    mt_sarif_uri_path(enc, sizeof enc, path);
    if (!rel && !found && f->file[0] == '/')
        snprintf(uri, sizeof uri, "file://%s", enc);
    else
        snprintf(uri, sizeof uri, "%s", enc);
    mt_json_key(j, "physicalLocation");
    mt_json_object_begin(j);
    mt_json_key(j, "artifactLocation");
    mt_json_object_begin(j);
    mt_json_key_string(j, "uri", uri);
    if (rel || found) {
        mt_json_key_string(j, "uriBaseId", "%SRCROOT%");
    }
    mt_json_object_end(j);
    mt_json_key(j, "region");
    mt_json_object_begin(j);
    mt_json_key_u64(j, "startLine", f->line);
    mt_json_object_end(j);
    mt_json_object_end(j);
}

static void mt_frame_label(char *buf, size_t len, const mt_leaks_t *l, const mt_frame_t *f)
{
    const mt_module_t *m = mt_frame_module(l, f);
    char name[1024];
    if (f->function)
        snprintf(buf, len, "%s", mt_name_show(f->function, name, sizeof name));
    else
        snprintf(buf, len, "%s+0x%" PRIx64, m ? m->basename : "?", f->address);
}

int mt_render_leaks_sarif(const mt_leaks_t *l, FILE *out, const mt_leaks_render_opts_t *o)
{
    mt_json_t j;
    char line[512];
    mt_json_init(&j, out, 1);
    mt_json_object_begin(&j);
    mt_json_key_string(&j, "$schema", MT_SARIF_SCHEMA);
    mt_json_key_string(&j, "version", "2.1.0");
    mt_json_key(&j, "runs");
    mt_json_array_begin(&j);
    mt_json_object_begin(&j);
    mt_json_key(&j, "tool");
    mt_json_object_begin(&j);
    mt_json_key(&j, "driver");
    mt_json_object_begin(&j);
    mt_json_key_string(&j, "name", "memtrace");
    mt_json_key_string(&j, "version", MT_VERSION);
    mt_json_key_string(&j, "informationUri", MT_INFO_URI);
    mt_json_key(&j, "rules");
    mt_json_array_begin(&j);
    for (unsigned k = 0; k < MT_LEAKS_NKINDS; k++) {
        mt_json_object_begin(&j);
        mt_json_key_string(&j, "id", mt_rule_ids[k]);
        mt_json_key_string(&j, "name", mt_leakclass_kind_name(k));
        mt_json_key(&j, "shortDescription");
        mt_json_object_begin(&j);
        mt_json_key_string(&j, "text", mt_rule_text[k]);
        mt_json_object_end(&j);
        mt_json_key(&j, "defaultConfiguration");
        mt_json_object_begin(&j);
        mt_json_key_string(&j, "level", o->fail & (1u << k) ? "error" : "warning");
        mt_json_object_end(&j);
        mt_json_object_end(&j);
    }
    mt_json_array_end(&j);
    mt_json_object_end(&j); /* driver */
    mt_json_object_end(&j); /* tool */
    mt_json_key(&j, "results");
    mt_json_array_begin(&j);
    for (size_t i = 0; i < l->n; i++) {
        const mt_leak_t *k = &l->v[i];
        if (!mt_leaks_listed(l, k))
            continue;
        long uf = mt_render_leaks_user_frame(l, k);
        mt_leak_headline(line, sizeof line, k, l->python_end);
        if (k->nframes) {
            size_t len = strlen(line);
            char fr[256];
            mt_frame_label(fr, sizeof fr, l, &k->frames[uf >= 0 ? uf : 0]);
            snprintf(line + len, sizeof line - len, ", allocated in %s", fr);
        }
        mt_json_object_begin(&j);
        mt_json_key_string(&j, "ruleId", mt_rule_ids[k->kind]);
        mt_json_key_u64(&j, "ruleIndex", k->kind);
        mt_json_key_string(&j, "level", o->fail & (1u << k->kind) ? "error" : "warning");
        mt_json_key(&j, "message");
        mt_json_object_begin(&j);
        mt_json_key_string(&j, "text", line);
        mt_json_object_end(&j);
        mt_json_key(&j, "locations");
        mt_json_array_begin(&j);
        if (uf >= 0) {
            mt_json_object_begin(&j);
            mt_sarif_location(&j, o, &k->frames[uf]);
            mt_json_object_end(&j);
        }
        mt_json_array_end(&j);
        /* the whole allocation stack, outermost call last, as one thread flow */
        mt_json_key(&j, "codeFlows");
        mt_json_array_begin(&j);
        mt_json_object_begin(&j);
        mt_json_key(&j, "threadFlows");
        mt_json_array_begin(&j);
        mt_json_object_begin(&j);
        mt_json_key(&j, "locations");
        mt_json_array_begin(&j);
        for (size_t f = 0; f < k->nframes; f++) {
            char fr[256];
            mt_frame_label(fr, sizeof fr, l, &k->frames[f]);
            mt_json_object_begin(&j);
            mt_json_key(&j, "location");
            mt_json_object_begin(&j);
            if (k->frames[f].file && k->frames[f].line)
                mt_sarif_location(&j, o, &k->frames[f]);
            mt_json_key(&j, "message");
            mt_json_object_begin(&j);
            mt_json_key_string(&j, "text", fr);
            mt_json_object_end(&j);
            mt_json_object_end(&j);
            mt_json_key_u64(&j, "nestingLevel", k->nframes - 1 - f);
            mt_json_object_end(&j);
        }
        mt_json_array_end(&j);
        mt_json_object_end(&j);
        mt_json_array_end(&j);
        mt_json_object_end(&j);
        mt_json_array_end(&j);
        mt_json_key(&j, "properties");
        mt_json_object_begin(&j);
        mt_json_key_u64(&j, "bytes", k->bytes);
        mt_json_key_u64(&j, "blocks", k->blocks);
        mt_json_key_u64(&j, "indirect_bytes", k->indirect_bytes);
        mt_json_object_end(&j);
        mt_json_object_end(&j);
    }
    mt_json_array_end(&j);
    mt_json_object_end(&j); /* run */
    mt_json_array_end(&j);
    mt_json_object_end(&j);
    return mt_json_finish(&j);
}

/* ---- JUnit ---- */

/* XML 1.0 text: the five entities escaped, invalid UTF-8 and forbidden control characters
 * replaced by '?' (a log carries arbitrary bytes; a parser would reject the whole file). */
static void mt_xml(FILE *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c < 0x80) {
            static const char special[] = "&<>\"'";
            static const char *const entity[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
            const char *sp = strchr(special, (int)c); /* c != 0: not the terminator */
            if (sp)
                fputs(entity[sp - special], o);
            else
                fputc(c < 0x20 && c != '\t' && c != '\n' && c != '\r' ? '?' : (int)c, o);
            p++;
            continue;
        }
        size_t n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
        size_t k = 1;
        while (n && k < n && (p[k] & 0xc0) == 0x80)
            k++;
        if (n && k == n) {
            fwrite(p, 1, n, o);
            p += n;
        } else {
            fputc('?', o);
            p++;
        }
    }
}

static void mt_junit_stack(FILE *o, const mt_leaks_t *l, const mt_leak_t *k)
{
    for (size_t f = 0; f < k->nframes; f++) {
        const mt_frame_t *fr = &k->frames[f];
        char lab[256], loc[64];
        mt_frame_label(lab, sizeof lab, l, fr);
        fputs("    at ", o);
        mt_xml(o, lab);
        if (fr->file && fr->line) {
            fputs(" (", o);
            mt_xml(o, mt_path_show(fr->file));
            snprintf(loc, sizeof loc, ":%u)", fr->line);
            fputs(loc, o);
        }
        fputc('\n', o);
    }
}

/* Whether leak k is of a kind --fail-on names (an unclassified block fails when a lost kind
 * does: nothing proves it reachable), as mt_leaks_failing_bytes counts. */
static int mt_leak_fails(const mt_leak_t *k, unsigned fail)
{
    unsigned lost =
        (1u << MT_LEAKS_DEFINITE) | (1u << MT_LEAKS_INDIRECT) | (1u << MT_LEAKS_POSSIBLE);
    if (k->kind == MT_LEAKS_UNCLASSIFIED)
        return (fail & lost) != 0;
    return (fail & (1u << k->kind)) != 0;
}

void mt_render_leaks_reason(const mt_leaks_t *l, unsigned fail, char *buf, size_t len)
{
    const mt_leak_t *top = NULL; /* leaks are sorted biggest first */
    for (size_t i = 0; i < l->n && !top; i++)
        if (l->v[i].suppressed_by < 0 && mt_leak_fails(&l->v[i], fail))
            top = &l->v[i];
    if (!len)
        return;
    buf[0] = '\0';
    if (!top)
        return;
    char b[32], what[96], where[320] = "";
    uint64_t bytes = mt_leaks_failing_bytes(l, fail);
    if (top->kind == MT_LEAKS_UNCLASSIFIED)
        snprintf(what, sizeof what, "not freed %s",
                 l->python_end ? "at the end of the script" : "at exit");
    else
        snprintf(what, sizeof what, "of leaks of a failing kind (--fail-on)");
    char at[288];
    if (mt_render_user_where(at, sizeof at, l->a->modules, top->frames, top->nframes)) {
        char kind[48] = "";
        if (top->kind != MT_LEAKS_UNCLASSIFIED)
            snprintf(kind, sizeof kind, " (%s)", mt_lost_phrase[top->kind]);
        snprintf(where, sizeof where, ", the largest%s %s", kind, at);
    }
    snprintf(buf, len, "%s bytes %s%s", mt_fmt_count(b, sizeof b, bytes), what, where);
}

static void mt_junit_case(FILE *o, const mt_leaks_t *l, const mt_leak_t *k, size_t no, int fails)
{
    char line[512], where[300] = "";
    long uf = mt_render_leaks_user_frame(l, k);
    if (k->nframes) {
        const mt_frame_t *f = &k->frames[uf >= 0 ? uf : 0];
        char lab[256];
        mt_frame_label(lab, sizeof lab, l, f);
        if (f->file && f->line)
            snprintf(where, sizeof where, " in %s (%s:%u)", lab, mt_basename(f->file), f->line);
        else
            snprintf(where, sizeof where, " in %s", lab);
    }
    mt_leak_headline(line, sizeof line, k, l->python_end);
    fprintf(o, "    <testcase classname=\"memtrace.leaks.%s\" name=\"",
            mt_leakclass_kind_name(k->kind));
    char name[64];
    snprintf(name, sizeof name, "leak %zu: ", no);
    mt_xml(o, name);
    mt_xml(o, line);
    mt_xml(o, where);
    if (!fails) { /* listed, but of a kind --fail-on does not name: a passing case */
        fprintf(o, "\"/>\n");
        return;
    }
    fprintf(o, "\">\n      <failure type=\"%s\" message=\"", mt_leakclass_kind_name(k->kind));
    mt_xml(o, line);
    fprintf(o, "\">");
    mt_xml(o, line);
    fputc('\n', o);
    mt_junit_stack(o, l, k);
    fprintf(o, "      </failure>\n    </testcase>\n");
}

/*
 * One test case per listed leak, failed when its kind is one --fail-on names, so that the
 * suite fails exactly when the exit status does. Failing leaks that --kinds does not list
 * still fail the suite, in one case that says how much and why it is not itemized; when
 * nothing is listed and nothing fails, the one passing case says whether there were leaks
 * (a "no leaks" pass for a log with leaks would be a lie in CI's test tab).
 */
int mt_render_leaks_junit(const mt_leaks_t *l, FILE *o, const mt_leaks_render_opts_t *opt)
{
    size_t listed = 0, failing = 0, hidden = 0;
    uint64_t listed_failing_bytes = 0, hidden_bytes = 0;
    for (size_t i = 0; i < l->n; i++) {
        const mt_leak_t *k = &l->v[i];
        if (!mt_leaks_listed(l, k)) {
            /* still reachable is not a leak: a clean program's suite says "no leaks" */
            if (k->suppressed_by < 0 && k->kind != MT_LEAKS_REACHABLE) {
                hidden++;
                hidden_bytes += k->bytes;
            }
            continue;
        }
        listed++;
        if (mt_leak_fails(k, opt->fail)) {
            failing++;
            listed_failing_bytes += k->bytes;
        }
    }
    uint64_t failing_bytes = mt_leaks_failing_bytes(l, opt->fail);
    uint64_t unlisted_bytes =
        failing_bytes > listed_failing_bytes ? failing_bytes - listed_failing_bytes : 0;
    int unlisted = unlisted_bytes != 0;
    size_t failures = failing + (size_t)unlisted, tests = listed + (size_t)unlisted;
    if (!tests)
        tests = 1;
    fprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(o, "<testsuites name=\"memtrace\" tests=\"%zu\" failures=\"%zu\">\n", tests, failures);
    fprintf(o,
            "  <testsuite name=\"memtrace.leaks\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
            "skipped=\"0\">\n",
            tests, failures);
    if (!listed && !unlisted) {
        char name[200] = "no leaks";
        if (hidden)
            snprintf(name, sizeof name,
                     "%zu leak%s (%llu bytes) not listed (--kinds), none of a failing kind "
                     "(--fail-on)",
                     hidden, hidden == 1 ? "" : "s", (unsigned long long)hidden_bytes);
        fprintf(o, "    <testcase classname=\"memtrace.leaks\" name=\"");
        mt_xml(o, name);
        fprintf(o, "\"/>\n");
    }
    size_t no = 0;
    for (size_t i = 0; i < l->n; i++) {
        const mt_leak_t *k = &l->v[i];
        if (mt_leaks_listed(l, k))
            mt_junit_case(o, l, k, ++no, mt_leak_fails(k, opt->fail));
    }
    if (unlisted) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "%llu bytes of failing kinds (--fail-on), not listed here (--kinds)",
                 (unsigned long long)unlisted_bytes);
        fprintf(o, "    <testcase classname=\"memtrace.leaks\" name=\"leaks not listed\">\n"
                   "      <failure type=\"leaks\" message=\"");
        mt_xml(o, msg);
        fprintf(o, "\">");
        mt_xml(o, msg);
        fprintf(o, "</failure>\n    </testcase>\n");
    }
    fprintf(o, "  </testsuite>\n</testsuites>\n");
    return ferror(o) ? -EIO : 0;
}

/* ---- suppressions ---- */

int mt_render_leaks_suppressions(const mt_leaks_t *l, FILE *o)
{
    size_t no = 0;
    for (size_t i = 0; i < l->n; i++) {
        const mt_leak_t *k = &l->v[i];
        if (!mt_leaks_listed(l, k))
            continue;
        no++;
        long uf = mt_render_leaks_user_frame(l, k);
        const mt_frame_t *named = NULL;
        for (size_t f = uf >= 0 ? (size_t)uf : 0; f < k->nframes && !named; f++)
            if (k->frames[f].function)
                named = &k->frames[f];
        /* Names go in masked: a control character becomes valgrind's one-character wildcard,
         * so the block still matches and cannot break the file or the terminal. */
        fprintf(o, "{\n   memtrace-leak-%zu-%s%s", no, mt_leakclass_kind_name(k->kind),
                named ? "-" : "");
        if (named)
            mt_text_put_masked(o, named->function, '?');
        fputs("\n   Memcheck:Leak\n", o);
        if (k->kind != MT_LEAKS_UNCLASSIFIED)
            fprintf(o, "   match-leak-kinds: %s\n", mt_leakclass_kind_name(k->kind));
        /* memcheck's stacks start inside the allocator (malloc, _Znwm, realloc...), ours at its
         * caller: one wildcard frame makes the block work for both (memtrace treats a leading
         * allocator frame as optional). */
        fprintf(o, "   fun:*\n");
        size_t n = k->nframes < MT_SUPP_MAX_FRAMES - 1 ? k->nframes : MT_SUPP_MAX_FRAMES - 1;
        for (size_t f = 0; f < n; f++) {
            const mt_frame_t *fr = &k->frames[f];
            const mt_module_t *m = mt_frame_module(l, fr);
            if (fr->function || !m) {
                fputs("   fun:", o);
                mt_text_put_masked(o, fr->function ? fr->function : "*", '?');
            } else {
                fputs("   obj:", o);
                mt_text_put_masked(o, m->path, '?');
            }
            fputc('\n', o);
        }
        fprintf(o, "}\n");
        if (named) { /* LSan's templates have '*' but no '?' */
            fputs("# LeakSanitizer: leak:", o);
            mt_text_put_masked(o, named->function, '*');
            fputc('\n', o);
        }
    }
    return ferror(o) ? -EIO : 0;
}

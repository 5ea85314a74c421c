// SPDX-License-Identifier: MIT
// Builds the line-by-line report (see report_lines.h): one walk up the stack of every trace
// node that allocated, charging the node's figures to the lines of the chosen file found in
// its Python frames. Linear in nodes times stack depth (bounded as in sites.c); memory grows
// with the lines of one file, never with the number of events.
#include "report_lines.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "sites.h" /* MT_STACK_MAX_NODES */

/* ---- the Python files of the log ---- */

typedef struct mt_lines_files {
    const char **v; /* distinct file names of the code objects, sorted */
    size_t n;
    uint32_t *of_code; /* by code id: index into v, or UINT32_MAX */
} mt_lines_files_t;

static int mt_lines_strcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uint32_t mt_lines_file_index(const mt_lines_files_t *f, const char *name)
{
    const char **hit = f->n ? bsearch(&name, f->v, f->n, sizeof *f->v, mt_lines_strcmp) : NULL;
    return hit ? (uint32_t)(hit - f->v) : UINT32_MAX;
}

static int mt_lines_files_build(mt_lines_files_t *f, const mt_pyinfo_t *py)
{
    memset(f, 0, sizeof *f);
    f->v = malloc((py->ncodes ? py->ncodes : 1) * sizeof *f->v);
    f->of_code = malloc((py->ncodes ? py->ncodes : 1) * sizeof *f->of_code);
    if (!f->v || !f->of_code)
        return -ENOMEM;
    for (uint32_t c = 0; c < py->ncodes; c++)
        if (py->codes[c].file && py->codes[c].qualname)
            f->v[f->n++] = py->codes[c].file;
    qsort(f->v, f->n, sizeof *f->v, mt_lines_strcmp);
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++)
        if (k == 0 || strcmp(f->v[k - 1], f->v[i]) != 0)
            f->v[k++] = f->v[i];
    f->n = k;
    for (uint32_t c = 0; c < py->ncodes; c++)
        f->of_code[c] = py->codes[c].file && py->codes[c].qualname
                            ? mt_lines_file_index(f, py->codes[c].file)
                            : UINT32_MAX;
    return 0;
}

static void mt_lines_files_destroy(mt_lines_files_t *f)
{
    free(f->v);
    free(f->of_code);
}

/* The code id of a Python frame's ip, or 0 when its location or code was never defined. */
static uint32_t mt_lines_frame_code(const mt_pyinfo_t *py, uint64_t ip, uint32_t *line)
{
    uint64_t loc = ip & ~MT_PY_IP_BIT;
    if (loc == 0 || loc >= py->nlocs || !py->locs[loc].code)
        return 0;
    uint32_t code = py->locs[loc].code;
    if (code >= py->ncodes || !py->codes[code].qualname)
        return 0;
    *line = py->locs[loc].line;
    return code;
}

/* "<frozen importlib._bootstrap>", "<string>", "<stdin>": no file on disk. */
static int mt_lines_pseudo_file(const char *name)
{
    return name[0] == '<';
}

/* The import system and runpy (`python3 -m`): never the script itself. */
static int mt_lines_frozen_file(const char *name)
{
    return strncmp(name, "<frozen ", 8) == 0;
}

/* f ends with "/" + tail (or is tail). */
static int mt_lines_path_ends(const char *f, const char *tail)
{
    size_t lf = strlen(f), lt = strlen(tail);
    if (lt == 0 || lt > lf)
        return 0;
    return strcmp(f + lf - lt, tail) == 0 && (lf == lt || f[lf - lt - 1] == '/');
}

static const char *mt_lines_strip_dot(const char *p)
{
    while (p[0] == '.' && p[1] == '/')
        p += 2;
    return p;
}

/* The files matching a name given by a person: exactly, through realpath, or as the end of a
 * path on a '/' boundary. Writes up to max indices; returns how many matched (may be > max). */
static size_t mt_lines_match(const mt_lines_files_t *f, const char *name, uint32_t *out, size_t max)
{
    uint32_t i = mt_lines_file_index(f, name);
    if (i != UINT32_MAX) {
        out[0] = i;
        return 1;
    }
    char *real = realpath(name, NULL);
    i = real ? mt_lines_file_index(f, real) : UINT32_MAX;
    free(real);
    if (i != UINT32_MAX) {
        out[0] = i;
        return 1;
    }
    const char *tail = mt_lines_strip_dot(name);
    if (tail[0] == '/')
        return 0;
    size_t n = 0;
    for (size_t k = 0; k < f->n; k++)
        if (!mt_lines_pseudo_file(f->v[k]) && mt_lines_path_ends(f->v[k], tail)) {
            if (n < max)
                out[n] = (uint32_t)k;
            n++;
        }
    return n;
}

/* The script that was run: the first argument of the recorded command line that names a
 * Python file of the log (`python3 -X dev app.py args`), else the file of the outermost
 * Python frame that is not frozen, in the stacks that allocated most (`python3 -m pkg`, and
 * `python3 -c CODE`, whose "<string>" has no source but has its lines). A frame under the
 * import machinery is a module being imported (runpy imports contextlib before it runs the
 * script): not a candidate. */
static int mt_lines_script(const mt_analysis_t *a, const mt_lines_files_t *f, uint32_t *out)
{
    for (size_t i = 0; i < a->process.argc; i++) {
        uint32_t hit[2];
        if (mt_lines_match(f, a->process.argv[i], hit, 2) == 1) {
            *out = hit[0];
            return 0;
        }
    }
    uint64_t *weight = calloc(f->n ? f->n : 1, sizeof *weight);
    if (!weight)
        return -ENOMEM;
    const mt_pyinfo_t *py = &a->python;
    uint32_t nn = mt_replay_node_count(&a->replay);
    if (nn > a->nodes.n)
        nn = a->nodes.n;
    for (uint32_t id = 1; id < nn; id++) {
        mt_node_stats_t st = mt_replay_node(&a->replay, id);
        if (!st.allocations)
            continue;
        uint32_t outer = UINT32_MAX, steps = 0;
        for (uint32_t n = id; n != 0 && steps < MT_STACK_MAX_NODES;
             n = a->nodes.v[n].parent, steps++) {
            uint32_t line, code;
            if (!(mt_nodes_ip(&a->nodes, n) & MT_PY_IP_BIT) ||
                !(code = mt_lines_frame_code(py, mt_nodes_ip(&a->nodes, n), &line)))
                continue;
            const char *file = py->codes[code].file;
            if (!mt_lines_frozen_file(file))
                outer = f->of_code[code];
            else if (strncmp(file, "<frozen importlib", 17) == 0)
                outer = UINT32_MAX; /* what we saw so far is being imported */
        }
        if (outer != UINT32_MAX)
            weight[outer] += st.allocations;
    }
    uint32_t best = UINT32_MAX;
    for (size_t k = 0; k < f->n; k++)
        if (weight[k] && (best == UINT32_MAX || weight[k] > weight[best]))
            best = (uint32_t)k;
    free(weight);
    *out = best;
    return 0;
}

/* ---- figures per line ---- */

/* Growable arrays (grow.h) behind rep->stats, rep->rows and rep->blocks: v is the report's
 * array, set again after each reserve. */
MT_DEFINE_BUF(mt_lines_stats_buf_t, mt_line_stats_t)
MT_DEFINE_BUF(mt_lines_rows_buf_t, mt_lines_row_t)
MT_DEFINE_BUF(mt_lines_blocks_buf_t, mt_lines_block_t)
MT_DEFINE_RESERVE(mt_lines_stats_reserve, mt_lines_stats_buf_t, 256)
MT_DEFINE_RESERVE(mt_lines_rows_reserve, mt_lines_rows_buf_t, 256)
MT_DEFINE_RESERVE(mt_lines_blocks_reserve, mt_lines_blocks_buf_t, 16)

typedef struct mt_lines_acc {
    mt_report_lines_t *rep;
    mt_lines_stats_buf_t stats;
    uint32_t *table; /* line -> index into rep->stats + 1; 0 = empty */
    size_t tmask;
} mt_lines_acc_t;

static size_t mt_lines_hash(uint32_t line, size_t mask)
{
    return (size_t)((line * 0x9e3779b97f4a7c15ull) >> 20) & mask;
}

/* Room for one more line, the table twice the stats' capacity. On -ENOMEM the report is
 * abandoned (its stats are freed with it). */
static int mt_lines_grow(mt_lines_acc_t *acc)
{
    if (mt_lines_stats_reserve(&acc->stats, acc->rep->nstats + 1) < 0)
        return -ENOMEM;
    acc->rep->stats = acc->stats.v;
    uint32_t *nt = calloc(acc->stats.cap * 2, sizeof *nt);
    if (!nt)
        return -ENOMEM;
    acc->tmask = acc->stats.cap * 2 - 1;
    for (size_t i = 0; i < acc->rep->nstats; i++) {
        size_t j = mt_lines_hash(acc->stats.v[i].line, acc->tmask);
        while (nt[j])
            j = (j + 1) & acc->tmask;
        nt[j] = (uint32_t)i + 1;
    }
    free(acc->table);
    acc->table = nt;
    return 0;
}

/* The stats of a line, added when new; NULL on -ENOMEM. */
static mt_line_stats_t *mt_lines_at(mt_lines_acc_t *acc, uint32_t line)
{
    if (acc->rep->nstats == acc->stats.cap &&
        mt_lines_grow(acc) < 0) /* the table stays half empty */
        return NULL;
    size_t j = mt_lines_hash(line, acc->tmask);
    for (; acc->table[j]; j = (j + 1) & acc->tmask)
        if (acc->rep->stats[acc->table[j] - 1].line == line)
            return &acc->rep->stats[acc->table[j] - 1];
    mt_line_stats_t *s = &acc->rep->stats[acc->rep->nstats++];
    memset(s, 0, sizeof *s);
    s->line = line;
    acc->table[j] = (uint32_t)acc->rep->nstats;
    return s;
}

static void mt_lines_add(mt_line_figures_t *f, const mt_node_stats_t *st, uint64_t end_bytes,
                         uint64_t end_blocks)
{
    f->allocations += st->allocations;
    f->bytes_allocated += st->bytes_allocated;
    f->peak_bytes += st->peak_bytes;
    f->peak_blocks += st->peak_blocks;
    f->end_bytes += end_bytes;
    f->end_blocks += end_blocks;
}

/* Charges every node's figures to the file's lines in its stack; code_last[c] becomes the last
 * line seen of each code object c of the file. */
static int mt_lines_accumulate(mt_report_lines_t *rep, const uint8_t *in_file, uint32_t *code_last)
{
    const mt_analysis_t *a = rep->a;
    const mt_pyinfo_t *py = &a->python;
    mt_lines_acc_t acc = {.rep = rep};
    int rc = 0;
    uint32_t nn = mt_replay_node_count(&a->replay);
    if (nn > a->nodes.n)
        nn = a->nodes.n;
    for (uint32_t id = 1; id < nn && rc == 0; id++) {
        mt_node_stats_t st = mt_replay_node(&a->replay, id);
        uint64_t end_bytes, end_blocks;
        mt_analysis_node_held(a, id, &end_bytes, &end_blocks);
        if (!st.allocations && !st.peak_blocks && !end_blocks && !st.live_blocks)
            continue;
        int innermost = 1;
        uint32_t steps = 0;
        for (uint32_t n = id; n != 0 && steps < MT_STACK_MAX_NODES;
             n = a->nodes.v[n].parent, steps++) {
            uint64_t ip = mt_nodes_ip(&a->nodes, n);
            if (!(ip & MT_PY_IP_BIT))
                continue;
            uint32_t line = 0, code = mt_lines_frame_code(py, ip, &line);
            int own = innermost;
            innermost = 0; /* an undefined frame is still the innermost Python frame */
            if (!code || !in_file[code])
                continue;
            mt_line_stats_t *s = mt_lines_at(&acc, line);
            if (!s) {
                rc = -ENOMEM;
                break;
            }
            if (own) {
                mt_lines_add(&s->own, &st, end_bytes, end_blocks);
                mt_lines_add(&rep->total, &st, end_bytes, end_blocks);
            }
            if (s->stamp != (uint64_t)id + 1) { /* recursion: the line once per stack */
                s->stamp = (uint64_t)id + 1;
                mt_lines_add(&s->incl, &st, end_bytes, end_blocks);
            }
            if (line > code_last[code])
                code_last[code] = line;
        }
    }
    free(acc.table);
    return rc;
}

static int mt_lines_stats_cmp(const void *a, const void *b)
{
    uint32_t x = ((const mt_line_stats_t *)a)->line, y = ((const mt_line_stats_t *)b)->line;
    return x < y ? -1 : x > y;
}

static const mt_line_stats_t *mt_lines_find(const mt_report_lines_t *rep, uint32_t line)
{
    mt_line_stats_t key = {.line = line};
    /* qsort and bsearch must not see the NULL of an empty table */
    return rep->nstats ? bsearch(&key, rep->stats, rep->nstats, sizeof key, mt_lines_stats_cmp)
                       : NULL;
}

/* ---- functions and rows ---- */

typedef struct mt_lines_range {
    uint32_t first, last;
    const char *name;
} mt_lines_range_t;

static int mt_lines_range_cmp(const void *a, const void *b)
{
    const mt_lines_range_t *x = a, *y = b;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->last > y->last ? -1 : x->last < y->last; /* the enclosing one first */
}

/* The last part of a qualified name ("build.<locals>.<listcomp>" -> "<listcomp>"). */
static const char *mt_lines_short_name(const char *qualname)
{
    const char *dot = strrchr(qualname, '.');
    return dot ? dot + 1 : qualname;
}

static int mt_lines_name_matches(const char *qualname, const char *want)
{
    return strcmp(qualname, want) == 0 || strcmp(mt_lines_short_name(qualname), want) == 0;
}

/* Code objects that are a block of their own: functions and classes, not the module and not
 * lambdas or comprehensions (their lines belong to what contains them). */
static int mt_lines_is_block(const char *qualname)
{
    return mt_lines_short_name(qualname)[0] != '<';
}

/* Sorts v and merges overlapping ranges in place; returns the new count. */
static size_t mt_lines_merge(mt_lines_range_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, mt_lines_range_cmp);
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        if (v[i].first <= v[k].last) {
            if (v[i].last > v[k].last)
                v[k].last = v[i].last;
        } else {
            v[++k] = v[i];
        }
    }
    return k + 1;
}

static int mt_lines_in_ranges(const mt_lines_range_t *v, size_t n, uint32_t line)
{
    size_t lo = 0, hi = n; /* the last range starting at or before line */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid].first <= line)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && line <= v[lo - 1].last;
}

typedef struct mt_lines_out {
    mt_report_lines_t *rep;
    mt_lines_rows_buf_t rows;
    mt_lines_blocks_buf_t blocks;
} mt_lines_out_t;

static int mt_lines_row(mt_lines_out_t *out, uint32_t line, const mt_line_stats_t *s, int gap)
{
    mt_report_lines_t *rep = out->rep;
    if (mt_lines_rows_reserve(&out->rows, rep->nrows + 1) < 0)
        return -ENOMEM;
    rep->rows = out->rows.v;
    rep->rows[rep->nrows++] = (mt_lines_row_t){line, s, gap};
    return 0;
}

static mt_lines_block_t *mt_lines_block(mt_lines_out_t *out, const char *name)
{
    mt_report_lines_t *rep = out->rep;
    if (mt_lines_blocks_reserve(&out->blocks, rep->nblocks + 1) < 0)
        return NULL;
    rep->blocks = out->blocks.v;
    mt_lines_block_t *b = &rep->blocks[rep->nblocks++];
    *b = (mt_lines_block_t){.name = name, .row0 = rep->nrows};
    return b;
}

/* A function's rows: every line of its source (figures or not), and where the source ends
 * or is missing, only the lines with figures. */
static int mt_lines_function_rows(mt_lines_out_t *out, const mt_lines_range_t *r)
{
    mt_report_lines_t *rep = out->rep;
    mt_lines_block_t *b = mt_lines_block(out, r->name);
    if (!b)
        return -ENOMEM;
    b->first = r->first;
    b->last = r->last;
    uint32_t dense_end = r->last < rep->source.n ? r->last : rep->source.n;
    uint32_t line = r->first;
    int rc = 0;
    for (; line <= dense_end && rc == 0; line++)
        rc = mt_lines_row(out, line, mt_lines_find(rep, line), 0);
    uint32_t prev = line - 1;
    for (size_t i = 0; i < rep->nstats && rc == 0; i++) {
        uint32_t l = rep->stats[i].line;
        if (l < line || l > r->last)
            continue;
        rc = mt_lines_row(out, l, &rep->stats[i], l != prev + 1 && prev >= r->first);
        prev = l;
    }
    b->nrows = rep->nrows - b->row0;
    return rc;
}

/* The module's own lines (figures outside every function): listed one by one. */
static int mt_lines_module_rows(mt_lines_out_t *out, const mt_lines_range_t *all, size_t nall)
{
    mt_report_lines_t *rep = out->rep;
    mt_lines_block_t *b = NULL;
    uint32_t prev = 0;
    for (size_t i = 0; i < rep->nstats; i++) {
        uint32_t l = rep->stats[i].line;
        if (mt_lines_in_ranges(all, nall, l))
            continue;
        if (!b && !(b = mt_lines_block(out, "<module>")))
            return -ENOMEM;
        if (mt_lines_row(out, l, &rep->stats[i], prev && l != prev + 1) < 0)
            return -ENOMEM;
        if (!prev)
            b->first = l;
        b->last = prev = l;
    }
    if (b)
        b->nrows = rep->nrows - b->row0;
    return 0;
}

static int mt_lines_block_cmp(const void *a, const void *b)
{
    const mt_lines_block_t *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int mt_lines_layout(mt_report_lines_t *rep, const uint8_t *in_file,
                           const uint32_t *code_last)
{
    const mt_pyinfo_t *py = &rep->a->python;
    mt_lines_range_t *all = malloc((py->ncodes ? py->ncodes : 1) * sizeof *all);
    mt_lines_range_t *shown = malloc((py->ncodes ? py->ncodes : 1) * sizeof *shown);
    size_t nall = 0, nshown = 0;
    int rc = -ENOMEM;
    if (!all || !shown)
        goto out;
    for (uint32_t c = 1; c < py->ncodes; c++) {
        const mt_pycode_info_t *code = &py->codes[c];
        if (!in_file[c] || !code_last[c] || !mt_lines_is_block(code->qualname) ||
            !code->firstlineno)
            continue;
        mt_lines_range_t r = {code->firstlineno, 0, code->qualname};
        if (rep->source.n)
            r.last = mt_py_source_block_end(&rep->source, r.first);
        /* no source, or it changed since the run: at least the lines the log names */
        if (r.last < code_last[c])
            r.last = code_last[c];
        if (r.last < r.first)
            r.last = r.first;
        all[nall++] = r;
        if (!rep->function || mt_lines_name_matches(code->qualname, rep->function))
            shown[nshown++] = r;
    }
    nall = mt_lines_merge(all, nall);
    nshown = mt_lines_merge(shown, nshown);
    mt_lines_out_t out = {.rep = rep};
    rc = 0;
    for (size_t i = 0; i < nshown && rc == 0; i++)
        rc = mt_lines_function_rows(&out, &shown[i]);
    if (rc == 0 && (!rep->function || strcmp(rep->function, "<module>") == 0))
        rc = mt_lines_module_rows(&out, all, nall);
    /* the module's block in file order among the functions (rows stay where they are) */
    if (rc == 0 && rep->nblocks)
        qsort(rep->blocks, rep->nblocks, sizeof *rep->blocks, mt_lines_block_cmp);
out:
    free(all);
    free(shown);
    return rc;
}

/* ---- the report ---- */

/* The file of the report: its index in files, and rep->file. */
static int mt_lines_pick_file(mt_report_lines_t *rep, const mt_lines_files_t *files,
                              const mt_lines_opts_t *o, uint32_t *index, char *err, size_t errlen)
{
    const char *log = rep->a->path;
    if (!o->file) {
        int rc = mt_lines_script(rep->a, files, index);
        if (rc < 0)
            return rc;
        if (*index == UINT32_MAX) {
            snprintf(err, errlen, "%s: no Python script found in the log: give --file", log);
            return -ENOENT;
        }
        rep->file = files->v[*index];
        rep->file_is_script = 1;
        return 0;
    }
    uint32_t hit[3];
    size_t n = mt_lines_match(files, o->file, hit, 3);
    if (n == 0) {
        snprintf(err, errlen, "%s: no Python code from '%s' in the log", log, o->file);
        return -ENOENT;
    }
    if (n > 1) {
        snprintf(err, errlen, "%s: '%s' matches %zu files (%s, %s%s): give more of its path", log,
                 o->file, n, files->v[hit[0]], files->v[hit[1]], n > 2 ? ", ..." : "");
        return -EEXIST;
    }
    *index = hit[0];
    rep->file = files->v[hit[0]];
    return 0;
}

static int mt_lines_read_source(mt_report_lines_t *rep, const mt_lines_opts_t *o)
{
    int rc = mt_py_source_load(&rep->source, rep->file);
    const char *path = rep->file;
    /* a log from elsewhere: the copy the person names stands in for the recorded path */
    if (rc < 0 && rc != -ENOMEM && o->file && strcmp(o->file, rep->file) != 0) {
        int rc2 = mt_py_source_load(&rep->source, o->file);
        if (rc2 == 0 || rc2 == -ENOMEM) {
            rc = rc2;
            path = o->file;
        }
    }
    if (rc == -ENOMEM)
        return rc;
    rep->source_errno = rc < 0 ? -rc : 0;
    if (rc == 0 && !(rep->source_path = strdup(path)))
        return -ENOMEM;
    /* Python reads a script when it starts: a file written since is not the one that ran. */
    rep->source_changed = rc == 0 && rep->a->start_realtime_ns &&
                          rep->source.mtime_ns > (int64_t)rep->a->start_realtime_ns;
    return 0;
}

int mt_report_lines_available(const mt_analysis_t *a)
{
    for (uint32_t c = 0; c < a->python.ncodes; c++)
        if (a->python.codes[c].qualname && a->python.codes[c].file)
            return 1;
    return 0;
}

int mt_report_lines_build(mt_report_lines_t *rep, const mt_analysis_t *a, const mt_lines_opts_t *o,
                          char *err, size_t errlen)
{
    memset(rep, 0, sizeof *rep);
    rep->a = a;
    rep->function = o->function;
    rep->held = mt_analysis_held(a);
    const mt_pyinfo_t *py = &a->python;
    mt_lines_files_t files;
    uint8_t *in_file = NULL;
    uint32_t *code_last = NULL;
    int rc = mt_lines_files_build(&files, py);
    if (rc < 0)
        goto fail;
    if (files.n == 0) {
        snprintf(err, errlen,
                 "%s: no Python frames in the log (not a Python program, or recorded with "
                 "--python=off or by an interpreter whose frames memtrace cannot read)",
                 a->path);
        rc = -ENODATA;
        goto out;
    }
    uint32_t file;
    if ((rc = mt_lines_pick_file(rep, &files, o, &file, err, errlen)) == -ENOMEM)
        goto fail;
    if (rc < 0)
        goto out;
    in_file = calloc(py->ncodes ? py->ncodes : 1, 1);
    code_last = calloc(py->ncodes ? py->ncodes : 1, sizeof *code_last);
    rc = -ENOMEM;
    if (!in_file || !code_last)
        goto fail;
    for (uint32_t c = 0; c < py->ncodes; c++)
        in_file[c] = files.of_code[c] == file;
    if ((rc = mt_lines_accumulate(rep, in_file, code_last)) < 0)
        goto fail;
    if (rep->nstats)
        qsort(rep->stats, rep->nstats, sizeof *rep->stats, mt_lines_stats_cmp);
    if ((rc = mt_lines_read_source(rep, o)) < 0 ||
        (rc = mt_lines_layout(rep, in_file, code_last)) < 0)
        goto fail;
    if (rep->function && rep->nblocks == 0) {
        snprintf(err, errlen, "%s: no function '%s' with allocations in %s", a->path, rep->function,
                 rep->file);
        rc = -ESRCH;
    }
    rep->in_file = in_file; /* kept for mt_report_lines_node */
    in_file = NULL;
    goto out;
fail:
    snprintf(err, errlen, "%s: %s", a->path, strerror(-rc));
out:
    mt_lines_files_destroy(&files);
    free(in_file);
    free(code_last);
    if (rc < 0)
        mt_report_lines_destroy(rep);
    return rc;
}

void mt_report_lines_destroy(mt_report_lines_t *rep)
{
    free(rep->source_path);
    mt_py_source_destroy(&rep->source);
    free(rep->stats);
    free(rep->blocks);
    free(rep->rows);
    free(rep->in_file);
    const mt_analysis_t *a = rep->a;
    memset(rep, 0, sizeof *rep);
    rep->a = a;
}

void mt_report_lines_node(const mt_report_lines_t *rep, uint32_t node,
                          void (*fn)(void *arg, size_t i, int own), void *arg)
{
    const mt_analysis_t *a = rep->a;
    int innermost = 1;
    uint32_t steps = 0;
    if (!rep->in_file || node >= a->nodes.n)
        return;
    /* the walk of mt_lines_accumulate */
    for (uint32_t n = node; n != 0 && steps < MT_STACK_MAX_NODES;
         n = a->nodes.v[n].parent, steps++) {
        uint64_t ip = mt_nodes_ip(&a->nodes, n);
        if (!(ip & MT_PY_IP_BIT))
            continue;
        uint32_t line = 0, code = mt_lines_frame_code(&a->python, ip, &line);
        int own = innermost;
        innermost = 0;
        if (!code || !rep->in_file[code])
            continue;
        const mt_line_stats_t *s = mt_lines_find(rep, line);
        if (s)
            fn(arg, (size_t)(s - rep->stats), own);
    }
}

const char *mt_report_lines_text(const mt_report_lines_t *rep, uint32_t line)
{
    const char *s = mt_py_source_line(&rep->source, line);
    return s ? s : "";
}

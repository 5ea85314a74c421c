// SPDX-License-Identifier: MIT
// Building the process tree of a run from its logs (see process_tree.h). Runs once per report:
// it may allocate freely; lookups are by sorted index, so a run of thousands of processes
// costs n log n, not n squared.
#include "process_tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

static char *mt_ptree_dup(const char *s)
{
    return strdup(s ? s : "");
}

static const char *mt_ptree_base(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- reading one log ---- */

static int mt_ptree_take(mt_pimage_t *im, const mt_analysis_t *a, const char *path)
{
    const mt_replay_t *r = &a->replay;
    const mt_lineage_t *l = &a->lineage;
    memset(im, 0, sizeof *im);
    im->path = strdup(path);
    im->command = mt_cmdline_join(a->process.argv, a->process.argc);
    im->exe = mt_ptree_dup(a->process.exe);
    im->run_id = mt_ptree_dup(l->run_id);
    im->from_log = mt_ptree_dup(l->from_log);
    im->next_log = l->next_log ? strdup(l->next_log) : NULL;
    im->inherit_note = mt_ptree_dup(a->inherit == MT_INHERIT_UNKNOWN ? a->inherit_note : "");
    if (!im->path || !im->command || !im->exe || !im->run_id || !im->from_log ||
        (l->next_log && !im->next_log) || !im->inherit_note)
        return -ENOMEM;
    im->how = l->how;
    im->pid = a->process.present ? a->process.pid : a->header_pid;
    im->ppid = a->process.present ? a->process.ppid : 0;
    im->start_ns = a->start_realtime_ns;
    im->end_ns = a->start_realtime_ns + r->last_time_us * 1000;
    im->has_exit = r->has_exit;
    im->exit_reason = r->exit_reason;
    im->exit_status = r->exit_status;
    im->truncated = a->truncated;
    im->inherit = a->inherit;
    im->allocations = r->allocations;
    im->frees = r->frees;
    im->bytes_allocated = r->bytes_allocated;
    im->unknown_frees = r->unknown_frees;
    im->peak_bytes = r->peak_heap_bytes;
    im->peak_blocks = r->peak_heap_blocks;
    im->peak_time_us = r->peak_time_us;
    mt_held_t held = mt_analysis_held(a);
    im->held_bytes = held.bytes;
    im->held_blocks = held.blocks;
    im->inherited_bytes = r->inherited_bytes;
    im->inherited_blocks = r->inherited_blocks;
    im->prev = im->next = im->process = MT_PTREE_NONE;
    return 0;
}

static void mt_ptree_image_free(mt_pimage_t *im)
{
    free(im->path);
    free(im->command);
    free(im->exe);
    free(im->run_id);
    free(im->from_log);
    free(im->next_log);
    free(im->inherit_note);
}

static int mt_ptree_skip(mt_ptree_t *t, const char *path, const char *reason)
{
    mt_pskip_t *n = realloc(t->skipped, (t->nskipped + 1) * sizeof *n);
    if (!n)
        return -ENOMEM;
    t->skipped = n;
    mt_pskip_t *s = &t->skipped[t->nskipped];
    s->path = strdup(path);
    s->reason = strdup(reason);
    if (!s->path || !s->reason) {
        free(s->path);
        free(s->reason);
        return -ENOMEM;
    }
    t->nskipped++;
    return 0;
}

/* The reader's error is "PATH: why": the skip keeps the why. */
static const char *mt_ptree_why(const char *err, const char *path)
{
    size_t n = strlen(path);
    return strncmp(err, path, n) == 0 && strncmp(err + n, ": ", 2) == 0 ? err + n + 2 : err;
}

/* Two images of one process at one moment: the same log given twice (by name and in its
 * directory), or a copy of it. Counting both would add the process's figures up twice. */
static int mt_ptree_same_image(const mt_pimage_t *a, const mt_pimage_t *b)
{
    return a->pid == b->pid && a->start_ns == b->start_ns && a->end_ns == b->end_ns &&
           a->how == b->how && a->allocations == b->allocations && a->frees == b->frees &&
           a->bytes_allocated == b->bytes_allocated && a->peak_bytes == b->peak_bytes &&
           strcmp(a->run_id, b->run_id) == 0;
}

/* The image just read, when an earlier one is the same: left out, as a skip that names the
 * log kept. 0 or -ENOMEM. */
static int mt_ptree_drop_copy(mt_ptree_t *t)
{
    mt_pimage_t *im = &t->images[t->nimages - 1];
    for (size_t j = 0; j + 1 < t->nimages; j++) {
        if (!mt_ptree_same_image(&t->images[j], im))
            continue;
        char *why = NULL;
        if (asprintf(&why, "%s%s (the log given twice, or a copy of it): counted once",
                     MT_PTREE_SAME_LOG, t->images[j].path) < 0)
            return -ENOMEM;
        int rc = mt_ptree_skip(t, im->path, why);
        free(why);
        mt_ptree_image_free(im);
        t->nimages--;
        return rc;
    }
    return 0;
}

static int mt_ptree_read(mt_ptree_t *t, char *const *paths, size_t n, mt_ptree_progress_fn progress,
                         void *progress_arg)
{
    t->images = calloc(n ? n : 1, sizeof *t->images);
    if (!t->images)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (progress)
            progress(progress_arg, i, n);
        mt_analysis_t *a;
        char err[512];
        int rc = mt_analysis_load(&a, paths[i], err, sizeof err);
        if (rc == -ENOMEM)
            return rc;
        if (rc < 0) {
            t->unreadable++;
            if ((rc = mt_ptree_skip(t, paths[i], mt_ptree_why(err, paths[i]))) < 0)
                return rc;
            continue;
        }
        rc = mt_ptree_take(&t->images[t->nimages], a, paths[i]);
        mt_analysis_free(a);
        t->nimages++; /* even half filled: destroy frees what it has */
        if (rc < 0)
            return rc;
        if ((rc = mt_ptree_drop_copy(t)) < 0)
            return rc;
    }
    return 0;
}

/* ---- one run ---- */

static const mt_pimage_t *mt_ptree_sort_images; /* qsort has no context argument */

static int mt_ptree_by_run(const void *x, const void *y)
{
    const mt_pimage_t *a = &mt_ptree_sort_images[*(const size_t *)x];
    const mt_pimage_t *b = &mt_ptree_sort_images[*(const size_t *)y];
    return strcmp(a->run_id, b->run_id);
}

/* The run shown: the one whose first log started last (a directory that also holds an older
 * run's logs shows the run just recorded); the other runs' logs are skipped. */
static int mt_ptree_one_run(mt_ptree_t *t)
{
    size_t n = t->nimages, *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    mt_ptree_sort_images = t->images;
    qsort(idx, n, sizeof *idx, mt_ptree_by_run);
    const char *newest = NULL;
    uint64_t newest_start = 0;
    size_t runs = 0;
    for (size_t g = 0; g < n;) {
        const char *run = t->images[idx[g]].run_id;
        uint64_t first = UINT64_MAX;
        size_t e = g;
        for (; e < n && strcmp(t->images[idx[e]].run_id, run) == 0; e++)
            if (t->images[idx[e]].start_ns < first)
                first = t->images[idx[e]].start_ns;
        if (!newest || first > newest_start) {
            newest = run;
            newest_start = first;
        }
        runs++;
        g = e;
    }
    free(idx);
    t->other_runs = runs ? runs - 1 : 0;
    size_t k = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        mt_pimage_t *im = &t->images[i];
        if (im->run_id == newest || strcmp(im->run_id, newest) == 0) {
            t->images[k++] = *im;
            continue;
        }
        if (rc == 0)
            rc = mt_ptree_skip(t, im->path, "a log of another run (only the newest run is shown)");
        mt_ptree_image_free(im);
    }
    t->nimages = k;
    return rc;
}

/* ---- links between logs ---- */

static int mt_ptree_by_base(const void *x, const void *y)
{
    const mt_pimage_t *a = &mt_ptree_sort_images[*(const size_t *)x];
    const mt_pimage_t *b = &mt_ptree_sort_images[*(const size_t *)y];
    return strcmp(mt_ptree_base(a->path), mt_ptree_base(b->path));
}

/* The image whose log is path: the same path, or (the logs were moved, or given by a relative
 * path) the same file name and the pid it must have. */
static size_t mt_ptree_find(const mt_ptree_t *t, const size_t *by_base, const char *path,
                            uint64_t pid)
{
    if (!path || !path[0])
        return MT_PTREE_NONE;
    const char *base = mt_ptree_base(path);
    size_t lo = 0, hi = t->nimages;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(mt_ptree_base(t->images[by_base[mid]].path), base) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t same_pid = MT_PTREE_NONE;
    for (size_t i = lo; i < t->nimages; i++) {
        const mt_pimage_t *im = &t->images[by_base[i]];
        if (strcmp(mt_ptree_base(im->path), base) != 0)
            break;
        if (strcmp(im->path, path) == 0)
            return by_base[i];
        if (im->pid == pid && same_pid == MT_PTREE_NONE)
            same_pid = by_base[i];
    }
    return same_pid;
}

static void mt_ptree_link(mt_ptree_t *t, size_t a, size_t b)
{
    if (a != MT_PTREE_NONE && a != b && t->images[a].next == MT_PTREE_NONE &&
        t->images[b].prev == MT_PTREE_NONE && t->images[b].how == MT_ORIGIN_EXEC &&
        t->images[a].pid == t->images[b].pid) {
        t->images[a].next = b;
        t->images[b].prev = a;
    }
}

/* Exec chains: the old image names the new one's log (NEXT_LOG), the new one the old one's
 * (ORIGIN). Either is enough; both must agree on the pid. */
static void mt_ptree_chain(mt_ptree_t *t, const size_t *by_base)
{
    for (size_t i = 0; i < t->nimages; i++) {
        const mt_pimage_t *im = &t->images[i];
        if (im->next_log && im->has_exit && im->exit_reason == MT_EXIT_EXEC) {
            size_t j = mt_ptree_find(t, by_base, im->next_log, im->pid);
            if (j != MT_PTREE_NONE)
                mt_ptree_link(t, i, j);
        }
    }
    for (size_t j = 0; j < t->nimages; j++)
        if (t->images[j].how == MT_ORIGIN_EXEC && t->images[j].prev == MT_PTREE_NONE)
            mt_ptree_link(t, mt_ptree_find(t, by_base, t->images[j].from_log, t->images[j].pid), j);
}

/* ---- processes ---- */

static int mt_ptree_processes(mt_ptree_t *t)
{
    t->procs = calloc(t->nimages ? t->nimages : 1, sizeof *t->procs);
    if (!t->procs)
        return -ENOMEM;
    for (size_t i = 0; i < t->nimages; i++) {
        if (t->images[i].prev != MT_PTREE_NONE)
            continue;
        mt_process_t *p = &t->procs[t->nprocs];
        size_t n = 0;
        /* the links are one to one, so the walk ends; the bound is for safety only */
        for (size_t j = i; j != MT_PTREE_NONE && n < t->nimages; j = t->images[j].next)
            n++;
        p->images = malloc(n * sizeof *p->images);
        if (!p->images)
            return -ENOMEM;
        for (size_t j = i; p->nimages < n; j = t->images[j].next) {
            p->images[p->nimages++] = j;
            t->images[j].process = t->nprocs;
        }
        p->pid = t->images[i].pid;
        p->ppid = t->images[i].ppid;
        p->parent = MT_PTREE_NONE;
        t->nprocs++;
    }
    return 0;
}

static const mt_process_t *mt_ptree_sort_procs;

static int mt_ptree_by_pid(const void *x, const void *y)
{
    uint64_t a = mt_ptree_sort_procs[*(const size_t *)x].pid;
    uint64_t b = mt_ptree_sort_procs[*(const size_t *)y].pid;
    return a < b ? -1 : a > b;
}

/* The process with pid that was there when child started: the latest one to start before it
 * (a pid can come back in a long run); NONE when no log has that pid. */
static size_t mt_ptree_by_ppid(const mt_ptree_t *t, const size_t *by_pid, const mt_process_t *c)
{
    size_t lo = 0, hi = t->nprocs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->procs[by_pid[mid]].pid < c->ppid)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t start = t->images[c->images[0]].start_ns;
    size_t best = MT_PTREE_NONE, any = MT_PTREE_NONE;
    uint64_t best_start = 0;
    for (size_t i = lo; i < t->nprocs && t->procs[by_pid[i]].pid == c->ppid; i++) {
        size_t k = by_pid[i];
        if (&t->procs[k] == c)
            continue;
        uint64_t s = t->images[t->procs[k].images[0]].start_ns;
        any = k;
        if (s <= start && (best == MT_PTREE_NONE || s >= best_start)) {
            best = k;
            best_start = s;
        }
    }
    return best != MT_PTREE_NONE ? best : any;
}

/* Parents: a fork names its parent's log; a program started by posix_spawn or vfork (or a
 * chain whose first log is missing) has only its parent's pid. */
static int mt_ptree_parents(mt_ptree_t *t, const size_t *by_base)
{
    size_t *by_pid = malloc((t->nprocs ? t->nprocs : 1) * sizeof *by_pid);
    if (!by_pid)
        return -ENOMEM;
    for (size_t i = 0; i < t->nprocs; i++)
        by_pid[i] = i;
    mt_ptree_sort_procs = t->procs;
    qsort(by_pid, t->nprocs, sizeof *by_pid, mt_ptree_by_pid);
    for (size_t i = 0; i < t->nprocs; i++) {
        mt_process_t *p = &t->procs[i];
        const mt_pimage_t *first = &t->images[p->images[0]];
        size_t parent = MT_PTREE_NONE;
        if (first->how == MT_ORIGIN_FORK) {
            size_t im = mt_ptree_find(t, by_base, first->from_log, first->ppid);
            parent = im != MT_PTREE_NONE ? t->images[im].process : MT_PTREE_NONE;
        }
        if (parent == MT_PTREE_NONE && p->ppid)
            parent = mt_ptree_by_ppid(t, by_pid, p);
        p->parent = parent == i ? MT_PTREE_NONE : parent;
    }
    free(by_pid);
    /* A cycle (logs of a crafted or confused run) is cut where the walk finds it. */
    for (size_t i = 0; i < t->nprocs; i++) {
        size_t steps = 0;
        for (size_t k = t->procs[i].parent; k != MT_PTREE_NONE; k = t->procs[k].parent)
            if (k == i || ++steps > t->nprocs) {
                t->procs[i].parent = MT_PTREE_NONE;
                break;
            }
    }
    for (size_t i = 0; i < t->nprocs; i++)
        for (size_t k = t->procs[i].parent; k != MT_PTREE_NONE; k = t->procs[k].parent)
            t->procs[i].depth++;
    return 0;
}

/* ---- figures, order ---- */

/* An image's peak as its process's: a forked child that then exec'd another program only
 * shared its parent's pages for a moment, so the heap it inherited does not count (else every
 * command a big shell runs would show the shell's heap). A child that does not exec keeps it:
 * it held that heap for its whole life. */
static uint64_t mt_ptree_image_peak(const mt_pimage_t *im)
{
    if (im->how == MT_ORIGIN_FORK && im->has_exit && im->exit_reason == MT_EXIT_EXEC)
        return im->peak_bytes > im->inherited_bytes ? im->peak_bytes - im->inherited_bytes : 0;
    return im->peak_bytes;
}

static void mt_ptree_figures(mt_ptree_t *t)
{
    t->start_ns = UINT64_MAX;
    for (size_t i = 0; i < t->nprocs; i++) {
        mt_process_t *p = &t->procs[i];
        for (size_t k = 0; k < p->nimages; k++) {
            const mt_pimage_t *im = &t->images[p->images[k]];
            if (k == 0 || mt_ptree_image_peak(im) > p->peak_bytes) {
                p->peak_bytes = mt_ptree_image_peak(im);
                p->peak_image = p->images[k];
            }
            p->allocations += im->allocations;
            p->frees += im->frees;
            p->bytes_allocated += im->bytes_allocated;
        }
        const mt_pimage_t *last = &t->images[p->images[p->nimages - 1]];
        p->held_bytes = last->held_bytes;
        p->held_blocks = last->held_blocks;
        t->peak_sum += p->peak_bytes;
        t->held_bytes += p->held_bytes;
        t->held_blocks += p->held_blocks;
        t->held_procs += p->held_blocks != 0;
        t->allocations += p->allocations;
        t->frees += p->frees;
        t->bytes_allocated += p->bytes_allocated;
    }
    for (size_t i = 0; i < t->nimages; i++) {
        const mt_pimage_t *im = &t->images[i];
        t->unknown_frees += im->unknown_frees;
        t->truncated += im->truncated != 0;
        t->start_ns = im->start_ns < t->start_ns ? im->start_ns : t->start_ns;
        t->end_ns = im->end_ns > t->end_ns ? im->end_ns : t->end_ns;
    }
    if (t->start_ns == UINT64_MAX)
        t->start_ns = 0;
}

/* Highest peak first; then the earlier start, then the lower pid: the order is stable. */
static int mt_ptree_by_peak(const void *x, const void *y)
{
    const mt_process_t *a = &mt_ptree_sort_procs[*(const size_t *)x];
    const mt_process_t *b = &mt_ptree_sort_procs[*(const size_t *)y];
    if (a->peak_bytes != b->peak_bytes)
        return a->peak_bytes > b->peak_bytes ? -1 : 1;
    uint64_t sa = mt_ptree_sort_images[a->images[0]].start_ns;
    uint64_t sb = mt_ptree_sort_images[b->images[0]].start_ns;
    if (sa != sb)
        return sa < sb ? -1 : 1;
    return a->pid < b->pid ? -1 : a->pid > b->pid;
}

/* Depth first from the roots, each process's children by peak. first[p] is p's first child,
 * first[nprocs] the first root; next[c] is c's next sibling. */
static int mt_ptree_walk(mt_ptree_t *t)
{
    size_t n = t->nprocs;
    size_t *first = malloc((n + 1) * sizeof *first), *next = malloc((n ? n : 1) * sizeof *next);
    size_t *stack = malloc((n ? n : 1) * sizeof *stack);
    if (!first || !next || !stack) {
        free(first);
        free(next);
        free(stack);
        return -ENOMEM;
    }
    for (size_t i = 0; i <= n; i++)
        first[i] = MT_PTREE_NONE;
    for (size_t i = n; i-- > 0;) { /* pushed in reverse: lists come out by peak */
        size_t p = t->by_peak[i], par = t->procs[p].parent;
        par = par == MT_PTREE_NONE ? n : par;
        next[p] = first[par];
        first[par] = p;
    }
    size_t k = 0, depth = 0;
    for (size_t c = first[n]; c != MT_PTREE_NONE || depth;) {
        if (c == MT_PTREE_NONE) { /* this level is done: the parent's next sibling */
            c = next[stack[--depth]];
            continue;
        }
        t->tree_order[k++] = c;
        stack[depth++] = c;
        c = first[c];
    }
    free(first);
    free(next);
    free(stack);
    return 0;
}

static int mt_ptree_order(mt_ptree_t *t)
{
    size_t n = t->nprocs ? t->nprocs : 1;
    t->by_peak = malloc(n * sizeof *t->by_peak);
    t->tree_order = malloc(n * sizeof *t->tree_order);
    if (!t->by_peak || !t->tree_order)
        return -ENOMEM;
    for (size_t i = 0; i < t->nprocs; i++)
        t->by_peak[i] = i;
    mt_ptree_sort_procs = t->procs;
    mt_ptree_sort_images = t->images;
    qsort(t->by_peak, t->nprocs, sizeof *t->by_peak, mt_ptree_by_peak);
    return mt_ptree_walk(t);
}

/* ---- entry points ---- */

int mt_ptree_build(mt_ptree_t *t, char *const *paths, size_t n, mt_ptree_progress_fn progress,
                   void *progress_arg)
{
    memset(t, 0, sizeof *t);
    t->run_id = "";
    int rc = mt_ptree_read(t, paths, n, progress, progress_arg);
    if (rc == 0 && t->nimages == 0)
        rc = -ENOENT;
    if (rc == 0)
        rc = mt_ptree_one_run(t);
    size_t *by_base = NULL;
    if (rc == 0) {
        t->run_id = t->images[0].run_id;
        by_base = malloc(t->nimages * sizeof *by_base);
        rc = by_base ? 0 : -ENOMEM;
    }
    if (rc == 0) {
        for (size_t i = 0; i < t->nimages; i++)
            by_base[i] = i;
        mt_ptree_sort_images = t->images;
        qsort(by_base, t->nimages, sizeof *by_base, mt_ptree_by_base);
        mt_ptree_chain(t, by_base);
        rc = mt_ptree_processes(t);
    }
    if (rc == 0)
        rc = mt_ptree_parents(t, by_base);
    free(by_base);
    if (rc == 0) {
        mt_ptree_figures(t);
        rc = mt_ptree_order(t);
    }
    if (rc < 0 && rc != -ENOENT) {
        mt_ptree_destroy(t);
        return rc;
    }
    return rc;
}

void mt_ptree_destroy(mt_ptree_t *t)
{
    for (size_t i = 0; i < t->nimages; i++)
        mt_ptree_image_free(&t->images[i]);
    free(t->images);
    for (size_t i = 0; i < t->nprocs; i++)
        free(t->procs[i].images);
    free(t->procs);
    free(t->by_peak);
    free(t->tree_order);
    for (size_t i = 0; i < t->nskipped; i++) {
        free(t->skipped[i].path);
        free(t->skipped[i].reason);
    }
    free(t->skipped);
    memset(t, 0, sizeof *t);
}

size_t mt_ptree_biggest(const mt_ptree_t *t)
{
    return t->nprocs ? t->by_peak[0] : MT_PTREE_NONE;
}

const char *mt_ptree_biggest_log(const mt_ptree_t *t)
{
    size_t p = mt_ptree_biggest(t);
    return p == MT_PTREE_NONE ? NULL : t->images[t->procs[p].peak_image].path;
}

size_t mt_ptree_most_held(const mt_ptree_t *t)
{
    size_t best = MT_PTREE_NONE;
    for (size_t i = 0; i < t->nprocs; i++) { /* by_peak order: a tie goes to the bigger peak */
        size_t p = t->by_peak[i];
        if (t->procs[p].held_bytes &&
            (best == MT_PTREE_NONE || t->procs[p].held_bytes > t->procs[best].held_bytes))
            best = p;
    }
    return best;
}

const char *mt_ptree_last_log(const mt_ptree_t *t, size_t proc)
{
    const mt_process_t *p = &t->procs[proc];
    return t->images[p->images[p->nimages - 1]].path;
}

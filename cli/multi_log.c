// SPDX-License-Identifier: MIT
// The view over several logs (see multi_log.h). Directories are searched for logs by their
// first bytes, not their names: a project directory holds sources and objects too.
#include "multi_log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_writer.h"
#include "output_file.h"
#include "progress.h"
#include "render_ptree.h"
#include "text_escape.h"
#include "grow.h"

typedef struct mt_cli_list {
    char **v;
    size_t n, cap;
} mt_cli_list_t;

static int mt_cli_list_add(mt_cli_list_t *l, const char *s)
{
    if (MT_GROW(l->v, l->cap, l->n + 1, 16) < 0)
        return -ENOMEM;
    if (!(l->v[l->n] = strdup(s)))
        return -ENOMEM;
    l->n++;
    return 0;
}

static void mt_cli_list_free(mt_cli_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

int mt_cli_logs_multi(char *const *args, size_t nargs)
{
    struct stat st;
    return nargs > 1 || (nargs == 1 && stat(args[0], &st) == 0 && S_ISDIR(st.st_mode));
}

static int mt_cli_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The logs in dir (not below it), by name. Returns how many, or -errno. */
static long mt_cli_scan_dir(const char *dir, mt_cli_list_t *l)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    size_t before = l->n;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(n);
        if (!path) {
            rc = -ENOMEM;
            break;
        }
        /* "DIR/name", without doubling the slash of "DIR/" */
        snprintf(path, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
        if (mt_out_is_log(path))
            rc = mt_cli_list_add(l, path);
        free(path);
    }
    closedir(d);
    if (rc < 0)
        return rc;
    qsort(l->v + before, l->n - before, sizeof *l->v, mt_cli_strcmp);
    return (long)(l->n - before);
}

/* Arguments to log files: a directory gives its logs, a file is taken as it is (the reader
 * says what is wrong with it). */
static int mt_cli_expand(const char *cmd, char *const *args, size_t nargs, mt_cli_list_t *l,
                         int *bad)
{
    for (size_t i = 0; i < nargs; i++) {
        struct stat st;
        if (stat(args[i], &st) != 0) {
            fprintf(stderr, "memtrace: %s: %s: %s\n", cmd, args[i], strerror(errno));
            *bad = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (mt_cli_list_add(l, args[i]) < 0)
                return -ENOMEM;
            continue;
        }
        long found = mt_cli_scan_dir(args[i], l);
        if (found == -ENOMEM)
            return -ENOMEM;
        if (found < 0) {
            fprintf(stderr, "memtrace: %s: %s: %s\n", cmd, args[i], strerror((int)-found));
            *bad = 1;
        } else if (found == 0) {
            fprintf(stderr, "memtrace: %s: %s: no memtrace logs in this directory\n", cmd, args[i]);
            *bad = 1;
        }
    }
    return 0;
}

/* One line per log left out; the other runs' logs as one line, they are no error. */
static void mt_cli_tell_skipped(const char *cmd, const mt_ptree_t *t, int *bad)
{
    size_t others = 0;
    for (size_t i = 0; i < t->nskipped; i++) {
        if (strncmp(t->skipped[i].reason, "a log of another run", 20) == 0) {
            others++;
            continue;
        }
        int copy = strncmp(t->skipped[i].reason, MT_PTREE_SAME_LOG, strlen(MT_PTREE_SAME_LOG)) == 0;
        fputs("memtrace: ", stderr);
        mt_text_put(stderr, t->skipped[i].path);
        fputs(": ", stderr);
        mt_text_put(stderr, t->skipped[i].reason);
        fputs(copy ? "\n" : " (skipped)\n", stderr);
        *bad |= !copy;
    }
    if (others)
        fprintf(stderr,
                "memtrace: %s: left out %zu log%s of %zu older run%s: only the newest run is "
                "shown (give its logs alone to see another)\n",
                cmd, others, others == 1 ? "" : "s", t->other_runs, t->other_runs == 1 ? "" : "s");
    for (size_t i = 0; i < t->nimages; i++) {
        if (t->images[i].inherit == MT_INHERIT_UNKNOWN) {
            fputs("memtrace: warning: ", stderr);
            mt_text_put(stderr, t->images[i].path);
            fputs(": ", stderr);
            mt_text_put(stderr, t->images[i].inherit_note);
            fputc('\n', stderr);
        }
    }
}

static void mt_cli_multi_progress(void *arg, uint64_t done, uint64_t total)
{
    mt_cli_progress_update(arg, done, total);
}

int mt_cli_multi_tree(const char *cmd, char *const *args, size_t nargs, mt_ptree_t *t, int *bad)
{
    mt_cli_list_t l = {0};
    *bad = 0;
    if (mt_cli_expand(cmd, args, nargs, &l, bad) < 0) {
        fprintf(stderr, "memtrace: %s: %s\n", cmd, strerror(ENOMEM));
        mt_cli_list_free(&l);
        return 1;
    }
    if (l.n == 0) {
        if (!*bad)
            fprintf(stderr, "memtrace: %s: no logs given\n", cmd);
        mt_cli_list_free(&l);
        return 1;
    }
    char what[64];
    snprintf(what, sizeof what, "%zu logs", l.n);
    mt_cli_progress_t pr;
    mt_cli_progress_start(&pr, what);
    int rc = mt_ptree_build(t, l.v, l.n, mt_cli_multi_progress, &pr);
    mt_cli_progress_stop(&pr);
    mt_cli_list_free(&l);
    if (rc == -ENOMEM) {
        fprintf(stderr, "memtrace: %s: %s\n", cmd, strerror(ENOMEM));
        return 1;
    }
    mt_cli_tell_skipped(cmd, t, bad);
    if (rc < 0) {
        fprintf(stderr, "memtrace: %s: none of the files is a readable memtrace log\n", cmd);
        mt_ptree_destroy(t);
        return 1;
    }
    return 0;
}

/* The process biggest reports on, and its log (NONE: no such process). */
static size_t mt_cli_multi_pick(const mt_cli_multi_t *m, const mt_ptree_t *t, const char **log)
{
    size_t p = m->by_held ? mt_ptree_most_held(t) : mt_ptree_biggest(t);
    if (p != MT_PTREE_NONE)
        *log = m->by_held ? mt_ptree_last_log(t, p) : mt_ptree_biggest_log(t);
    return p;
}

/* The biggest process's report as one JSON value (its own document, rendered apart). */
static int mt_cli_multi_biggest_json(const mt_cli_multi_t *m, const char *log, mt_json_t *j)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return 1;
    int rc = m->biggest(log, mem, m->ctx);
    if (fclose(mem) != 0)
        rc = 1;
    if (buf && len)
        mt_json_raw(j, buf, len);
    else
        mt_json_null(j);
    free(buf);
    return rc;
}

static int mt_cli_multi_json(const mt_cli_multi_t *m, const mt_ptree_t *t)
{
    mt_json_t j;
    mt_json_init(&j, stdout, 1);
    mt_render_ptree_json(t, &j);
    int rc = 0;
    const char *log = NULL;
    size_t big = mt_cli_multi_pick(m, t, &log);
    mt_json_key(&j, m->by_held ? "most_not_freed" : "biggest");
    if (big == MT_PTREE_NONE || !m->biggest) {
        mt_json_null(&j);
    } else {
        mt_json_object_begin(&j);
        mt_json_key_u64(&j, "pid", t->procs[big].pid);
        mt_json_key_string(&j, "log", log);
        mt_json_key(&j, "report");
        rc = mt_cli_multi_biggest_json(m, log, &j);
        mt_json_object_end(&j);
    }
    mt_json_object_end(&j);
    return mt_json_finish(&j) < 0 ? 1 : rc;
}

static int mt_cli_multi_text(const mt_cli_multi_t *m, const mt_ptree_t *t)
{
    mt_ptree_render_opts_t ro = {.colour = m->colour, .as_tree = m->as_tree, .command = m->cmd};
    int rc = mt_render_ptree_text(t, stdout, &ro) < 0;
    const char *log = NULL;
    size_t big = mt_cli_multi_pick(m, t, &log);
    if (!m->biggest)
        return rc;
    if (big == MT_PTREE_NONE) {
        printf("\nno process %s\n", m->by_held ? "left anything not freed at exit" : "allocated");
        return rc;
    }
    printf("\n%sthe process with %s: pid %llu, %s%s\n", m->colour ? "\033[1m" : "",
           m->by_held ? "the most not freed at exit" : "the highest peak",
           (unsigned long long)t->procs[big].pid, m->what, m->colour ? "\033[0m" : "");
    if (fflush(stdout) != 0)
        return 1;
    return m->biggest(log, stdout, m->ctx) | rc;
}

int mt_cli_multi_run(const mt_cli_multi_t *m, char *const *args, size_t nargs)
{
    mt_ptree_t t;
    int bad;
    if (mt_cli_multi_tree(m->cmd, args, nargs, &t, &bad))
        return 1;
    int rc = m->json ? mt_cli_multi_json(m, &t) : mt_cli_multi_text(m, &t);
    int over = m->after ? m->after(&t, m->ctx) : 0;
    if (fflush(stdout) != 0) {
        fprintf(stderr, "memtrace: write error: %s\n", strerror(errno ? errno : EIO));
        rc = 1;
    }
    if (t.truncated)
        rc = 1; /* as for one log: the figures stop where those logs stop */
    mt_ptree_destroy(&t);
    return over ? over : rc || bad ? 1 : 0;
}

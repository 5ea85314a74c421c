// SPDX-License-Identifier: MIT
// A fork child's inherited heap, from its parent's log (see inherit.h). Runs once per fork
// child's log, before its first event; it may allocate (a whole analysis of the parent).
#include "inherit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One line into buf, cut to fit (a path may be longer than the note). */
__attribute__((format(printf, 3, 4))) static void mt_inherit_say(char *buf, size_t len,
                                                                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* The files that may be the parent's log, most likely first: the child's own directory (a
 * run's logs are moved together), then the path as recorded. */
static size_t mt_inherit_candidates(const mt_analysis_t *a, char cand[2][4096])
{
    const char *from = a->lineage.from_log;
    const char *base = strrchr(from, '/');
    base = base ? base + 1 : from;
    const char *slash = strrchr(a->path, '/');
    size_t n = 0;
    if (*base && slash)
        snprintf(cand[n++], 4096, "%.*s/%s", (int)(slash - a->path), a->path, base);
    else if (*base)
        snprintf(cand[n++], 4096, "%s", base);
    if (from[0] && (n == 0 || strcmp(cand[0], from) != 0))
        snprintf(cand[n++], 4096, "%s", from);
    return n;
}

/* Why the analysis p of file is not the parent of a ("" when it is). */
static void mt_inherit_check(const mt_analysis_t *a, const mt_analysis_t *p, const char *file,
                             char *why, size_t len)
{
    why[0] = '\0';
    const char *prun = p->lineage.run_id ? p->lineage.run_id : "";
    const char *crun = a->lineage.run_id ? a->lineage.run_id : "";
    if (prun[0] && crun[0] && strcmp(prun, crun) != 0)
        mt_inherit_say(why, len, "%s is a log of another run", file);
    else if (a->process.present && p->process.present && p->process.pid != a->process.ppid)
        mt_inherit_say(why, len, "%s is the log of pid %llu, not of the parent (pid %llu)", file,
                       (unsigned long long)p->process.pid, (unsigned long long)a->process.ppid);
    else if (!p->stopped_at_fork)
        mt_inherit_say(why, len, "%s has no fork number %llu (it ends first)", file,
                       (unsigned long long)a->lineage.fork_seq);
}

typedef struct mt_inherit_ctx {
    mt_replay_t *r;
    int rc;
} mt_inherit_ctx_t;

static void mt_inherit_block(const mt_block_t *b, void *arg)
{
    mt_inherit_ctx_t *c = arg;
    if (c->rc == 0)
        c->rc = mt_replay_alloc(c->r, 0, 0, b->addr, b->size, b->node, MT_ALLOC_INHERITED);
}

/* Copies p's trace nodes and live blocks into a. Ids keep their values: a's own are shifted. */
static int mt_inherit_copy(mt_analysis_t *a, const mt_analysis_t *p)
{
    /* First: should a node not fit, this log's own ids still cannot collide with the rest. */
    a->node_base = p->nodes.n - 1;
    for (uint32_t id = 1; id < p->nodes.n; id++) {
        if (!mt_nodes_valid(&p->nodes, id))
            continue;
        /* A Python frame names a location of the parent's log, which this log does not
         * define: it shows as "<python>" (location 0) rather than as a wrong line. */
        uint64_t pip = mt_nodes_ip(&p->nodes, id);
        uint64_t ip = pip & MT_PY_IP_BIT ? MT_PY_IP_BIT : pip;
        int rc = mt_nodes_define(&a->nodes, a->modules, id, p->nodes.v[id].parent, ip);
        if (rc < 0)
            return rc == -ENOMEM ? rc : -EINVAL;
    }
    mt_inherit_ctx_t c = {&a->replay, 0};
    mt_replay_each_live(&p->replay, mt_inherit_block, &c);
    return c.rc;
}

int mt_inherit_import(mt_analysis_t *a)
{
    if (a->lineage.flags & MT_ORIGIN_HEAP_LISTED) {
        a->inherit = MT_INHERIT_LISTED;
        return 0;
    }
    a->inherit = MT_INHERIT_UNKNOWN;
    if (a->no_files) {
        mt_inherit_say(a->inherit_note, sizeof a->inherit_note,
                       "the heap inherited at the fork is in the parent's log, not read here");
        return 0;
    }
    if (a->lineage.fork_seq == 0) {
        mt_inherit_say(a->inherit_note, sizeof a->inherit_note,
                       "forked by a raw clone: the heap it inherited is not known");
        return 0;
    }
    if (a->depth + 1 > MT_INHERIT_MAX_DEPTH) {
        mt_inherit_say(a->inherit_note, sizeof a->inherit_note,
                       "more than %d forks deep: the heap inherited at the fork is not counted",
                       MT_INHERIT_MAX_DEPTH);
        return 0;
    }
    char cand[2][4096], why[sizeof a->inherit_note] = "";
    size_t n = mt_inherit_candidates(a, cand);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(cand[i], &st) != 0 || !S_ISREG(st.st_mode)) {
            if (!why[0])
                mt_inherit_say(why, sizeof why, "the parent's log %s is missing", cand[i]);
            continue;
        }
        mt_analysis_t *p;
        char err[512];
        int rc =
            mt_analysis_load_upto(&p, cand[i], a->lineage.fork_seq, a->depth + 1, err, sizeof err);
        if (rc == -ENOMEM)
            return rc;
        if (rc < 0) {
            mt_inherit_say(why, sizeof why, "cannot read the parent's log: %s", err);
            continue;
        }
        mt_inherit_check(a, p, cand[i], why, sizeof why);
        if (!why[0]) {
            rc = mt_inherit_copy(a, p);
            if (rc == 0) {
                a->inherit = MT_INHERIT_IMPORTED;
                a->inherit_log = strdup(cand[i]);
                rc = a->inherit_log ? 0 : -ENOMEM;
            } else if (rc == -EINVAL) {
                mt_inherit_say(why, sizeof why, "%s: its stacks do not fit this log's", cand[i]);
                rc = 0;
            }
        }
        mt_analysis_free(p);
        if (rc < 0 || a->inherit == MT_INHERIT_IMPORTED)
            return rc;
    }
    mt_inherit_say(a->inherit_note, sizeof a->inherit_note,
                   "%s: the heap inherited at the fork is "
                   "not counted",
                   why[0] ? why : "no parent's log is named");
    return 0;
}

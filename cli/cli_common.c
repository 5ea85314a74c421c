// SPDX-License-Identifier: MIT
// Shared option and output handling of the report subcommands (see cli_common.h). This is the
// only place of the report commands that looks at the terminal and the environment.
#include "cli_common.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"
#include "log_index.h"
#include "progress.h"
#include "text_escape.h"
#include "grow.h"

int mt_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "memtrace: %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (try 'memtrace %s --help')\n", cmd);
    va_end(ap);
    return 2;
}

/* Damerau-Levenshtein distance (optimal string alignment) of two short strings; SIZE_MAX
 * when either is too long to matter. */
static size_t mt_cli_distance(const char *a, const char *b)
{
    enum { MAX = 48 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAX || lb >= MAX)
        return SIZE_MAX;
    size_t d[MAX][MAX];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

const char *mt_cli_suggest(const char *word, const char *const *cands, size_t n)
{
    /* Near enough: a third of the word's letters, at least one and at most three (git's
     * "did you mean" is about as forgiving). */
    size_t len = strlen(word), limit = len / 3;
    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t dist = mt_cli_distance(word, cands[i]);
        if (dist < best_d) {
            best_d = dist;
            best = cands[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

int mt_cli_cost(const char *cmd, const char *s, unsigned allowed, enum mt_cost *out)
{
    for (int i = 0; i < MT_NCOSTS; i++) {
        if (strcmp(s, mt_cost_name((enum mt_cost)i)) == 0 && (allowed & (1u << i))) {
            *out = (enum mt_cost)i;
            return 0;
        }
    }
    char list[96] = "";
    const char *names[MT_NCOSTS];
    size_t len = 0, n = 0;
    int known = 0;
    for (int i = 0; i < MT_NCOSTS; i++) {
        known |= strcmp(s, mt_cost_name((enum mt_cost)i)) == 0;
        if (!(allowed & (1u << i)))
            continue;
        names[n++] = mt_cost_name((enum mt_cost)i);
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "",
                                mt_cost_name((enum mt_cost)i));
    }
    if (known)
        return mt_cli_usage(cmd, "--cost %s is not one %s measures (%s)", s, cmd, list);
    const char *near = mt_cli_suggest(s, names, n);
    if (near)
        return mt_cli_usage(cmd, "unknown cost '%s'; did you mean '%s'? (%s)", s, near, list);
    return mt_cli_usage(cmd, "unknown cost '%s' (%s)", s, list);
}

int mt_cli_choice(const char *cmd, const char *opt, const char *s, const char *const *names,
                  size_t n)
{
    char list[256];
    size_t len = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0)
            return (int)i;
        if (len < sizeof list)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
    }
    /* a value cut short ("leak") means the one it begins, before the nearest by spelling */
    const char *near = NULL;
    size_t len_s = strlen(s), begins = 0;
    for (size_t i = 0; i < n && len_s; i++)
        if (strncmp(names[i], s, len_s) == 0 && ++begins == 1)
            near = names[i];
    if (begins != 1)
        near = mt_cli_suggest(s, names, n);
    if (near)
        mt_cli_usage(cmd, "unknown %s '%s'; did you mean '%s'? (%s)", opt, s, near, list);
    else
        mt_cli_usage(cmd, "unknown %s '%s' (%s)", opt, s, list);
    return -1;
}

int mt_cli_format_json(const char *cmd, const char *s)
{
    static const char *const formats[] = {"text", "json"};
    return mt_cli_choice(cmd, "--format", s, formats, 2);
}

int mt_cli_top(const char *cmd, const char *s, size_t *out)
{
    if (mt_cli_number(cmd, "--top", s, 1000000, out) < 0)
        return 2;
    if (*out == 0)
        *out = SIZE_MAX; /* 0: no limit, in every command */
    return 0;
}

int mt_cli_number(const char *cmd, const char *opt, const char *s, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v > max) {
        mt_cli_usage(cmd, "%s needs a number from 0 to %zu, got '%s'", opt, max, s);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

int mt_cli_size(const char *cmd, const char *opt, const char *s, uint64_t *out)
{
    mt_diff_threshold_t t;
    if (mt_diff_threshold_parse(s, &t) < 0 || t.percent || t.value >= 18446744073709551615.0) {
        mt_cli_usage(cmd, "%s needs a size in bytes (4096, 64K, 10MiB, 1.5G), got '%s'", opt, s);
        return -1;
    }
    *out = (uint64_t)t.value;
    return 0;
}

int mt_cli_bad_option(const char *cmd, int c, char **argv, const struct option *longopts)
{
    if (c == ':')
        return mt_cli_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
    const char *arg = argv[optind - 1];
    int is_long = strncmp(arg, "--", 2) == 0;
    /* the name as given, without "--" and "=VALUE" */
    char name[64] = "";
    if (is_long)
        snprintf(name, sizeof name, "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
    /* getopt_long sets optopt to the val of a long option that takes no value and got one */
    for (size_t i = 0; is_long && optopt && longopts && longopts[i].name; i++)
        if (strchr(arg, '=') && longopts[i].val == optopt && longopts[i].has_arg == no_argument &&
            strncmp(longopts[i].name, name, strlen(name)) == 0)
            return mt_cli_usage(cmd, "option '--%s' takes no value", longopts[i].name);
    if (optopt)
        return mt_cli_usage(cmd, "unknown option '-%c'", optopt);
    if (!is_long || !longopts)
        return mt_cli_usage(cmd, "unknown option '%s'", arg);
    const char *names[64];
    size_t n = 0, prefixed = 0;
    char amb[256] = "";
    size_t alen = 0;
    for (size_t i = 0; longopts[i].name && n < 64; i++) {
        names[n++] = longopts[i].name;
        /* getopt_long takes a unique prefix: one of several is ambiguous, not unknown */
        if (name[0] && strncmp(longopts[i].name, name, strlen(name)) == 0 &&
            !(longopts[i].flag == NULL && i > 0 && longopts[i - 1].val == longopts[i].val)) {
            prefixed++;
            alen += (size_t)snprintf(amb + alen, alen < sizeof amb ? sizeof amb - alen : 0,
                                     "%s--%s", alen ? ", " : "", longopts[i].name);
        }
    }
    if (prefixed > 1 && alen < sizeof amb)
        return mt_cli_usage(cmd, "option '--%s' is ambiguous: %s", name, amb);
    const char *near = mt_cli_suggest(name, names, n);
    if (near)
        return mt_cli_usage(cmd, "unknown option '--%s'; did you mean '--%s'?", name, near);
    return mt_cli_usage(cmd, "unknown option '--%s'", name);
}

int mt_cli_one_path(const char *cmd, int argc, char **argv, const char **path)
{
    if (optind >= argc)
        return mt_cli_usage(cmd, "no log file given");
    if (optind + 1 < argc)
        return mt_cli_usage(cmd, "one log file at a time, got '%s' too", argv[optind + 1]);
    *path = argv[optind];
    return 0;
}

/* --thread values: argv strings, which live as long as the command */
static struct {
    const char **v;
    size_t n, cap;
    int allow_missing;
} mt_cli_threads;

void mt_cli_add_thread(const char *value)
{
    if (MT_GROW(mt_cli_threads.v, mt_cli_threads.cap, mt_cli_threads.n + 1, 4) < 0) {
        fprintf(stderr, "memtrace: %s\n", strerror(ENOMEM));
        exit(1);
    }
    mt_cli_threads.v[mt_cli_threads.n++] = value;
}

/* ---- --from / --to (issue 18) ---- */

enum { MT_CLI_T_SECONDS, MT_CLI_T_START, MT_CLI_T_END, MT_CLI_T_PEAK, MT_CLI_T_MARK };
typedef struct mt_cli_time {
    int given, kind;
    uint64_t us;      /* MT_CLI_T_SECONDS, and MT_CLI_T_MARK once resolved */
    const char *mark; /* MT_CLI_T_MARK: the name memtrace_mark was given (memtrace.h) */
    uint32_t mark_k;  /* MT_CLI_T_MARK, resolved: the mark's place among the log's, from 1 */
    const char *text;
} mt_cli_time_t;
static struct {
    const char *cmd;
    mt_cli_time_t from, to;
} mt_cli_win;

static const char *const mt_cli_time_words[] = {"start", "end", "peak"};

/* A mark's name as T: "mark:NAME", or a bare name that is no number and no near miss of one
 * of the words (a typo of "peak" stays an error, told at once). */
static const char *mt_cli_time_mark(const char *s)
{
    if (strncmp(s, "mark:", 5) == 0)
        return s[5] ? s + 5 : NULL;
    /* a bare name begins with a letter or '_': "-1" is no mark but a bad number */
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_') ||
        mt_cli_suggest(s, mt_cli_time_words, 3))
        return NULL;
    for (const char *c = s; *c; c++)
        if (!(*c == '_' || *c == '-' || *c == '.' || (*c >= '0' && *c <= '9') ||
              (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
            return NULL;
    return s;
}

/* Parses T: 0, or -1 when s is neither a number of seconds, one of the words nor a mark. */
static int mt_cli_time_parse(const char *s, mt_cli_time_t *t)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, mt_cli_time_words[i]) == 0) {
            t->kind = MT_CLI_T_START + i;
            return 0;
        }
    if ((t->mark = mt_cli_time_mark(s)) != NULL) {
        t->kind = MT_CLI_T_MARK;
        return 0;
    }
    /* decimal seconds, digits and at most one point: no sign, exponent, inf or hex; read
     * digit by digit into microseconds (no strtod: no locale, no rounding of 0.1) */
    size_t digits = strspn(s, "0123456789"), frac = 0;
    if (s[digits] == '.')
        frac = strspn(s + digits + 1, "0123456789");
    if (digits + frac == 0 || s[digits + (s[digits] == '.' ? 1 + frac : 0)] != '\0' || digits > 9)
        return -1;
    uint64_t us = 0;
    for (size_t i = 0; i < digits; i++)
        us = us * 10 + (uint64_t)(s[i] - '0');
    const char *f = s + digits + 1;
    for (size_t i = 0; i < 6; i++)
        us = us * 10 + (i < frac ? (uint64_t)(f[i] - '0') : 0);
    if (frac > 6 && f[6] >= '5') /* to the nearest microsecond */
        us++;
    t->kind = MT_CLI_T_SECONDS;
    t->us = us;
    return 0;
}

int mt_cli_window_is_time(const char *s)
{
    mt_cli_time_t t;
    /* a bare name is export's format before it is a mark: there a mark is mark:NAME */
    return mt_cli_time_parse(s, &t) == 0 &&
           (t.kind != MT_CLI_T_MARK || strncmp(s, "mark:", 5) == 0);
}

int mt_cli_window_option(const char *cmd, int c, const char *value)
{
    if (c != MT_CLI_OPT_FROM && c != MT_CLI_OPT_TO)
        return 0;
    const char *opt = c == MT_CLI_OPT_FROM ? "--from" : "--to";
    mt_cli_time_t *t = c == MT_CLI_OPT_FROM ? &mt_cli_win.from : &mt_cli_win.to;
    mt_cli_win.cmd = cmd;
    if (mt_cli_time_parse(value, t) < 0) {
        const char *near = mt_cli_suggest(value, mt_cli_time_words, 3);
        if (near)
            mt_cli_usage(cmd,
                         "unknown %s '%s'; did you mean '%s'? (SECONDS, start, end, peak, MARK)",
                         opt, value, near);
        else
            mt_cli_usage(cmd,
                         "%s needs seconds since the start (1.5), start, end, peak or a mark's "
                         "name, got '%s'",
                         opt, value);
        return -1;
    }
    t->given = 1;
    t->text = value;
    return 1;
}

int mt_cli_window_one_log(const char *cmd)
{
    if (!mt_cli_win.from.given && !mt_cli_win.to.given)
        return 0;
    return mt_cli_usage(cmd, "--from and --to take one log, not several or a directory");
}

/* Seconds for a message: "2.403 s". */
static void mt_cli_seconds(char *buf, size_t len, uint64_t us)
{
    snprintf(buf, len, "%llu.%03llu s", (unsigned long long)(us / 1000000),
             (unsigned long long)(us % 1000000 / 1000));
}

/* A bound that names a mark, as the time of the mark's first call: 0, or 2 after the usage
 * error naming the log's marks when it has none of that name. */
static int mt_cli_window_mark(mt_cli_time_t *t, const char *opt, const mt_marks_t *marks)
{
    if (!t->given || t->kind != MT_CLI_T_MARK)
        return 0;
    long k = mt_marks_find(marks, t->mark);
    if (k >= 0) {
        t->us = marks->v[k].time_us;
        t->mark_k = (uint32_t)k + 1;
        return 0;
    }
    char names[160] = "";
    size_t len = 0;
    for (size_t i = 0; i < marks->n && len + 4 < sizeof names; i++) {
        int dup = 0;
        for (size_t j = 0; j < i; j++)
            dup |= strcmp(marks->v[j].name, marks->v[i].name) == 0;
        if (!dup)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "",
                                    marks->v[i].name);
    }
    if (len >= sizeof names)
        strcpy(names + sizeof names - 4, "...");
    if (!marks->n)
        return mt_cli_usage(mt_cli_win.cmd,
                            "%s '%s': the log has no marks (memtrace_mark, memtrace.h); give "
                            "seconds since the start (1.5), start, end or peak",
                            opt, t->text);
    return mt_cli_usage(mt_cli_win.cmd, "%s '%s': no mark of that name in the log (marks: %s)", opt,
                        t->text, names);
}

/* The window of --from/--to in the log's microseconds: 0, or 2 after the usage error when it
 * is empty (from after to) or names a mark the log lacks. peak_us is the heap's peak and marks
 * the log's marks (read when a bound wants them, else 0 and NULL). */
static int mt_cli_window_resolve(mt_window_t *w, uint64_t peak_us, const mt_marks_t *marks)
{
    mt_cli_time_t *f = &mt_cli_win.from, *t = &mt_cli_win.to;
    int rc;
    if (marks && ((rc = mt_cli_window_mark(f, "--from", marks)) != 0 ||
                  (rc = mt_cli_window_mark(t, "--to", marks)) != 0))
        return rc;
    w->on = 1;
    w->from_us = !f->given || f->kind == MT_CLI_T_START ? 0
                 : f->kind == MT_CLI_T_END              ? UINT64_MAX
                 : f->kind == MT_CLI_T_PEAK             ? peak_us
                                                        : f->us;
    w->to_us = !t->given || t->kind == MT_CLI_T_END ? UINT64_MAX
               : t->kind == MT_CLI_T_START          ? 0
               : t->kind == MT_CLI_T_PEAK           ? peak_us
                                                    : t->us;
    w->to_mark = t->given && t->kind == MT_CLI_T_MARK ? t->mark_k : 0;
    if (w->from_us > w->to_us && !(f->given && f->kind == MT_CLI_T_END)) {
        char fs[40] = "", ts[40] = "";
        if (f->kind >= MT_CLI_T_PEAK) /* peak or a mark: say when it was */
            mt_cli_seconds(fs, sizeof fs, w->from_us);
        if (t->kind >= MT_CLI_T_PEAK)
            mt_cli_seconds(ts, sizeof ts, w->to_us);
        return mt_cli_usage(mt_cli_win.cmd, "--from %s%s%s%s is after --to %s%s%s%s", f->text,
                            fs[0] ? " (" : "", fs, fs[0] ? ")" : "", t->text, ts[0] ? " (" : "", ts,
                            ts[0] ? ")" : "");
    }
    return 0;
}

/* After loading over w: 0, or 2 after the usage error when a time given in seconds is past
 * the end of the log. */
static int mt_cli_window_check(const mt_analysis_t *a)
{
    if (!a->window_at_end)
        return 0; /* the replay stopped at --to: the log goes on after it */
    uint64_t end = a->replay.last_time_us;
    const mt_cli_time_t *bad = NULL;
    if (mt_cli_win.to.given && mt_cli_win.to.kind == MT_CLI_T_SECONDS && mt_cli_win.to.us > end)
        bad = &mt_cli_win.to;
    else if (mt_cli_win.from.given && mt_cli_win.from.kind == MT_CLI_T_SECONDS &&
             mt_cli_win.from.us > end)
        bad = &mt_cli_win.from;
    if (!bad)
        return 0;
    char es[40];
    mt_cli_seconds(es, sizeof es, end);
    return mt_cli_usage(mt_cli_win.cmd, "%s %s is past the end of the log (%s)",
                        bad == &mt_cli_win.to ? "--to" : "--from", bad->text, es);
}

int mt_cli_shared_option(int c, const char *value, int *show_import)
{
    switch (c) {
    case MT_CLI_OPT_THREAD:
        mt_cli_add_thread(value);
        return 1;
    case MT_CLI_OPT_FULL_NAMES:
        mt_names_set_full(1);
        return 1;
    case MT_CLI_OPT_SHOW_IMPORT:
        *show_import = 1;
        return 1;
    default:
        return 0;
    }
}

int mt_cli_other_option(const char *cmd, int c, char **argv, const struct option *longopts,
                        void (*usage)(FILE *), int *show_import)
{
    if (mt_cli_shared_option(c, optarg, show_import))
        return -1;
    int w = mt_cli_window_option(cmd, c, optarg);
    if (w)
        return w > 0 ? -1 : 2;
    if (c == 'h') {
        usage(stdout);
        return 0;
    }
    return mt_cli_bad_option(cmd, c, argv, longopts);
}

void mt_cli_threads_allow_missing(void)
{
    mt_cli_threads.allow_missing = 1;
}

int mt_cli_threads_one_log(const char *cmd)
{
    if (!mt_cli_threads.n)
        return mt_cli_window_one_log(cmd); /* a window is one log's clock, too */
    return mt_cli_usage(cmd, "--thread takes one log, not several or a directory: give the log "
                             "of the thread's process");
}

int mt_cli_check_threads(const char *cmd, mt_analysis_t *const *a, size_t n)
{
    for (size_t i = 0; i < mt_cli_threads.n; i++) {
        int known = 0;
        for (size_t k = 0; k < n && !known; k++)
            known = mt_analysis_thread_known(a[k], mt_cli_threads.v[i]);
        if (!known) {
            fprintf(stderr, "memtrace: %s: no thread '%s' in %s\n", cmd, mt_cli_threads.v[i],
                    n > 1 ? "either log" : "the log");
            return 1;
        }
    }
    return 0;
}

int mt_cli_site_options(const char *cmd, int argc, char **argv, void (*usage)(FILE *),
                        mt_cli_site_opts_t *o)
{
    enum { OPT_FORMAT = 1, OPT_TOP, OPT_FRAMES, OPT_NO_COLOR };
    static const struct option common[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"top", required_argument, NULL, OPT_TOP},
        {"frames", required_argument, NULL, OPT_FRAMES},
        {"no-color", no_argument, NULL, OPT_NO_COLOR},
        {"no-colour", no_argument, NULL, OPT_NO_COLOR},
        MT_CLI_SHARED_OPTIONS,
        MT_CLI_WINDOW_OPTIONS,
    };
    /* the shared table, then the command's own options (their values are >= MT_CLI_OPT_OWN) */
    struct option longopts[sizeof common / sizeof common[0] + MT_CLI_MAX_OWN + 1];
    size_t n = 0;
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        longopts[n++] = common[i];
    for (size_t i = 0; o->own && o->own[i].name && i < MT_CLI_MAX_OWN; i++)
        longopts[n++] = o->own[i];
    longopts[n] = (struct option){NULL, 0, NULL, 0};
    opterr = 0; /* our own messages, in the house format */
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if ((o->json = mt_cli_format_json(cmd, optarg)) < 0)
                return 2;
            break;
        case OPT_TOP:
            if (mt_cli_top(cmd, optarg, &o->top))
                return 2;
            break;
        case OPT_FRAMES:
            if (mt_cli_number(cmd, "--frames", optarg, 100000, &o->frames) < 0)
                return 2;
            break;
        case OPT_NO_COLOR:
            o->no_color = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            if (mt_cli_shared_option(c, optarg, &o->show_import))
                break;
            int w = mt_cli_window_option(cmd, c, optarg);
            if (w < 0)
                return 2;
            if (w > 0)
                break;
            if (c >= MT_CLI_OPT_OWN && o->on_own) {
                if (o->on_own(cmd, c, optarg, o->own_ctx) < 0)
                    return 2;
                break;
            }
            return mt_cli_bad_option(cmd, c, argv, longopts);
        }
    }
    if (!o->multi_ok)
        return mt_cli_one_path(cmd, argc, argv, &o->path) ? 2 : -1;
    if (optind >= argc)
        return mt_cli_usage(cmd, "no log file given");
    o->paths = argv + optind;
    o->npaths = (size_t)(argc - optind);
    o->path = o->paths[0];
    return -1;
}

int mt_cli_tree_option(const char *cmd, int opt, const char *value, void *ctx)
{
    (void)cmd;
    (void)opt;
    (void)value;
    ((mt_cli_site_opts_t *)ctx)->as_tree = 1;
    return 0;
}

int mt_cli_colour(int no_color)
{
    /* NO_COLOR: "when present and not an empty string" (no-color.org). */
    const char *nc = getenv("NO_COLOR");
    return !no_color && !(nc && nc[0]) && isatty(STDOUT_FILENO);
}

/* The whole log: from its index when it has a good one, else read, leaving an index for the
 * next command (log_index.h; a log that may still grow gets none). */
static int mt_cli_load_whole(const char *path, mt_analysis_t **a, char *err, size_t errlen)
{
    if (mt_index_load(a, path))
        return 0;
    mt_cli_progress_t pr;
    mt_cli_progress_start(&pr, path);
    int rc = mt_analysis_load_progress(a, path, mt_cli_progress_update, &pr, err, errlen);
    mt_cli_progress_stop(&pr);
    if (rc == 0)
        (void)!mt_index_save(*a, path); /* only a cache: a log in a read-only place has none */
    return rc;
}

int mt_cli_load(const char *path, mt_analysis_t **a, mt_symbolizer_t **sym)
{
    char err[512];
    mt_cli_progress_t pr;
    mt_window_t win = {0};
    int rc;
    if (mt_cli_win.from.given || mt_cli_win.to.given) {
        uint64_t peak_us = 0;
        mt_analysis_t *whole = NULL;
        if ((mt_cli_win.from.given && mt_cli_win.from.kind >= MT_CLI_T_PEAK) ||
            (mt_cli_win.to.given && mt_cli_win.to.kind >= MT_CLI_T_PEAK)) {
            /* the heap's peak (the process's, whatever --thread) and the marks need a pass of
             * their own */
            rc = mt_cli_load_whole(path, &whole, err, sizeof err);
            if (rc < 0) {
                fprintf(stderr, "memtrace: %s\n", err);
                return 1;
            }
            peak_us = whole->replay.peak_time_us;
        }
        rc = mt_cli_window_resolve(&win, peak_us, whole ? &whole->marks : NULL);
        mt_analysis_free(whole);
        if (rc != 0)
            return rc;
    }
    mt_cli_progress_start(&pr, path);
    mt_thread_filter_t f = {mt_cli_threads.v, mt_cli_threads.n, mt_cli_threads.allow_missing};
    if (!win.on && f.n == 0) {
        mt_cli_progress_stop(&pr);
        rc = mt_cli_load_whole(path, a, err, sizeof err);
    } else if (mt_index_load_sel(a, path, &win, &f)) {
        /* this window and these threads were read before (docs/index.md, "Windows") */
        mt_cli_progress_stop(&pr);
        rc = 0;
    } else {
        rc = mt_analysis_load_window(a, path, &f, &win, mt_cli_progress_update, &pr, err,
                                     sizeof err);
        mt_cli_progress_stop(&pr);
        if (rc == 0) /* only a cache, as the whole log's */
            (void)!mt_index_save_sel(*a, path, &win, &f);
    }
    if (rc < 0) {
        fprintf(stderr, "memtrace: %s\n", err);
        return 1;
    }
    if ((*a)->aggregated && (!(*a)->agg_done || win.on || f.n)) {
        if (!(*a)->agg_done)
            fprintf(stderr,
                    "memtrace: %s: aggregated log without its figures: the process did not "
                    "reach its end (they are written at exit, exec or a fatal signal)\n",
                    path);
        else
            fprintf(stderr,
                    "memtrace: %s: aggregated log (memtrace run --aggregate): it has no events "
                    "for --from, --to or --thread to select\n",
                    path);
        mt_analysis_free(*a);
        *a = NULL;
        return 1;
    }
    if (win.on && (rc = mt_cli_window_check(*a)) != 0) {
        mt_analysis_free(*a);
        *a = NULL; /* callers free what they were given on every path */
        return rc;
    }
    if (sym && mt_symbolizer_new(sym, (*a)->modules) < 0) {
        mt_analysis_free(*a);
        return mt_cli_oom(path);
    }
    return 0;
}

int mt_cli_need_events(const char *cmd, const mt_analysis_t *a, const char *what)
{
    if (!a->aggregated)
        return 0;
    fprintf(stderr,
            "memtrace: %s: %s is an aggregated log (memtrace run --aggregate): it has no %s; "
            "record without --aggregate\n",
            cmd, a->path, what);
    return 1;
}

int mt_cli_oom(const char *path)
{
    fprintf(stderr, "memtrace: %s: %s\n", path, strerror(ENOMEM));
    return 1;
}

int mt_cli_load_as(const char *path, int show_import, int sites_only, mt_analysis_t **a,
                   mt_symbolizer_t **sym)
{
    int rc = mt_cli_load(path, a, sym);
    if (rc)
        return rc;
    (*a)->show_import_machinery = show_import;
    if (sites_only)
        mt_replay_drop_blocks(&(*a)->replay);
    return 0;
}

int mt_cli_report_log(const char *path, FILE *out, int show_import, int sites_only,
                      mt_cli_report_fn fn, void *ctx)
{
    mt_analysis_t *a;
    mt_symbolizer_t *sym;
    int rc = mt_cli_load_as(path, show_import, sites_only, &a, &sym);
    if (rc)
        return rc;
    rc = fn(path, out, a, sym, ctx);
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
    return rc;
}

int mt_cli_finish(const char *path, const mt_analysis_t *a, int render_rc)
{
    int rc = 0;
    if (fflush(stdout) != 0 || render_rc < 0) {
        fprintf(stderr, "memtrace: write error: %s\n", strerror(errno ? errno : EIO));
        rc = 1;
    }
    if (a->truncated) {
        fprintf(stderr, "memtrace: %s: %s (%s)\n", path, a->truncation, a->cut_reason);
        rc = 1;
    }
    /* The report is complete for what the child did; only what it started with is missing. */
    if (a->inherit == MT_INHERIT_UNKNOWN) {
        fprintf(stderr, "memtrace: warning: %s: ", path);
        mt_text_put(stderr, a->inherit_note); /* names another file, from the log */
        fputc('\n', stderr);
    }
    return rc;
}

FILE *mt_cli_open_out(mt_out_t *o, const char *cmd, const char *out_path)
{
    return mt_out_open(o, cmd, out_path);
}

int mt_cli_close_out(mt_out_t *o, const char *path, const mt_analysis_t *a, int render_rc)
{
    int rc = mt_out_close(o, render_rc);
    return mt_cli_finish(path, a, 0) | rc; /* and what the log lacks, whatever the output */
}

// SPDX-License-Identifier: MIT
// The live view of `memtrace run --live` (see run_live.h). Two threads: a reader that follows
// the root's logs into an analysis (holding `mu` except between two records when the view
// asks, and while it waits for the writer), and this view, which takes `mu` once a second to
// rank the sites and symbolize the few on screen. Never leave the terminal in raw mode: every
// way out of the view goes through mt_live_restore, and ^Z restores it before stopping.
#include "run_live.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "analysis.h"
#include "fmt.h"
#include "live.h"
#include "log_format.h"
#include "run_manifest.h"
#include "run_summary.h"
#include "symbolizer.h"
#include "text_escape.h"

#define MT_LIVE_REFRESH_MS 1000
/* The reader's naps while it has caught up with the writer (as run_follow.c's). */
#define MT_LIVE_NAP_MIN_NS (10 * 1000 * 1000LL)
#define MT_LIVE_NAP_MAX_NS (320 * 1000 * 1000LL)
#define MT_LIVE_HEADER_LINES 6
#define MT_LIVE_FOOTER_LINES 1

/* ---- the reader thread ---- */

typedef struct mt_live_done {
    char *path;
    mt_summary_t sum;
} mt_live_done_t;

struct mt_run_live {
    pthread_t thread;
    char *manifest; /* the run's logs (run_manifest.h); NULL for attach */
    char *path;     /* attach: the one log */
    long root;
    pthread_mutex_t mu; /* the analysis and everything below; held by the reader while it reads */
    pthread_cond_t cv;  /* with mu: wakes the reader when the program ends or the view stops */
    int want;           /* atomic: the view waits for mu */
    int ended;          /* atomic: the program has ended, its logs are complete */
    int stop;           /* atomic: the view is gone, stop reading */
    int final_pass;
    long long nap_ns;
    uint64_t last_bytes;
    /* under mu */
    mt_analysis_t *a;     /* the log being read (NULL before the first, between images) */
    mt_analysis_t *done;  /* a previous image's analysis, kept until the next one starts */
    mt_live_t *live;      /* the figures of a's log */
    mt_symbolizer_t *sym; /* the view's, for a */
    const void *sym_for;  /* the analysis sym was made for */
    int logs;             /* logs started */
    char err[512];        /* the last log that could not be read */
    bool joined;
    mt_live_done_t *results; /* logs read to their end, for the run's summary */
    size_t nresults;
};
typedef struct mt_run_live mt_live_reader_t;

static bool mt_live_flag(const int *f)
{
    return __atomic_load_n(f, __ATOMIC_ACQUIRE);
}

static long long mt_live_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* With mu held: lets the view in for as long as it wants it. */
static void mt_live_yield(mt_live_reader_t *r)
{
    pthread_mutex_unlock(&r->mu);
    while (mt_live_flag(&r->want)) {
        struct timespec t = {0, 1000 * 1000};
        nanosleep(&t, NULL);
    }
    pthread_mutex_lock(&r->mu);
}

/* With mu held: sleeps (mu released) one nap, or until the program ends or the view stops. */
static void mt_live_nap(mt_live_reader_t *r, bool idle)
{
    if (idle && r->nap_ns)
        r->nap_ns = r->nap_ns * 2 < MT_LIVE_NAP_MAX_NS ? r->nap_ns * 2 : MT_LIVE_NAP_MAX_NS;
    else
        r->nap_ns = MT_LIVE_NAP_MIN_NS;
    long long end = mt_live_now_ns() + r->nap_ns;
    struct timespec until = {(time_t)(end / 1000000000LL), (long)(end % 1000000000LL)};
    while (!mt_live_flag(&r->ended) && !mt_live_flag(&r->stop) &&
           pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
        ;
}

/* mt_follow_fn, on the reader's own thread (mt_analysis_load_live): between two records. */
static int mt_live_follow(void *arg, uint64_t bytes_read)
{
    mt_live_reader_t *r = arg;
    if (mt_live_flag(&r->stop))
        return 0;
    if (mt_live_flag(&r->ended)) {
        if (r->final_pass)
            return 0;
        r->final_pass = 1;
        return 1;
    }
    mt_live_nap(r, bytes_read == r->last_bytes);
    r->last_bytes = bytes_read;
    return 1;
}

static int mt_live_tick(void *arg, mt_analysis_t *a)
{
    mt_live_reader_t *r = arg;
    r->a = a;
    if (mt_live_flag(&r->want))
        mt_live_yield(r);
    return mt_live_flag(&r->stop);
}

static void mt_live_alloc(void *arg, uint32_t node, uint64_t tid, uint64_t size)
{
    mt_live_on_alloc(((mt_live_reader_t *)arg)->live, node, tid, size);
}

/* The path of the root's n-th log, or NULL when it is not listed (yet). */
static char *mt_live_nth_log(const mt_live_reader_t *r, size_t n)
{
    if (r->path) /* attach: one log, and no exec follows it there */
        return n == 0 ? strdup(r->path) : NULL;
    return mt_run_manifest_nth_log(r->manifest, r->root, n);
}

static void mt_live_drop_analysis(mt_live_reader_t *r)
{
    mt_symbolizer_free(r->sym);
    r->sym = NULL;
    r->sym_for = NULL;
    mt_analysis_free(r->done);
    r->done = NULL;
    mt_live_free(r->live);
    r->live = NULL;
}

static void *mt_live_main(void *arg)
{
    mt_live_reader_t *r = arg;
    /* Below the program's priority, as the run's follower (run_follow.c). */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
    pthread_mutex_lock(&r->mu);
    for (size_t n = 0; !mt_live_flag(&r->stop); n++) {
        char *path;
        for (;;) {
            bool ended = mt_live_flag(&r->ended); /* before reading: the last look is whole */
            path = mt_live_nth_log(r, n);
            if (path || ended || mt_live_flag(&r->stop))
                break;
            mt_live_nap(r, true);
        }
        if (!path)
            break;
        mt_live_t *live;
        if (mt_live_new(&live) < 0) {
            free(path);
            break;
        }
        mt_live_drop_analysis(r);
        r->live = live;
        r->logs++;
        r->final_pass = 0;
        r->last_bytes = 0;
        mt_analysis_t *a = NULL;
        mt_live_hooks_t hooks = {.tick = mt_live_tick, .alloc = mt_live_alloc, .arg = r};
        int rc = mt_analysis_load_live(&a, path, mt_live_follow, r, &hooks, r->err, sizeof r->err);
        r->a = NULL;
        if (rc < 0) {
            free(path);
            break;
        }
        r->done = a;
        /* read to its end: the summary of the run needs no second reading */
        mt_live_done_t *nr =
            mt_live_flag(&r->stop) ? NULL : realloc(r->results, (r->nresults + 1) * sizeof *nr);
        if (nr) {
            r->results = nr;
            nr[r->nresults].path = path;
            mt_summary_of_analysis(a, &nr[r->nresults].sum);
            r->nresults++;
        } else {
            free(path);
        }
        if (!a->replay.has_exit || a->replay.exit_reason != MT_EXIT_EXEC)
            break;
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Reads the root's logs listed in manifest, or (manifest NULL) the one log at path. */
static mt_live_reader_t *mt_live_reader_start(const char *manifest, const char *path, pid_t root)
{
    mt_live_reader_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->root = (long)root;
    r->manifest = manifest ? strdup(manifest) : NULL;
    r->path = manifest ? NULL : strdup(path);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int ok = (r->manifest || r->path) && pthread_mutex_init(&r->mu, NULL) == 0;
    if (ok && pthread_cond_init(&r->cv, &ca) != 0) {
        pthread_mutex_destroy(&r->mu);
        ok = 0;
    }
    pthread_condattr_destroy(&ca);
    if (!ok) {
        free(r->manifest);
        free(r->path);
        free(r);
        return NULL;
    }
    /* Signals are for the main thread (it forwards some to the program). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&r->thread, NULL, mt_live_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        return r;
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r->manifest);
    free(r->path);
    free(r);
    return NULL;
}

/* The program has ended (its logs are complete): the reader reads them to their end. */
static void mt_live_reader_finish(mt_live_reader_t *r)
{
    if (!r || r->joined)
        return;
    pthread_mutex_lock(&r->mu);
    __atomic_store_n(&r->ended, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    r->joined = true;
    mt_live_drop_analysis(r);
}

bool mt_run_live_result(const mt_run_live_t *r, const char *path, mt_summary_t *out)
{
    for (size_t i = 0; r && i < r->nresults; i++) {
        if (strcmp(r->results[i].path, path) == 0) {
            *out = r->results[i].sum;
            return true;
        }
    }
    return false;
}

void mt_run_live_free(mt_run_live_t *r)
{
    if (!r)
        return;
    if (!r->joined) { /* without the program's end: stop where it is */
        __atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
        mt_live_reader_finish(r);
    }
    for (size_t i = 0; i < r->nresults; i++)
        free(r->results[i].path);
    free(r->results);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r->manifest);
    free(r->path);
    free(r);
}

/* The view's turn: the reader yields at its next tick or is napping. */
static void mt_live_lock(mt_live_reader_t *r)
{
    __atomic_store_n(&r->want, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&r->mu);
}

static void mt_live_unlock(mt_live_reader_t *r)
{
    pthread_mutex_unlock(&r->mu);
    __atomic_store_n(&r->want, 0, __ATOMIC_RELEASE);
}

/* ---- the terminal ---- */

static int mt_live_tty = -1;
static struct termios mt_live_saved;
static volatile sig_atomic_t mt_live_raw; /* the terminal is in the view's modes */
static volatile sig_atomic_t mt_live_resized, mt_live_resumed;

#define MT_LIVE_ENTER "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J"
#define MT_LIVE_LEAVE "\x1b[?25h\x1b[?1049l"

static void mt_live_write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

/* Async-signal-safe: tcsetattr and write only. */
static void mt_live_restore(void)
{
    if (!mt_live_raw)
        return;
    mt_live_raw = 0;
    mt_live_write_all(STDOUT_FILENO, MT_LIVE_LEAVE, sizeof MT_LIVE_LEAVE - 1);
    tcsetattr(mt_live_tty, TCSAFLUSH, &mt_live_saved);
}

/* No echo, keys one at a time; ISIG stays, so ^C from the terminal still reaches the program
 * (memtrace itself ignores it while the program runs, as without --live). */
static int mt_live_enter(void)
{
    struct termios t = mt_live_saved;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(mt_live_tty, TCSAFLUSH, &t) != 0)
        return -1;
    mt_live_raw = 1;
    mt_live_write_all(STDOUT_FILENO, MT_LIVE_ENTER, sizeof MT_LIVE_ENTER - 1);
    return 0;
}

static void mt_live_on_tstp(int sig)
{
    (void)sig;
    int saved = errno;
    mt_live_restore();
    signal(SIGTSTP, SIG_DFL);
    raise(SIGTSTP); /* delivered when this handler returns: SIGTSTP is blocked in it */
    errno = saved;
}

/* A crash of memtrace itself: the terminal first, then the signal's own action (a core). */
static void mt_live_on_fatal(int sig)
{
    mt_live_restore();
    raise(sig); /* SA_RESETHAND: the default action, once this handler returns */
}

static const int mt_live_fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
#define MT_LIVE_NFATAL (sizeof mt_live_fatal / sizeof mt_live_fatal[0])

static void mt_live_on_cont(int sig)
{
    (void)sig;
    mt_live_resumed = 1;
}

static void mt_live_on_winch(int sig)
{
    (void)sig;
    mt_live_resized = 1;
}

int mt_run_live_check(const char *command)
{
    int fd = -1;
    if (isatty(STDOUT_FILENO))
        fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        fprintf(stderr,
                "memtrace: %s: --live needs a terminal: standard output is not one (record "
                "without --live and read the log with 'memtrace report')\n",
                command);
        return 2;
    }
    close(fd);
    return 0;
}

/* ---- the view ---- */

typedef struct mt_live_view {
    mt_live_reader_t *r;
    char *const *argv;
    pid_t pid;
    bool attached; /* memtrace attach: q ends the recording, not only the view */
    enum mt_live_sort sort;
    int one_thread;
    uint64_t tid; /* the thread shown when one_thread */
    size_t scroll, shown, total;
    int rows, cols;
    long long start_ns, rate_ns;
    uint64_t rate_events, rate;
    char *buf; /* the screen, drawn whole at each refresh */
    size_t len, cap;
} mt_live_view_t;

static const char *const mt_live_sort_names[] = {"held bytes", "bytes allocated",
                                                 "allocation count"};

static void mt_live_put(mt_live_view_t *v, const char *s, size_t n)
{
    if (v->len + n + 1 > v->cap) {
        size_t cap = v->cap ? v->cap : 8192;
        while (v->len + n + 1 > cap)
            cap *= 2;
        char *nb = realloc(v->buf, cap);
        if (!nb)
            return;
        v->buf = nb;
        v->cap = cap;
    }
    memcpy(v->buf + v->len, s, n);
    v->len += n;
}

/* One line of the screen, cut to its width (at a character boundary), erasing the rest. */
__attribute__((format(printf, 2, 3))) static void mt_live_line(mt_live_view_t *v, const char *fmt,
                                                               ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (len > (size_t)v->cols) {
        len = (size_t)v->cols;
        while (len > 0 && ((unsigned char)line[len] & 0xc0) == 0x80)
            len--;
    }
    mt_live_put(v, line, len);
    mt_live_put(v, "\x1b[K\r\n", 5);
}

static void mt_live_size(mt_live_view_t *v)
{
    struct winsize ws;
    v->rows = 24;
    v->cols = 80;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        v->rows = ws.ws_row;
        v->cols = ws.ws_col;
    }
}

/* The threads with a heap event, in order of their first one. */
static uint32_t mt_live_thread_count(const mt_analysis_t *a)
{
    return a->replay.ntstats;
}

static void mt_live_draw_threads(mt_live_view_t *v, const mt_analysis_t *a)
{
    char label[96], safe[200], line[1024];
    uint32_t n = mt_live_thread_count(a);
    if (!v->one_thread) {
        size_t k = (size_t)snprintf(line, sizeof line, "threads: all %u", n);
        for (uint32_t i = 0; i < n && k < sizeof line - 1; i++) {
            mt_analysis_thread_label(a, a->replay.tstats[i].tid, label, sizeof label);
            k += (size_t)snprintf(line + k, sizeof line - k, "%s %s %llu", i ? "," : ":",
                                  mt_text_safe(safe, sizeof safe, label),
                                  (unsigned long long)a->replay.tstats[i].tid);
        }
        mt_live_line(v, "%s", line);
        return;
    }
    uint32_t pos = 0;
    for (uint32_t i = 0; i < n; i++)
        if (a->replay.tstats[i].tid == v->tid)
            pos = i + 1;
    mt_analysis_thread_label(a, v->tid, label, sizeof label);
    mt_live_line(v, "thread %u of %u: %s (tid %llu)", pos, n,
                 mt_text_safe(safe, sizeof safe, label), (unsigned long long)v->tid);
}

/* With the reader's lock: the whole screen into v->buf. */
static void mt_live_draw(mt_live_view_t *v)
{
    mt_live_reader_t *r = v->r;
    mt_analysis_t *a = r->a ? r->a : r->done;
    char cmd[512], safe[600], b1[32], b2[32], b3[32], b4[32], b5[32];
    size_t k = 0;
    cmd[0] = '\0';
    for (size_t i = 0; v->argv[i] && k < sizeof cmd - 1; i++)
        k += (size_t)snprintf(cmd + k, sizeof cmd - k, "%s%s", i ? " " : "", v->argv[i]);
    long long now = mt_live_now_ns();
    v->len = 0;
    mt_live_put(v, "\x1b[H", 3);
    mt_live_line(v, "memtrace live: %s (pid %ld)", mt_text_safe(safe, sizeof safe, cmd),
                 (long)v->pid);
    if (!a) {
        mt_live_line(
            v, "elapsed %s   %s", mt_fmt_clock(b1, sizeof b1, (uint64_t)(now - v->start_ns) / 1000),
            r->err[0] ? mt_text_safe(safe, sizeof safe, r->err) : "waiting for the program's log");
        mt_live_put(v, "\x1b[J", 3);
        return;
    }
    const mt_replay_t *rp = &a->replay;
    uint64_t events = rp->allocations + rp->free_calls + rp->mmap_calls + rp->munmap_calls;
    if (!v->rate_ns || now - v->rate_ns >= 900 * 1000 * 1000LL) {
        if (v->rate_ns && events >= v->rate_events)
            v->rate =
                (uint64_t)((double)(events - v->rate_events) * 1e9 / (double)(now - v->rate_ns));
        v->rate_ns = now;
        v->rate_events = events;
    }
    mt_live_line(v, "elapsed %s   heap %s   peak %s   RSS %s   peak RSS %s",
                 mt_fmt_clock(b1, sizeof b1, (uint64_t)(now - v->start_ns) / 1000),
                 mt_fmt_bytes(b2, sizeof b2, rp->heap_bytes),
                 mt_fmt_bytes(b3, sizeof b3, rp->peak_heap_bytes),
                 rp->nsamples_total ? mt_fmt_bytes(b4, sizeof b4, rp->last_sample.rss) : "-",
                 rp->nsamples_total ? mt_fmt_bytes(b5, sizeof b5, rp->peak_rss_bytes) : "-");
    mt_live_line(v, "events %s/s   allocations %s   frees %s   blocks held %s",
                 mt_fmt_count(b1, sizeof b1, v->rate), mt_fmt_count(b2, sizeof b2, rp->allocations),
                 mt_fmt_count(b3, sizeof b3, rp->frees),
                 mt_fmt_count(b4, sizeof b4, rp->heap_blocks));
    mt_live_draw_threads(v, a);
    if (!r->sym || r->sym_for != a) {
        mt_symbolizer_free(r->sym);
        r->sym = NULL;
        if (mt_symbolizer_new(&r->sym, a->modules) == 0)
            r->sym_for = a;
    }
    const mt_live_row_t *rows = NULL;
    size_t n = 0;
    int ok = r->live && r->sym &&
             mt_live_rows(r->live, a, r->sym, v->one_thread, v->tid, v->sort, &rows, &n) == 0;
    if (!ok)
        n = 0;
    size_t room = v->rows > MT_LIVE_HEADER_LINES + MT_LIVE_FOOTER_LINES + 1
                      ? (size_t)v->rows - MT_LIVE_HEADER_LINES - MT_LIVE_FOOTER_LINES
                      : 1;
    if (v->scroll + room > n)
        v->scroll = n > room ? n - room : 0;
    v->shown = room;
    v->total = n;
    mt_live_line(v, "sort: %s%s   sites %zu-%zu of %zu", mt_live_sort_names[v->sort],
                 r->live && mt_live_incomplete(r->live) && v->one_thread
                     ? " (out of memory: per-thread calls incomplete)"
                     : "",
                 n ? v->scroll + 1 : 0, v->scroll + room < n ? v->scroll + room : n, n);
    mt_live_line(v, "%10s %8s %11s %10s  %s", v->sort == MT_LIVE_HELD ? "HELD" : "held", "blocks",
                 v->sort == MT_LIVE_ALLOCATED ? "ALLOCATED" : "allocated",
                 v->sort == MT_LIVE_COUNT ? "COUNT" : "count", "function  file:line");
    for (size_t i = v->scroll; i < n && i < v->scroll + room; i++) {
        const mt_live_row_t *row = &rows[i];
        const char *fn, *where;
        mt_live_site(r->live, row->site, &fn, &where);
        char sf[300], sw[300];
        mt_live_line(v, "%10s %8s %11s %10s  %s  %s", mt_fmt_bytes(b1, sizeof b1, row->held),
                     mt_fmt_count(b2, sizeof b2, row->blocks),
                     mt_fmt_bytes(b3, sizeof b3, row->allocated),
                     mt_fmt_count(b4, sizeof b4, row->count), mt_text_safe(sf, sizeof sf, fn),
                     mt_text_safe(sw, sizeof sw, where));
    }
    for (size_t i = n > v->scroll ? n - v->scroll : 0; i < room; i++)
        mt_live_line(v, "%s", "");
    mt_live_put(v, "\x1b[J", 3);
    mt_live_line(v, "%s   s sort   t thread   arrows, PgUp/PgDn scroll",
                 v->attached ? "q stop recording (the process goes on)"
                             : "q quit the view (the program goes on)");
    /* no newline after the last line: the screen must not scroll */
    if (v->len >= 5)
        v->len -= 2;
}

/* t: all threads, then each thread in turn, then all again. */
static void mt_live_next_thread(mt_live_view_t *v)
{
    mt_live_reader_t *r = v->r;
    mt_live_lock(r);
    const mt_analysis_t *a = r->a ? r->a : r->done;
    uint32_t n = a ? mt_live_thread_count(a) : 0;
    if (!v->one_thread) {
        if (n > 0) {
            v->one_thread = 1;
            v->tid = a->replay.tstats[0].tid;
        }
    } else {
        uint32_t i = 0;
        while (i < n && a->replay.tstats[i].tid != v->tid)
            i++;
        if (i + 1 < n)
            v->tid = a->replay.tstats[i + 1].tid;
        else
            v->one_thread = 0;
    }
    mt_live_unlock(r);
    v->scroll = 0;
}

/* Keys read at once; returns 1 for q. */
static int mt_live_keys(mt_live_view_t *v, const unsigned char *k, size_t n)
{
    size_t page = v->shown > 1 ? v->shown - 1 : 1;
    for (size_t i = 0; i < n; i++) {
        if (k[i] == 'q' || k[i] == 'Q')
            return 1;
        if (k[i] == 's' || k[i] == 'S') {
            v->sort = (enum mt_live_sort)((v->sort + 1) % 3);
            v->scroll = 0;
        } else if (k[i] == 't' || k[i] == 'T') {
            mt_live_next_thread(v);
        } else if (k[i] == 'j') {
            v->scroll++;
        } else if (k[i] == 'k') {
            v->scroll = v->scroll ? v->scroll - 1 : 0;
        } else if (k[i] == 0x1b && i + 2 < n && (k[i + 1] == '[' || k[i + 1] == 'O')) {
            unsigned char c = k[i + 2];
            i += 2;
            if (c == 'A')
                v->scroll = v->scroll ? v->scroll - 1 : 0;
            else if (c == 'B')
                v->scroll++;
            else if (c == 'H')
                v->scroll = 0;
            else if (c == 'F')
                v->scroll = v->total;
            else if ((c == '5' || c == '6') && i + 1 < n && k[i + 1] == '~') {
                i++;
                if (c == '5')
                    v->scroll = v->scroll > page ? v->scroll - page : 0;
                else
                    v->scroll += page;
            }
        }
    }
    return 0;
}

static void mt_live_refresh(mt_live_view_t *v)
{
    mt_live_size(v);
    mt_live_lock(v->r);
    mt_live_draw(v);
    mt_live_unlock(v->r);
    if (mt_live_raw && v->len)
        mt_live_write_all(STDOUT_FILENO, v->buf, v->len);
}

static int mt_live_waitpid(pid_t pid, int *status, int flags)
{
    pid_t w;
    while ((w = waitpid(pid, status, flags)) < 0 && errno == EINTR)
        ;
    return (int)w;
}

/* What the view watches besides the keys: the program, and for attach how the recording
 * stops. */
typedef struct mt_live_target {
    pid_t pid;
    bool child;            /* run: ours, reaped with waitpid into *status */
    int sigfd;             /* attach: a signalfd of the signals that stop the recording, or -1 */
    long long deadline_ns; /* attach --duration: CLOCK_MONOTONIC; 0: none */
} mt_live_target_t;

enum mt_live_end { MT_LIVE_QUIT, MT_LIVE_EXITED, MT_LIVE_STOPPED };

/* Has the program ended? A child is reaped; another process is only looked at. */
static bool mt_live_ended(const mt_live_target_t *t, int *status)
{
    if (t->child)
        return mt_live_waitpid(t->pid, status, WNOHANG) == t->pid;
    return kill(t->pid, 0) != 0 && errno == ESRCH;
}

/* The view, full screen, until q, the program's end, or (attach) a stop. The terminal's
 * modes and the signal actions are as before when it returns. */
static enum mt_live_end mt_live_show(mt_live_view_t *v, const mt_live_target_t *t, int *status)
{
    struct sigaction tstp = {.sa_handler = mt_live_on_tstp}, cont = {.sa_handler = mt_live_on_cont},
                     winch = {.sa_handler = mt_live_on_winch};
    struct sigaction old_tstp, old_cont, old_winch;
    sigemptyset(&tstp.sa_mask);
    sigemptyset(&cont.sa_mask);
    sigemptyset(&winch.sa_mask);
    sigaction(SIGTSTP, &tstp, &old_tstp);
    sigaction(SIGCONT, &cont, &old_cont);
    sigaction(SIGWINCH, &winch, &old_winch);
    struct sigaction fatal = {.sa_handler = mt_live_on_fatal, .sa_flags = SA_RESETHAND},
                     old_fatal[MT_LIVE_NFATAL];
    sigemptyset(&fatal.sa_mask);
    for (size_t i = 0; i < MT_LIVE_NFATAL; i++)
        sigaction(mt_live_fatal[i], &fatal, &old_fatal[i]);
    int pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
    enum mt_live_end end = MT_LIVE_QUIT;
    if (v->r && mt_live_enter() == 0) {
        long long next = 0;
        for (;;) {
            if (mt_live_resumed) {
                mt_live_resumed = 0;
                sigaction(SIGTSTP, &tstp, NULL);
                if (!mt_live_raw)
                    mt_live_enter();
                next = 0;
            }
            long long now = mt_live_now_ns();
            if (t->deadline_ns && now >= t->deadline_ns) {
                end = MT_LIVE_STOPPED;
                break;
            }
            if (now >= next || mt_live_resized) {
                mt_live_resized = 0;
                mt_live_refresh(v);
                next = now + MT_LIVE_REFRESH_MS * 1000000LL;
                now = mt_live_now_ns();
            }
            struct pollfd p[3] = {
                {mt_live_tty, POLLIN, 0}, {pidfd, POLLIN, 0}, {t->sigfd, POLLIN, 0}};
            long long until = t->deadline_ns && t->deadline_ns < next ? t->deadline_ns : next;
            long long wait_ms = (until - now) / 1000000 + 1;
            if (pidfd < 0 && wait_ms > 100)
                wait_ms = 100; /* no pidfd (Linux < 5.3): look for the exit 10 times a second */
            int rc = poll(p, 3, (int)wait_ms);
            if (rc > 0 && (p[2].revents & POLLIN)) {
                struct signalfd_siginfo si; /* taken, or it stays pending for later */
                (void)!read(t->sigfd, &si, sizeof si);
                end = MT_LIVE_STOPPED;
                break;
            }
            if (rc > 0 && (p[0].revents & POLLIN)) {
                unsigned char keys[64];
                ssize_t k = read(mt_live_tty, keys, sizeof keys);
                if (k > 0 && mt_live_keys(v, keys, (size_t)k) == 1)
                    break;
                if (k > 0)
                    next = 0; /* show the key's effect at once */
            }
            if (rc > 0 && (p[0].revents & (POLLHUP | POLLERR)))
                break; /* the terminal went away */
            if ((pidfd < 0 || (rc > 0 && (p[1].revents & POLLIN))) && mt_live_ended(t, status)) {
                end = MT_LIVE_EXITED;
                break;
            }
        }
    }
    mt_live_restore();
    sigaction(SIGTSTP, &old_tstp, NULL);
    sigaction(SIGCONT, &old_cont, NULL);
    sigaction(SIGWINCH, &old_winch, NULL);
    for (size_t i = 0; i < MT_LIVE_NFATAL; i++)
        sigaction(mt_live_fatal[i], &old_fatal[i], NULL);
    if (pidfd >= 0)
        close(pidfd);
    return end;
}

/* The terminal and the reader; NULL reader when there is no terminal or no thread. */
static mt_live_reader_t *mt_live_open(const char *manifest, const char *path, pid_t pid)
{
    mt_live_tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (mt_live_tty >= 0 && tcgetattr(mt_live_tty, &mt_live_saved) == 0)
        return mt_live_reader_start(manifest, path, pid);
    return NULL;
}

static void mt_live_close(mt_live_view_t *v)
{
    if (mt_live_tty >= 0)
        close(mt_live_tty);
    mt_live_tty = -1;
    free(v->buf);
}

int mt_run_live_wait(const char *manifest, pid_t pid, char *const *argv, const char *out,
                     int *status, mt_run_live_t **reader)
{
    *reader = NULL;
    mt_live_reader_t *r = mt_live_open(manifest, NULL, pid);
    mt_live_view_t v = {.r = r, .argv = argv, .pid = pid, .start_ns = mt_live_now_ns()};
    mt_live_target_t t = {.pid = pid, .child = true, .sigfd = -1};
    bool exited = mt_live_show(&v, &t, status) == MT_LIVE_EXITED;
    mt_live_close(&v);
    if (!exited) {
        fprintf(stderr,
                "memtrace: live view closed; %s (pid %ld) goes on and is recorded to its end",
                argv[0], (long)pid);
        if (out)
            fprintf(stderr, "; its output goes to %s", out);
        fputc('\n', stderr);
    }
    /* After q the reader goes on without the view, as the run's follower does: the summary
     * is ready when the program ends. */
    if (!exited && mt_live_waitpid(pid, status, 0) != pid) {
        fprintf(stderr, "memtrace: waitpid: %s\n", strerror(errno));
        mt_run_live_free(r);
        return 1;
    }
    mt_live_reader_finish(r);
    *reader = r;
    return 0;
}

int mt_run_live_attach(const char *path, pid_t pid, char *const *argv, int sigfd,
                       long long deadline_ns)
{
    mt_live_reader_t *r = mt_live_open(NULL, path, pid);
    if (!r) {
        fputs("memtrace: attach: the live view could not start (no terminal); recording goes "
              "on without it\n",
              stderr);
        if (mt_live_tty >= 0)
            close(mt_live_tty);
        mt_live_tty = -1;
        return -1;
    }
    mt_live_view_t v = {
        .r = r, .argv = argv, .pid = pid, .attached = true, .start_ns = mt_live_now_ns()};
    mt_live_target_t t = {.pid = pid, .sigfd = sigfd, .deadline_ns = deadline_ns};
    enum mt_live_end end = mt_live_show(&v, &t, NULL);
    mt_live_close(&v);
    mt_run_live_free(r); /* stops the reader where it is: attach prints no summary */
    return end == MT_LIVE_EXITED ? 1 : end == MT_LIVE_QUIT ? 2 : 0;
}

// SPDX-License-Identifier: MIT
// Buffer pool, background compression thread and the log file. Producers only encode and
// enqueue; compression and write() happen on the writer thread (or inline when it cannot run).
// Never mallocs (zstd and zlib get mmap-backed memory), never writes to stdio, never kills the
// target: a write error stops recording with one line on stderr.
#include "io/log_writer.h"

#include "leak/leak_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log_dir.h"

/* The most a raw chunk holds: its streams, and the stream-length prefix before them. */
#define MT_CHUNK_RAW_CAP (MT_BUF_CAP + sizeof mt_writer.enc.hdr)

mt_writer_t mt_writer = {
    .lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP,
    .cur_idx = -1,
    .fd = -1,
    .stopped = true, /* until a log is open */
};

static void mt_writer_conds_init(void)
{
    mt_writer_t *w = &mt_writer;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wake, &ca);
    pthread_cond_init(&w->freed, &ca);
    pthread_condattr_destroy(&ca);
}

static void mt_writer_pool_reset(void)
{
    mt_writer_t *w = &mt_writer;
    for (int i = 0; i < MT_BUF_COUNT; i++)
        w->free_list[i] = MT_BUF_COUNT - 1 - i; /* buffer 0, mapped at start, on top */
    w->nfree = MT_BUF_COUNT;
    w->qhead = w->qlen = 0;
    w->cur = NULL;
    w->cur_idx = -1;
    w->busy = w->writing = w->helping = w->zd_busy = false;
    w->busy_idx = -1;
}

int mt_writer_init(bool try_libdeflate)
{
    mt_writer_t *w = &mt_writer;
    /* The others are mapped when first needed (mt_writer_take_free): each is 6.75 MiB of
     * address space, which a program under `ulimit -v` or mlockall would pay for. */
    w->bufs[0] = mt_map(MT_BUF_SIZE);
    if (!w->bufs[0])
        return -ENOMEM;
    w->tables = mt_map(sizeof *w->tables);
    if (!w->tables)
        return -ENOMEM;
    w->try_libdeflate = try_libdeflate;
    w->out_cap = MT_CHUNK_HEADER_SIZE + mt_deflater_bound(MT_CHUNK_RAW_CAP);
    w->out = mt_map(w->out_cap);
    if (!w->out)
        return -ENOMEM;
    mt_writer_conds_init();
    mt_writer_pool_reset();
    /* the log's own stream: zstd across chunks; a helper's chunks are deflate (below) */
    return mt_deflater_init(&w->zd, MT_CHUNK_RAW_CAP, try_libdeflate, mt_config.log_zstd);
}

/* ---- file ---- */

/*
 * The log's descriptor is kept out of the program's way: at 100 or above (close-on-exec), not
 * the lowest free number, which the program's next open() would have got (a test that checks
 * its first file is descriptor 3, a dup2() onto the low numbers), and above the program's
 * RLIMIT_NOFILE when that is lower, so that a program at its limit keeps all of its room
 * (the soft limit is raised to the hard one just for the call, as far as it goes).
 */
#define MT_WRITER_FD_MIN 100

/* The soft RLIMIT_NOFILE raised to the hard one; the old limit, to give back, in *old. False
 * when there is nothing to raise, or inside a seccomp sandbox (a filter may kill the process
 * on prlimit). */
static bool mt_writer_fd_room_begin(struct rlimit *old)
{
    if (mt_sys_confined_here(mt_writer_self) ||
        mt_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, old) != 0 ||
        old->rlim_cur >= old->rlim_max)
        return false;
    struct rlimit more = {old->rlim_max, old->rlim_max};
    return mt_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &more, NULL) == 0;
}

static void mt_writer_fd_room_end(const struct rlimit *old)
{
    (void)mt_syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, old, NULL);
}

/* fd moved out of the program's way (above); fd itself when it cannot be. errno is kept. */
static int mt_writer_fd_high(int fd)
{
    int saved = errno;
    long hi = mt_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, MT_WRITER_FD_MIN);
    if (hi < 0) { /* the limit is 100 or lower */
        struct rlimit old;
        if (mt_writer_fd_room_begin(&old)) {
            rlim_t above = old.rlim_cur > MT_WRITER_FD_MIN ? MT_WRITER_FD_MIN : old.rlim_cur;
            hi = mt_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, above);
            mt_writer_fd_room_end(&old);
        }
    }
    errno = saved;
    if (hi < 0)
        return fd;
    mt_sys_close(fd);
    return (int)hi;
}

/* open() of a log: at the program's descriptor limit (every number below it in use), with
 * room made above it for the moment, where the descriptor then lands (the lowest free number
 * is above the old limit); after a chroot or a change of user, through the log's directory as
 * it was then (base/log_dir.h). */
static long mt_writer_open_fd(const char *path, int flags, int mode)
{
    long fd = mt_logdir_open(path, flags, mode);
    struct rlimit old;
    int saved = errno;
    if (fd == -EMFILE && mt_writer_fd_room_begin(&old)) {
        fd = mt_logdir_open(path, flags, mode);
        mt_writer_fd_room_end(&old);
    }
    errno = saved;
    return fd;
}

/* Says on stderr (mt_msg) what happened to the log: before, its path, after, the error's
 * text, then (what follows for the recording). */
static void mt_writer_path_msg(const char *before, int err, const char *after, const char *then)
{
    char msg[PATH_MAX + 128];
    mt_sbuf_t s;
    mt_sbuf_init(&s, msg, sizeof msg);
    mt_sbuf_add(&s, before);
    mt_sbuf_add(&s, mt_writer.path);
    mt_sbuf_add(&s, after);
    mt_sbuf_add(&s, mt_errno_text(err));
    mt_sbuf_add(&s, then);
    mt_msg(msg);
}

/* The program's umask is the program's: a log created under `umask 0777` would have no
 * permissions, so that its user could not read it, nor could the writer reopen it after the
 * program took its descriptor. Logs are the user's, readable and writable by the user only. */
static void mt_writer_mode_fix(int fd)
{
    (void)mt_syscall(SYS_fchmod, fd, 0600);
}

static int mt_writer_create(const char *path)
{
    long fd = mt_writer_open_fd(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return (int)fd;
    mt_writer_mode_fix((int)fd);
    /* Not the lowest free number: a target that closed stdio would otherwise get our log as
     * its stdout/stderr, and its later dup2() onto 0-2 would clobber the log. Inside a
     * seccomp sandbox only then: a filter may kill the process on fcntl or prlimit. */
    if (mt_sys_confined_here(false) && fd > 2)
        return (int)fd;
    return mt_writer_fd_high((int)fd);
}

static void mt_writer_manifest(int pid)
{
    if (!mt_config.manifest[0])
        return;
    char line[PATH_MAX + 32];
    mt_sbuf_t s;
    mt_sbuf_init(&s, line, sizeof line);
    mt_sbuf_u64(&s, (uint64_t)pid);
    mt_sbuf_add(&s, "\t");
    mt_sbuf_add(&s, mt_writer.path);
    mt_sbuf_add(&s, "\n");
    long fd = mt_logdir_open(mt_config.manifest, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    mt_writer_mode_fix((int)fd);
    /* One write with O_APPEND: lines from concurrent processes never interleave. */
    (void)mt_sys_write((int)fd, line, s.len);
    mt_sys_close((int)fd);
}

int mt_writer_open(int pid, uint64_t start_realtime_ns)
{
    mt_writer_t *w = &mt_writer;
    char base[PATH_MAX];
    if (!w->tables)
        return -ENOMEM;
    int rc = mt_config_expand(mt_config.output_template, pid, base, sizeof base);
    if (rc < 0)
        return rc;
    int fd = -EEXIST;
    for (unsigned n = 1; fd == -EEXIST; n++) {
        if (!mt_config_log_name(base, pid, n, w->path, sizeof w->path)) {
            fd = n < MT_LOG_NAME_TRIES ? -ENAMETOOLONG : -EEXIST;
            break;
        }
        fd = mt_writer_create(w->path);
    }
    if (fd < 0) {
        /* A root-only directory, after a daemon started as root became nobody */
        bool user = fd == -EACCES && mt_logdir_user_changed();
        mt_writer_path_msg("cannot create ", -fd, ": ",
                           user ? "; not recording (the process changed its user since it "
                                  "started: give it a log directory that user may write in, "
                                  "such as /tmp)"
                                : "; not recording");
        return fd;
    }
    uint8_t hdr[MT_LOG_HEADER_SIZE];
    mt_log_header_put(hdr, start_realtime_ns, (uint32_t)pid, MT_TIME_UNIT_US);
    mt_log_header_set_flags(hdr, w->header_flags);
    rc = mt_write_all(fd, hdr, sizeof hdr);
    if (rc < 0) {
        /* a full disk creates the file, then refuses its first block: no empty log left */
        mt_sys_close(fd);
        (void)mt_syscall(SYS_unlink, w->path);
        mt_writer_path_msg("write to ", -rc, " failed: ", "; not recording");
        return rc;
    }
    w->fd = fd;
    w->pid = pid;
    struct stat st;
    if (fstat(fd, &st) == 0) {
        w->fd_dev = st.st_dev;
        w->fd_ino = st.st_ino;
    }
    w->failed = w->stopped = false;
    w->reopen_err = 0;
    /* A new log: its model starts from nothing (the tables are fresh or reset by the child). */
    mt_enc_init(&w->enc, w->tables, MT_TIME_UNIT_US);
    /* the same records without REPEAT: what tests compare the reports of a log with */
    w->enc.rep_off = !mt_config.log_repeat;
    w->cur_tid = 0;
    w->dense = false;            /* its first chunk at level 6 */
    mt_deflater_restart(&w->zd); /* a new file: a new zstd frame */
    mt_writer_manifest(pid);
    return 0;
}

/* ---- buffers (lock held) ---- */

static bool mt_writer_fd_is_log(int fd);

/* The file header says recording stopped (MT_LOG_FLAG_STOPPED), so that `memtrace run` and the
 * reports can say why the log ends early: four bytes rewritten in place, which a full disk
 * still allows. Not inside a seccomp sandbox (a filter may kill on pwrite64). */
static void mt_writer_mark_stopped(void)
{
    mt_writer_t *w = &mt_writer;
    /* the descriptor may be the program's by now (an fd takeover whose reopen failed) */
    if (w->fd < 0 || mt_sys_confined_here(mt_writer_self) || !mt_writer_fd_is_log(w->fd))
        return;
    uint8_t le[4];
    mt_put_u32le(le, w->header_flags | MT_LOG_FLAG_STOPPED);
    int saved = errno;
    (void)mt_syscall(SYS_pwrite64, w->fd, le, sizeof le, MT_LOG_HEADER_FLAGS_AT);
    errno = saved;
}

static void mt_writer_fail(int err)
{
    mt_writer_t *w = &mt_writer;
    if (w->failed)
        return;
    w->failed = w->stopped = true;
    if (w->reopen_err)
        mt_writer_path_msg("the program closed the log's descriptor and ", w->reopen_err,
                           " cannot be opened again: ", "; recording stopped");
    else
        mt_writer_path_msg("write to ", err, " failed: ", "; recording stopped");
    mt_writer_mark_stopped();
}

static bool mt_writer_fd_is_log(int fd)
{
    struct stat st;
    int saved = errno;
    bool ok = fstat(fd, &st) == 0 && st.st_dev == mt_writer.fd_dev && st.st_ino == mt_writer.fd_ino;
    errno = saved;
    return ok;
}

/* Targets that close every descriptor at start (daemons) or dup2() over ours would make us
 * fail or, worse, write into their file. One fstat per chunk notices; the log is then reopened
 * by path (absolute, resolved at start) and appended to. 0 or -EBADF. */
static int mt_writer_check_fd(void)
{
    mt_writer_t *w = &mt_writer;
    if (w->fd >= 0 && mt_writer_fd_is_log(w->fd))
        return 0;
    long opened = mt_writer_open_fd(w->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0);
    if (opened < 0) {
        w->reopen_err = (int)-opened; /* said by mt_writer_fail */
        return -EBADF;
    }
    int fd = mt_writer_fd_high((int)opened);
    if (!mt_writer_fd_is_log(fd)) { /* replaced by another file of that name */
        mt_sys_close(fd);
        return -EBADF;
    }
    w->fd = fd; /* the old number belongs to the target now: never close it */
    return 0;
}

/* Returns the pages of a written buffer to the kernel (the caller owns it, lock not needed):
 * the next chunk in it faults them in again as it grows, so a buffer costs what is in it, not
 * the most each of its streams ever held (clang++: 1.9 MiB a buffer otherwise). A fault per
 * 4 KiB of log costs far less than compressing those bytes. The chunk's output buffer too. */
static void mt_writer_give_back(uint8_t *buf, const size_t *lens)
{
    for (int k = 0; k < MT_STREAMS; k++)
        mt_pages_release(buf + (size_t)k * MT_BUF_CAP, lens[k]);
}

/* The timed records of a buffer: the counts of its clock pairs (log_format.h, Time). */
static uint64_t mt_writer_timed(const uint8_t *raw, const size_t *lens)
{
    const uint8_t *p = raw + (size_t)MT_STREAM_TIME * MT_BUF_CAP, *end = p + lens[MT_STREAM_TIME];
    uint64_t sum = 0, n, dt;
    while (mt_varint_get(&p, end, &n) == 0 && mt_varint_get(&p, end, &dt) == 0)
        sum += n;
    return sum;
}

/* Compresses one buffer (its streams, behind their length prefix) into out, chunk header
 * included; the chunk's size in *total, its timed records in *records. One caller at a time
 * per deflater (zd: the thread or an inline drain; zd_help: the one helping producer). */
static int mt_writer_compress(mt_deflater_t *zd, uint8_t *out, size_t out_cap, const uint8_t *raw,
                              const size_t *lens, size_t *total, uint64_t *records)
{
    *records = mt_writer_timed(raw, lens);
    uint8_t hdr[MT_STREAMS * MT_VARINT_MAX];
    const uint8_t *streams[MT_STREAMS];
    size_t hlen = 0, len = 0;
    for (int k = 0; k < MT_STREAMS; k++) {
        hlen += mt_varint_put(hdr + hlen, lens[k]);
        len += lens[k];
        streams[k] = raw + (size_t)k * MT_BUF_CAP;
    }
    size_t clen;
    uint32_t crc, magic;
    bool dense = __atomic_load_n(&mt_writer.dense, __ATOMIC_RELAXED);
    int rc =
        mt_deflater_chunk(zd, dense, out + MT_CHUNK_HEADER_SIZE, out_cap - MT_CHUNK_HEADER_SIZE,
                          hdr, hlen, streams, lens, &clen, &crc, &magic);
    if (rc < 0)
        return rc;
    mt_chunk_header_put_magic(out, magic, (uint32_t)clen, (uint32_t)(len + hlen), crc);
    *total = MT_CHUNK_HEADER_SIZE + clen;
    return 0;
}

/* Writes a compressed chunk (of that many timed records) to the log, then gives its pages
 * back. */
static int mt_writer_put_chunk(uint8_t *out, size_t total, uint64_t records)
{
    int rc = mt_writer_check_fd();
    if (rc == 0)
        rc = mt_write_all(mt_writer.fd, out, total);
    /* The next chunk's deflate level follows this one's ratio. Chunks are compressed one at a
     * time, each after the one before it is in the file, so the rule holds for every chunk. */
    bool dense = mt_deflater_dense(mt_get_u32le(out + 8), mt_get_u32le(out + 4), records);
    __atomic_store_n(&mt_writer.dense, dense, __ATOMIC_RELAXED);
    mt_pages_release(out, total);
    return rc;
}

/* Compresses and writes one buffer with zd/out (the inline paths: exec, no thread). */
static int mt_writer_write_chunk(const uint8_t *raw, const size_t *lens)
{
    mt_writer_t *w = &mt_writer;
    size_t total;
    uint64_t records;
    int rc = mt_writer_compress(&w->zd, w->out, w->out_cap, raw, lens, &total, &records);
    return rc < 0 ? rc : mt_writer_put_chunk(w->out, total, records);
}

/*
 * Lock held: waits for the writer thread to free a buffer. pthread_cond_wait is a cancellation
 * point, and a program thread cancelled in it would die holding the recorder lock (glibc
 * re-takes the mutex before unwinding), blocking every other thread for good. Nothing memtrace
 * does on the program's behalf may act on a cancellation: it stays pending for the program's
 * next cancellation point.
 */
static void mt_writer_wait_freed(void)
{
    mt_writer_t *w = &mt_writer;
    int old;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pthread_cond_wait(&w->freed, &w->lock);
    pthread_setcancelstate(old, NULL);
}

static void mt_writer_deadline(struct timespec *ts, uint64_t us_from_now);

/* Like mt_writer_wait_freed, for at most us; false when the time ran out. */
static bool mt_writer_wait_freed_for(uint64_t us)
{
    mt_writer_t *w = &mt_writer;
    struct timespec ts;
    mt_writer_deadline(&ts, us);
    int old;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    int rc = pthread_cond_timedwait(&w->freed, &w->lock, &ts);
    pthread_setcancelstate(old, NULL);
    return rc != ETIMEDOUT;
}

static bool mt_writer_any_mapped_free(void)
{
    for (int i = 0; i < mt_writer.nfree; i++)
        if (mt_writer.bufs[mt_writer.free_list[i]])
            return true;
    return false;
}

/*
 * Lock held: a free buffer for the producers, or -1. A buffer mapped already is preferred;
 * one is mapped only when all those are in use (the writer is behind). When the mapping fails
 * (RLIMIT_AS reached) the producer waits for a mapped one, as when all six are in use: buffer
 * 0 is always mapped, and it is either free, queued or being written.
 */
static int mt_writer_take_free(void)
{
    mt_writer_t *w = &mt_writer;
    for (int i = w->nfree - 1; i >= 0; i--) {
        int idx = w->free_list[i];
        if (w->bufs[idx]) {
            w->free_list[i] = w->free_list[--w->nfree];
            return idx;
        }
    }
    int idx = w->free_list[w->nfree - 1];
    w->bufs[idx] = mt_map(MT_BUF_SIZE);
    if (!w->bufs[idx])
        return -1;
    w->nfree--;
    return idx;
}

static void mt_writer_release(int idx)
{
    mt_writer_t *w = &mt_writer;
    w->free_list[w->nfree++] = idx;
    pthread_cond_broadcast(&w->freed);
}

/*
 * Lock held on entry and exit; drops it around the compression and the write. Compresses the
 * buffer in flight (busy_idx, popping gen) with zd into out, then writes it, unless the other
 * of the two that may be at it (the thread and one helping producer, each with a stream of its
 * own) wrote it or is writing it meanwhile: then this copy is dropped. Whichever writes it
 * frees the buffer; the other may have compressed garbage from a buffer reused meanwhile,
 * which it drops all the same.
 */
static void mt_writer_finish(uint64_t gen, mt_deflater_t *zd, uint8_t *out)
{
    mt_writer_t *w = &mt_writer;
    int idx = w->busy_idx;
    size_t lens[MT_STREAMS], total = 0;
    uint64_t records = 0;
    memcpy(lens, w->queued_len[idx], sizeof lens);
    bool main_stream = zd == &w->zd;
    if (main_stream)
        w->zd_busy = true;
    mt_writer_unlock();
    int rc = mt_writer_compress(zd, out, w->out_cap, w->bufs[idx], lens, &total, &records);
    mt_writer_lock();
    if (main_stream)
        w->zd_busy = false;
    if (!w->busy || w->busy_gen != gen || w->writing) {
        /* zd's zstd frame holds a chunk that the file will not: the reader could not follow
         * it past here, so zd's next chunk starts a frame of its own. */
        if (main_stream)
            mt_deflater_restart(zd);
        mt_pages_release(out, total);
        pthread_cond_broadcast(&w->freed); /* an exec may wait for zd */
        return;
    }
    w->writing = true;
    mt_writer_unlock();
    if (rc == 0)
        rc = mt_writer_put_chunk(out, total, records);
    mt_writer_give_back(w->bufs[idx], lens);
    mt_writer_lock();
    w->writing = false;
    w->busy = false;
    w->busy_idx = -1;
    if (rc < 0)
        mt_writer_fail(-rc);
    mt_writer_release(idx);
}

/* Lock held, nothing in flight, something queued: pops the oldest buffer; its gen. */
static uint64_t mt_writer_pop(void)
{
    mt_writer_t *w = &mt_writer;
    int idx = w->queue[w->qhead];
    w->qhead = (w->qhead + 1) % MT_BUF_COUNT;
    w->qlen--;
    w->busy = true;
    w->busy_idx = idx;
    return ++w->busy_gen;
}

/* Lock held on entry and exit: writes the oldest queued buffer with zd (the thread, or an
 * inline drain), once nothing else is in flight. */
static void mt_writer_write_one(void)
{
    mt_writer_t *w = &mt_writer;
    if (w->busy) {
        mt_writer_wait_freed(); /* a helper's buffer goes first */
        return;
    }
    if (w->failed) {
        int idx = w->queue[w->qhead];
        w->qhead = (w->qhead + 1) % MT_BUF_COUNT;
        w->qlen--;
        mt_writer_release(idx);
        return;
    }
    mt_writer_finish(mt_writer_pop(), &w->zd, w->out);
}

/*
 * Lock held, no buffer free for MT_HELP_AFTER_US: the thread is starved (SCHED_IDLE behind
 * busy threads, a loaded machine). This producer compresses the buffer in flight itself, or
 * the oldest queued one when none is, with a stream of its own, and writes it if it is done
 * first; so no producer ever waits for the thread without end.
 */
static void mt_writer_help(void)
{
    mt_writer_t *w = &mt_writer;
    if (w->held || w->helping || w->writing || w->failed || (!w->busy && !w->qlen))
        return;
    /* Inside a seccomp sandbox, writing here (an fstat of the log, a reopen) may get the
     * process killed: the writer thread, started before the filter, does it; wait for it. */
    if (MT_UNLIKELY(mt_sys_confined_here(mt_writer_self))) {
        mt_writer_wait_freed();
        return;
    }
    if (!w->help_ready) {
        w->out_help = mt_map(w->out_cap);
        /* deflate chunks, which need no frame: zd's frame goes on after them, unless zd
         * compressed the same buffer meanwhile (mt_writer_finish) */
        if (!w->out_help ||
            mt_deflater_init(&w->zd_help, MT_CHUNK_RAW_CAP, w->try_libdeflate, false) < 0)
            return;
        w->help_ready = true;
    }
    uint64_t gen = w->busy ? w->busy_gen : mt_writer_pop();
    w->helping = true;
    mt_writer_finish(gen, &w->zd_help, w->out_help);
    w->helping = false;
}

void mt_writer_submit(void)
{
    mt_writer_t *w = &mt_writer;
    if (!w->cur)
        return;
    int idx = w->cur_idx;
    mt_enc_close(&w->enc);
    for (int k = 0; k < MT_STREAMS; k++)
        w->queued_len[idx][k] = mt_enc_stream_len(&w->enc, k);
    w->queue[(w->qhead + w->qlen) % MT_BUF_COUNT] = idx;
    w->qlen++;
    w->cur = NULL;
    w->cur_idx = -1;
    pthread_cond_signal(&w->wake);
}

int mt_writer_acquire(void)
{
    mt_writer_t *w = &mt_writer;
    /* Loop on cur, not on nfree: while this thread slept in cond_wait another producer may
     * have taken a buffer already, and taking a second one would orphan the first. */
    while (!w->cur) {
        /* Once per buffer, so cheap enough: a raw clone's child finds no writer thread. */
        if (MT_UNLIKELY(w->orphaned && w->pid != mt_sys_getpid())) {
            mt_writer_unlock();
            w->orphaned();
            mt_writer_lock();
            continue;
        }
        if (w->stopped || w->failed)
            return -EIO;
        int idx = w->nfree > 0 ? mt_writer_take_free() : -1;
        if (idx >= 0) {
            w->cur_idx = idx;
            w->cur = w->bufs[idx];
            w->cur_since_us = mt_now_us();
            mt_enc_chunk(&w->enc, w->cur, MT_BUF_CAP);
        } else if (w->thread_running) {
            if (!mt_writer_wait_freed_for(MT_HELP_AFTER_US) && !w->cur &&
                !mt_writer_any_mapped_free())
                mt_writer_help();
        } else if (w->qlen || w->busy) {
            mt_writer_write_one(); /* no thread (it failed to start): write inline */
        } else {
            return -EIO;
        }
    }
    return 0;
}

mt_enc_t *mt_writer_begin_big(size_t need)
{
    mt_writer_t *w = &mt_writer;
    if (w->cur && mt_enc_len(&w->enc) + need > MT_BUF_CAP)
        mt_writer_submit();
    return mt_writer_begin(0);
}

/* ---- the thread ---- */

static void mt_writer_deadline(struct timespec *ts, uint64_t us_from_now)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(us_from_now / 1000000u);
    ts->tv_nsec += (long)(us_from_now % 1000000u) * 1000;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

__thread int mt_writer_self __attribute__((tls_model("initial-exec")));

static void *mt_writer_main(void *arg)
{
    (void)arg;
    mt_writer_t *w = &mt_writer;
    mt_guard = 1; /* forever: nothing this thread does is recorded */
    mt_writer_self = 1;
    /* It blocks every signal, so the leak check cannot (and need not) hold it still: it
     * holds no pointers into the program's heap. */
    mt_leakscan_skip_thread(mt_sys_gettid());
    sigset_t all;
    sigfillset(&all);
    /* Process-directed signals (SIGTERM, SIGINT) must reach a target thread, whose handler
     * waits for this thread to drain the queue. */
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    uint64_t next_tick = mt_now_us() + w->tick_us;
    mt_writer_lock();
    w->thread_tid = (int)mt_sys_gettid();
    while (!w->quit || w->qlen || w->busy) {
        if (w->qlen && !w->held && !w->busy) {
            mt_writer_write_one();
            continue;
        }
        uint64_t now = mt_now_us();
        if (w->tick && now >= next_tick && !w->stopped) {
            mt_writer_unlock();
            w->tick();
            mt_writer_lock();
            next_tick = now + w->tick_us;
            continue;
        }
        size_t held = w->cur ? mt_enc_len(&w->enc) : 0;
        if (held &&
            now - w->cur_since_us >= (held < MT_FLUSH_SMALL ? MT_FLUSH_IDLE_US : MT_FLUSH_US)) {
            mt_writer_submit();
            continue;
        }
        pthread_cond_broadcast(&w->freed); /* idle: wake flushers waiting for the drain */
        struct timespec ts;
        mt_writer_deadline(&ts, w->tick_us < MT_FLUSH_US ? w->tick_us : MT_FLUSH_US / 2);
        pthread_cond_timedwait(&w->wake, &w->lock, &ts);
    }
    w->thread_running = false;
    pthread_cond_broadcast(&w->freed);
    mt_writer_unlock();
    return NULL;
}

int mt_writer_start(void (*tick)(void), unsigned tick_ms)
{
    mt_writer_t *w = &mt_writer;
    w->tick = tick;
    w->tick_us = tick_ms ? tick_ms * 1000ull : MT_FLUSH_US;
    w->quit = false;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* Not the default (RLIMIT_STACK: 8 MiB, a GiB after `ulimit -s 1048576`), which a program
     * under `ulimit -v` or mlockall pays for: the thread touches 12 KiB of it compressing
     * with zstd or libdeflate. The program's exit handlers, which it may come to run, get a
     * stack of the usual size (record/timer.c). */
    pthread_attr_setstacksize(&attr, MT_WRITER_STACK);
    /* Block signals while creating so the new thread starts with them blocked. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    w->thread_running = true;
    w->thread_tid = 0;    /* the thread sets it: mt_writer_park waits for it */
    int guard = mt_guard; /* past the pthread_create hook, which would give this thread up */
    mt_guard = 1;
    int rc = pthread_create(&w->thread, &attr, mt_writer_main, NULL);
    mt_guard = guard;
    if (rc != 0)
        w->thread_running = false;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return -rc;
}

bool mt_writer_park(void)
{
    mt_writer_t *w = &mt_writer;
    mt_writer_lock();
    if (!w->thread_running || w->held) {
        mt_writer_unlock();
        return false;
    }
    w->quit = true;
    pthread_cond_signal(&w->wake);
    while (w->thread_running && w->thread_tid == 0) /* not started yet: its tid is wanted */
        mt_writer_wait_freed();
    int tid = w->thread_tid;
    while (w->thread_running)
        mt_writer_wait_freed();
    w->thread_tid = 0;
    mt_writer_unlock();
    /* The thread has returned, but the kernel counts it until it is reaped, after its tid was
     * cleared for pthread_join: wait for that (a few microseconds), at most a second. */
    int pid = (int)mt_sys_getpid();
    for (int i = 0; i < 10000 && mt_syscall(SYS_tgkill, pid, tid, 0) == 0; i++) {
        mt_sys_nap(100000);
    }
    return true;
}

void mt_writer_unpark(void)
{
    mt_writer_t *w = &mt_writer;
    if (mt_writer_start(w->tick, (unsigned)(w->tick_us / 1000)) < 0)
        mt_msg("cannot start the writer thread again; writing synchronously");
}

void mt_writer_leave_thread(void)
{
    mt_writer_t *w = &mt_writer;
    mt_writer_lock();
    w->thread_running = false;
    w->quit = true;
    mt_writer_self = 0; /* it writes inline from now on, waiting like any thread */
    pthread_cond_broadcast(&w->freed);
    mt_writer_unlock();
}

/* ---- flushing ---- */

/* Lock held: writes what is queued, by the thread or inline, and waits until done. */
static void mt_writer_drain_locked(void)
{
    mt_writer_t *w = &mt_writer;
    mt_writer_submit();
    while (w->qlen || w->busy) {
        if (w->thread_running) {
            pthread_cond_signal(&w->wake);
            if (!mt_writer_wait_freed_for(MT_HELP_AFTER_US))
                mt_writer_help(); /* the thread is starved: write it here */
        } else if (w->qlen || w->busy) {
            mt_writer_write_one(); /* waits for a helper's buffer, if one is in flight */
        } else {
            break;
        }
    }
}

void mt_writer_flush(bool final)
{
    mt_writer_t *w = &mt_writer;
    mt_writer_lock();
    if (final)
        w->stopped = true;
    mt_writer_drain_locked();
    if (final) {
        w->quit = true;
        pthread_cond_signal(&w->wake);
        /* Inside a seccomp sandbox the process's end closes it: close may not be allowed. */
        if (w->fd >= 0 && !mt_sys_confined_here(mt_writer_self))
            mt_sys_close(w->fd);
        w->fd = -1;
    }
    mt_writer_unlock();
}

/* ---- a change of user ---- */

void mt_writer_user_change(void)
{
    mt_writer_t *w = &mt_writer;
    if (mt_sys_confined_here(false))
        return; /* a seccomp filter may kill the process on fstat or open */
    mt_writer_lock();
    /* Nobody else may be at the descriptor meanwhile: the chunk in flight is written first
     * (here, if the thread is starved, as mt_writer_drain_locked does). */
    while (w->busy || w->writing)
        if (!mt_writer_wait_freed_for(MT_HELP_AFTER_US))
            mt_writer_help();
    if (!w->stopped && !w->failed && w->fd >= 0)
        (void)mt_writer_check_fd();
    mt_writer_unlock();
}

/* ---- exec ---- */

/* Lock held, the thread idle and held off: compresses and writes buffer idx right here. */
static void mt_writer_write_here(int idx, const size_t *lens)
{
    mt_writer_t *w = &mt_writer;
    if (!w->failed) {
        int rc = mt_writer_write_chunk(w->bufs[idx], lens);
        if (rc < 0)
            mt_writer_fail(-rc);
    }
    w->free_list[w->nfree++] = idx;
}

bool mt_writer_exec_hold(off_t *size)
{
    mt_writer_t *w = &mt_writer;
    mt_writer_lock();
    if (w->stopped || w->failed || w->fd < 0) {
        mt_writer_unlock();
        return false;
    }
    /* The thread takes no new buffer from now on; once the one it may be compressing is
     * written, everything left is written here, under the lock, so that no other thread's
     * event can come between it and the EXIT (a drain by the thread could be outrun by
     * threads that keep allocating). */
    w->held = true;
    while (w->busy || w->zd_busy) /* zd_busy: the thread's copy of a buffer a helper wrote */
        mt_writer_wait_freed();
    while (w->qlen) {
        int idx = w->queue[w->qhead];
        w->qhead = (w->qhead + 1) % MT_BUF_COUNT;
        w->qlen--;
        mt_writer_write_here(idx, w->queued_len[idx]);
    }
    mt_writer_exec_write();
    /* What the EXIT chunk changes in the model (the clock, the last sample) must be undone if
     * the exec fails and the chunk is cut off. */
    w->enc_saved = w->enc;
    w->dense_saved = w->dense;
    struct stat st;
    int saved = errno;
    bool ok = !w->failed && fstat(w->fd, &st) == 0;
    errno = saved;
    if (!ok) {
        w->held = false;
        pthread_cond_signal(&w->wake);
        mt_writer_unlock();
        return false;
    }
    *size = st.st_size;
    return true;
}

void mt_writer_exec_write(void)
{
    mt_writer_t *w = &mt_writer;
    if (!w->cur)
        return;
    int idx = w->cur_idx;
    size_t lens[MT_STREAMS];
    mt_enc_close(&w->enc);
    for (int k = 0; k < MT_STREAMS; k++)
        lens[k] = mt_enc_stream_len(&w->enc, k);
    w->cur = NULL;
    w->cur_idx = -1;
    /* The thread is held off (or idle) and cannot pop anything without the lock. */
    mt_writer_write_here(idx, lens);
}

void mt_writer_exec_failed(off_t size)
{
    mt_writer_t *w = &mt_writer;
    int saved = errno;
    w->held = false;
    pthread_cond_signal(&w->wake);
    /* The EXIT chunk is the file's last: cut it off, and write on from where it began. */
    if (w->fd >= 0 && (ftruncate(w->fd, size) != 0 || lseek(w->fd, size, SEEK_SET) != size))
        mt_writer_fail(errno);
    w->enc = w->enc_saved;
    w->dense = w->dense_saved;
    mt_deflater_restart(&w->zd); /* its frame held the EXIT chunk */
    errno = saved;
    pthread_cond_broadcast(&w->freed);
    mt_writer_unlock();
}

bool mt_writer_trylock(void)
{
    for (int i = 0; i < 1000; i++) {
        if (mt_writer_trylock_once())
            return true;
        mt_sys_nap(100000);
    }
    return false;
}

void mt_writer_flush_from_signal(void)
{
    mt_writer_t *w = &mt_writer;
    /* Lock held by the caller. */
    w->stopped = true;
    mt_writer_submit();
    if (!w->thread_running && !w->busy) {
        while (w->qlen)
            mt_writer_write_one();
        mt_writer_unlock();
        return;
    }
    mt_writer_unlock();
    /* The thread wakes at least every tick; poll (no condition variables in a handler). */
    for (int i = 0; i < 3000; i++) {
        if (!w->qlen && !w->busy)
            break;
        mt_sys_nap(1000000);
    }
}

void mt_writer_child_reset(void)
{
    mt_writer_t *w = &mt_writer;
    pthread_mutex_t fresh = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
    w->lock = fresh;
    mt_lock_order_drop(MT_LOCK_WRITER);
    mt_writer_conds_init();
    mt_writer_pool_reset();
    w->thread_running = false;
    w->thread_tid = 0; /* the parent's writer is not in this process */
    w->quit = false;
    w->stopped = true; /* until the child's own log is open */
    if (w->fd >= 0)
        mt_sys_close(w->fd);
    w->fd = -1;
    /* The parent's thread may have been inside deflate(): start from a new stream. */
    mt_deflater_after_fork(&w->zd);
    w->help_ready = false; /* a helper may have been inside deflate too: made anew if needed */
    /* The child's log starts its model from nothing: fresh zero pages instead of clearing
     * (and so touching) the parent's. */
    mt_unmap(w->tables, sizeof *w->tables);
    w->tables = mt_map(sizeof *w->tables);
    if (!w->tables)
        w->failed = true;
}

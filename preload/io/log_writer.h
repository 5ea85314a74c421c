// SPDX-License-Identifier: MIT
// The log writer: producers encode records into the current buffer under one short lock; full
// buffers go to a background thread that deflates each into an independent chunk and write()s
// it. No event is ever dropped (producers wait for a free buffer, and after MT_HELP_AFTER_US
// without one write the oldest buffer themselves: the thread may be starved). Never mallocs.
#ifndef MT_LOG_WRITER_H
#define MT_LOG_WRITER_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "io/deflater.h"

#include "base/lock_order.h"
#include "base/mt_libc.h"
#include "log_format.h"

#define MT_BUF_COUNT 6
/* Hand the buffer over once it holds this much. 512 KiB, not 1 MiB: with 8 threads on 2
 * cores the writer falls behind and all buffers fill, which cost 7 to 11 MiB of RSS at 1 MiB
 * (churn_mt, 8 threads) and costs 6.5 to 7 at 512 KiB, in the same time; a dense log's
 * chunks, deflated without the previous chunk's history, grow by 2% (sqlite3). */
#define MT_BUF_THRESHOLD (1u << 19)
#define MT_BUF_CAP (MT_BUF_THRESHOLD * 3 / 2) /* slack for the largest single locked section */
/* A buffer holds the chunk's MT_STREAMS streams, MT_BUF_CAP apart (the chunk as a whole stays
 * under MT_BUF_CAP, so no stream can overflow its part; untouched pages cost no memory). */
#define MT_BUF_SIZE ((size_t)MT_BUF_CAP * MT_STREAMS)
#define MT_BUF_MAX_RECORD (256u << 10) /* variable records are truncated to fit this */
_Static_assert(MT_BUF_CAP < MT_CHUNK_MAX_RAW, "a chunk must stay under the reader's limit");
_Static_assert(MT_BUF_CAP - MT_BUF_THRESHOLD >= MT_BUF_MAX_RECORD, "room for the largest record");
/* A partial buffer is written after this long: a SIGKILL loses at most that much. A buffer
 * with little in it waits longer: a program that is mostly idle would otherwise pay a chunk's
 * overhead (about 50 bytes) five times a second for a handful of records. */
#define MT_FLUSH_US 200000
#define MT_FLUSH_IDLE_US 2000000
#define MT_FLUSH_SMALL 4096          /* bytes: below this a buffer is "little" */
#define MT_WRITER_STACK (256u << 10) /* the writer thread's stack (mt_writer_start) */
/* A producer that found no free buffer for this long compresses and writes one itself. */
#define MT_HELP_AFTER_US 50000

typedef struct mt_writer {
    pthread_mutex_t lock; /* the recorder lock: buffers, encoder, trace tree, modules */
    pthread_cond_t wake;  /* writer thread: work queued or quit */
    pthread_cond_t freed; /* producers: a buffer became free; flushers: queue drained */
    mt_enc_t enc;
    mt_enc_t enc_saved; /* the encoder before an exec's EXIT chunk (mt_writer_exec_failed) */
    bool dense_saved;   /* and the deflate level it had chosen for the next chunk */
    uint8_t *cur;       /* buffer being filled, NULL when none is held */
    int cur_idx;
    uint32_t cur_tid; /* tid of the last THREAD record in the log, 0: none yet */
    /* MT_LOG_FLAG_* for the file header (set before mt_writer_open). AGGREGATED also means
     * no THREAD records: an aggregated log has no per-thread events for them to name, and a
     * record per thread switch would make it grow with the run (record/aggregate.h). */
    uint32_t header_flags;
    uint64_t cur_since_us; /* when cur was taken */
    uint8_t *bufs[MT_BUF_COUNT];
    int free_list[MT_BUF_COUNT], nfree;
    int queue[MT_BUF_COUNT], qhead, qlen;
    size_t queued_len[MT_BUF_COUNT][MT_STREAMS]; /* stream lengths of a submitted buffer */
    /* A buffer was popped and is not written yet (by the thread, or a producer helping). At
     * most one at a time: chunks go to the file in queue order. */
    bool busy;
    int busy_idx;
    uint64_t busy_gen; /* bumped at every pop: which popping busy_idx stands for */
    bool writing;      /* someone is writing busy_idx's chunk: the other drops its copy */
    bool helping;      /* a producer is compressing with zd_help */
    bool zd_busy;      /* zd is in use (by the thread, perhaps on a copy it will drop) */
    bool held;         /* an exec holds the writer: the thread pops nothing (mt_writer_exec_hold) */
    bool stopped;      /* no more records accepted (EXIT written, or a write failed) */
    bool failed;       /* a write failed: discard everything */
    bool thread_running; /* the background thread exists */
    int thread_tid;      /* its kernel tid, while it runs */
    bool quit;
    int fd;
    unsigned long long fd_dev, fd_ino; /* identity of the log, to notice a closed/reused fd */
    int reopen_err; /* why the log could not be opened again after the program took fd */
    pthread_t thread;
    void (*tick)(void); /* run by the thread every tick_us, outside the lock */
    /* Run, lock held, before each record begun through mt_writer_record: puts into the log
     * every event held elsewhere that must come before it (record/event_ring.h). */
    void (*sync)(void);
    /* Run without the lock when a buffer is wanted in another process than the log's: a child
     * that no fork handler prepared (a raw clone). It must give the child a log of its own. */
    void (*orphaned)(void);
    int pid; /* the process whose log fd is */
    uint64_t tick_us;
    mt_deflater_t zd;
    bool try_libdeflate;     /* given to mt_writer_init, for zd_help */
    bool dense;              /* the log's last chunk deflated 16:1 or better (mt_deflater_dense) */
    mt_enc_tables_t *tables; /* the encoder's model (log_format.h) */
    uint8_t *out;
    size_t out_cap;
    /* The helping producer's own stream and output (made on first need). */
    mt_deflater_t zd_help;
    uint8_t *out_help;
    bool help_ready;
    char path[PATH_MAX];
} mt_writer_t;

extern mt_writer_t mt_writer;

/* Non-zero on the writer thread: it must never wait for a free buffer (it frees them). */
extern __thread int mt_writer_self __attribute__((tls_model("initial-exec")));

/* The recorder lock, in its place in the lock order (base/lock_order.h). */
static inline void mt_writer_lock(void)
{
    MT_LOCK(&mt_writer.lock, MT_LOCK_WRITER);
}

static inline void mt_writer_unlock(void)
{
    MT_UNLOCK(&mt_writer.lock, MT_LOCK_WRITER);
}

/* Takes the recorder lock if it is free at once; true when taken. */
static inline bool mt_writer_trylock_once(void)
{
    if (pthread_mutex_trylock(&mt_writer.lock) != 0)
        return false;
    mt_lock_order_got(MT_LOCK_WRITER);
    return true;
}

/* Maps buffers and sets up the deflater (try_libdeflate: see mt_deflater_init); 0 or -errno. */
MT_WUR int mt_writer_init(bool try_libdeflate);
/* Creates the log (template expanded for pid, .2/.3... on EEXIST), writes the header and the
 * manifest line; 0 or -errno. */
MT_WUR int mt_writer_open(int pid, uint64_t start_realtime_ns);
/* Starts the background thread; tick (may be NULL) runs every tick_ms. 0 or -errno. */
MT_WUR int mt_writer_start(void (*tick)(void), unsigned tick_ms);

/*
 * The kernel refuses some calls to a process with more than one thread: unshare or setns into
 * a user namespace (EINVAL). mt_writer_park stops the writer thread and returns once the kernel
 * no longer counts it (true; false when there was none), records are written inline meanwhile;
 * mt_writer_unpark starts it again. Lock not held.
 */
bool mt_writer_park(void);
void mt_writer_unpark(void);

/* Called by the writer thread itself, from its tick, when it is about to run the program's
 * exit (last_thread.h): it stops being the writer, and buffers are written inline. */
void mt_writer_leave_thread(void);

/* Slow paths of the inline helpers below (lock held). */
MT_WUR int mt_writer_acquire(void);
void mt_writer_submit(void);

/* Lock held. Returns the encoder positioned for one event of thread tid (0: no thread), or NULL
 * when recording has stopped. */
static inline mt_enc_t *mt_writer_begin(uint32_t tid)
{
    mt_writer_t *w = &mt_writer;
    if (MT_UNLIKELY(!w->cur) && (w->stopped || mt_writer_acquire() < 0))
        return NULL;
    if (tid && w->cur_tid != tid && MT_LIKELY(!(w->header_flags & MT_LOG_FLAG_AGGREGATED))) {
        mt_enc_thread(&w->enc, tid);
        w->cur_tid = tid;
    }
    return &w->enc;
}

/* Lock held. Like mt_writer_begin, for a record of up to need bytes (need <= MT_BUF_MAX_RECORD). */
mt_enc_t *mt_writer_begin_big(size_t need);

/* No lock: asks for the encoder's index line of addr, which a record about to be encoded
 * under the lock will touch (the index is 1 MiB: a cache miss under the lock otherwise). */
static inline void mt_writer_prefetch(uintptr_t addr)
{
    const mt_enc_tables_t *t = __atomic_load_n(&mt_writer.tables, __ATOMIC_RELAXED);
    if (t)
        mt_enc_index_prefetch(t, addr);
}

/* Lock held, after encoding: hands a full buffer to the thread. */
static inline void mt_writer_end(void)
{
    mt_writer_t *w = &mt_writer;
    if (MT_UNLIKELY(mt_enc_len(&w->enc) >= MT_BUF_THRESHOLD))
        mt_writer_submit();
}

/*
 * One record, the sequence every event follows: mt_writer_record takes the lock and begins a
 * record of thread tid (as mt_writer_begin; NULL, with the lock held all the same, when
 * recording has stopped); mt_writer_record_done ends it, if it was begun, and drops the lock.
 *
 *     mt_enc_t *e = mt_writer_record(tid);
 *     if (e)
 *         mt_enc_free(e, tag, now, addr);
 *     mt_writer_record_done(e);
 */
static inline mt_enc_t *mt_writer_record(uint32_t tid)
{
    mt_writer_lock();
    if (mt_writer.sync)
        mt_writer.sync();
    return mt_writer_begin(tid);
}

/* Like mt_writer_record, for a record of up to need bytes (mt_writer_begin_big). */
static inline mt_enc_t *mt_writer_record_big(size_t need)
{
    mt_writer_lock();
    if (mt_writer.sync)
        mt_writer.sync();
    return mt_writer_begin_big(need);
}

static inline void mt_writer_record_done(mt_enc_t *e)
{
    if (MT_LIKELY(e != NULL))
        mt_writer_end();
    mt_writer_unlock();
}

/* Writes everything encoded so far and waits until it is on disk (takes the lock). With
 * final, nothing is accepted afterwards and the file is closed. */
void mt_writer_flush(bool final);

/*
 * exec: the old image's log must end with EXIT(EXEC) before the exec, and go on if the exec
 * fails. mt_writer_exec_hold writes everything so far and returns true with the lock held and
 * the file's size in *size (false, unlocked, when not recording): no other thread can record
 * anything after the EXIT that the caller encodes next, and mt_writer_exec_write writes it as
 * a chunk of its own. If exec returns, mt_writer_exec_failed cuts that chunk off and unlocks;
 * if it succeeds, the lock and the close-on-exec fd go with the old image.
 */
MT_WUR bool mt_writer_exec_hold(off_t *size);
void mt_writer_exec_write(void);
void mt_writer_exec_failed(off_t size);

/* mt_writer_end for a writer an exec holds (mt_writer_exec_hold): a full buffer is written
 * here, as a chunk of its own, which mt_writer_exec_failed cuts off with the EXIT's. */
static inline void mt_writer_end_any(void)
{
    mt_writer_t *w = &mt_writer;
    if (MT_UNLIKELY(w->held)) {
        if (mt_enc_len(&w->enc) >= MT_BUF_THRESHOLD)
            mt_writer_exec_write();
        return;
    }
    mt_writer_end();
}
/*
 * The process is about to change its user (setuid and kin). The log is opened again now if
 * the program took its descriptor, while the old user still may. It stays the old user's
 * (mode 0600): handing a root daemon's log to nobody would show that user the daemon's
 * addresses, which its memory does not (a process that changed its user is not dumpable). A
 * program that closes every descriptor after the change loses the rest of its log, with one
 * line that says why. Lock not held.
 */
void mt_writer_user_change(void);

/* Fatal-signal variant: never blocks for long, never waits on a condition variable. The
 * caller encoded its last record already (see mt_writer_trylock). */
void mt_writer_flush_from_signal(void);
/* Tries to take the lock for up to ~100 ms; true on success. */
bool mt_writer_trylock(void);

/* In a forked child, with the lock state inherited from the parent's prepare handler:
 * fresh locks, all buffers free, no thread, parent's fd closed. */
void mt_writer_child_reset(void);

#endif

// SPDX-License-Identifier: MIT
// Per-thread event rings and their merge (event_ring.h). The producer side is a few stores
// on the thread's own cache lines and one locked exchange; the merge runs under the writer
// lock, wherever the log is wanted up to now: a thread whose ring is three quarters full, the
// writer thread's tick, and every record written under the lock (mt_writer.sync).
#include "record/event_ring.h"

#include "base/clock.h"
#include "base/config.h"
#include "record/recorder.h"

bool mt_ring_on;
int mt_ring_gate;

/* 1 + the highest slot index that ever pushed: the merge looks no further. */
static unsigned mt_ring_hi;

/* Rings ever listed. While it is 1, the one thread that pushes has no other thread's event to
 * be ordered after (mt_ring_stamp_for). Never decreases: a ring stays listed. */
static unsigned mt_ring_listed;

/* Events merged so far: a merge that dropped the lock (a buffer wait) starts its choice
 * again when this moved. */
static uint64_t mt_ring_taken;

#define MT_RING_MASK (MT_RING_EVENTS - 1)
/* The candidates of a merge, on the merging thread's stack; with more rings holding events,
 * each event's choice looks at all of them (slower, as right). */
#define MT_RING_CAND 32
/* How many events ahead a merge asks for the encoder's index line of an event's address
 * (mt_enc_index_prefetch): a cache miss per event otherwise, the index being 1 MiB. */
#define MT_RING_AHEAD 8
/* Polls of a merge that waits for a thread inside a push (mt_ring_mark_wait). */
#define MT_RING_CLOSE_POLLS 100000

/*
 * An event's stamp: rdtscp, which reads the TSC only once every earlier instruction has
 * executed, the loads that saw the cause included (the pointer a free is given, the free list
 * a malloc took the block from): a cause's stamp, read before its push, is then older. Plain
 * rdtsc costs 13 ns less but may run ahead of those loads; the stack walk between malloc and
 * the stamp is likely longer than the reorder window, but a free has no such distance.
 */
static inline uint64_t mt_ring_stamp(void)
{
    unsigned aux;
    return __builtin_ia32_rdtscp(&aux);
}

/*
 * The stamp of an event pushed while this ring is the only one listed: plain rdtsc, 13 ns
 * cheaper. The order rdtscp keeps is between threads: a block's free after the load that saw
 * the pointer another thread's malloc returned. With no other ring listed, no other thread has
 * allocated or freed anything through the rings yet. A thread that registers does so before
 * its first push, and a pointer its push published is loaded by this thread before it loads
 * mt_ring_listed (x86 keeps loads in order), so this thread then sees 2 and uses rdtscp.
 */
static inline uint64_t mt_ring_stamp_for(void)
{
    if (MT_LIKELY(__atomic_load_n(&mt_ring_listed, __ATOMIC_RELAXED) > 1))
        return mt_ring_stamp();
    return __builtin_ia32_rdtsc();
}

/* The merge's clock: rdtscp and a fence, so that nothing after it (the marks) is read first. */
static inline uint64_t mt_ring_now(void)
{
    unsigned aux;
    uint64_t t = __builtin_ia32_rdtscp(&aux);
    __builtin_ia32_lfence();
    return t;
}

/* A stamp in the log's microseconds, as mt_rec_now would have read it then. */
static inline uint64_t mt_ring_us(uint64_t stamp)
{
    uint64_t mult = __atomic_load_n(&mt_clock.mult, __ATOMIC_RELAXED);
    uint64_t us = mt_clock.us0 + (uint64_t)(((mt_u128)(stamp - mt_clock.tsc0) * mult) >> 32);
    return us > mt_rec.start_us ? us - mt_rec.start_us : 0;
}

void mt_ring_init(void)
{
    /* Without a TSC every core can read alike, the stamps could not order an address's
     * events across threads: every event goes through the lock, as before. */
    mt_ring_on = !mt_config.aggregate && __atomic_load_n(&mt_clock.mult, __ATOMIC_RELAXED) &&
                 mt_config.rings;
    __atomic_store_n(&mt_ring_gate, mt_ring_on ? 1 : 0, __ATOMIC_SEQ_CST);
}

static inline mt_ring_t *mt_ring_of(unsigned i)
{
    return (mt_ring_t *)mt_slot_at(i)->ring;
}

/* This ring takes part in merges from now on (once per slot). */
static __attribute__((noinline, cold)) void mt_ring_register(mt_slot_t *slot)
{
    unsigned want = slot->index + 1, hi = __atomic_load_n(&mt_ring_hi, __ATOMIC_RELAXED);
    while (hi < want && !__atomic_compare_exchange_n(&mt_ring_hi, &hi, want, false,
                                                     __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
        ;
    (void)__atomic_add_fetch(&mt_ring_listed, 1, __ATOMIC_SEQ_CST);
    slot->ring_listed = 1;
}

/*
 * Waits until ring r has room, merging under the writer lock. False when the event must go
 * through the lock instead (the rings closed meanwhile). A thread preempted inside its push
 * holds every merge back: yield, then sleep, never spin long.
 */
static __attribute__((noinline)) bool mt_ring_make_room(mt_ring_t *r, uint64_t tail)
{
    for (unsigned round = 0;; round++) {
        mt_writer_lock();
        mt_ring_sync_some();
        mt_writer_unlock();
        if (tail - __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) < MT_RING_EVENTS)
            return true;
        if (!__atomic_load_n(&mt_ring_gate, __ATOMIC_ACQUIRE))
            return false;
        if (round < 16)
            mt_sys_yield();
        else
            mt_sys_nap(50000);
    }
}

/* A ring three quarters full merges now if the lock is free; else whoever holds it will. */
static __attribute__((noinline)) void mt_ring_help(void)
{
    if (!mt_writer_trylock_once())
        return;
    mt_ring_sync_some();
    mt_writer_unlock();
}

bool mt_ring_push(enum mt_tag tag, enum mt_alloc_kind kind, uintptr_t addr, uint64_t size,
                  uint32_t node, uint32_t tid, uint32_t *busy)
{
    mt_slot_t *slot = mt_slot_tls;
    if (MT_UNLIKELY(!slot))
        return false;
    mt_ring_t *r = slot->ring;
    if (MT_UNLIKELY(!slot->ring_listed))
        mt_ring_register(slot);
    uint64_t tail = r->tail, head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    if (MT_UNLIKELY(tail - head >= MT_RING_EVENTS) && !mt_ring_make_room(r, tail))
        return false;
    /* The mark before the clock, with a full barrier between (the exchange): a merger that
     * finds no mark read its clock before this thread reads its own. */
    (void)__atomic_exchange_n(&r->mark, r->last + 1, __ATOMIC_SEQ_CST);
    if (MT_UNLIKELY(!__atomic_load_n(&mt_ring_gate, __ATOMIC_SEQ_CST))) {
        __atomic_store_n(&r->mark, 0, __ATOMIC_RELEASE);
        return false; /* closing: the closer waits for the mark, then the event takes the lock */
    }
    uint64_t stamp = mt_ring_stamp_for();
    mt_ring_ev_t *ev = &r->ev[tail & MT_RING_MASK];
    ev->stamp = stamp;
    ev->addr = addr;
    ev->info = (uint64_t)tag | (uint64_t)kind << 8 | size << 16;
    ev->node = node;
    ev->tid = tid;
    if (busy)
        __atomic_store_n(busy, 1, __ATOMIC_RELAXED); /* published with the tail */
    __atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
    __atomic_store_n(&r->mark, 0, __ATOMIC_RELEASE);
    r->last = stamp;
    /* Three quarters full: this thread merges, if the lock is free. Not the writer thread:
     * asked at a quarter full, it became the bottleneck (merging and deflating every thread's
     * events on one core, the encoder's tables on the other core's cache): churn.c took 1.98 s
     * instead of 1.45, churn_mt with 2 threads 1.87 s instead of 1.74 (A/B, quiet machine). */
    if (MT_UNLIKELY(tail + 1 - head >= MT_RING_EVENTS * 3 / 4))
        mt_ring_help();
    return true;
}

/* ---- the merge (writer lock held) ---- */

/* A ring's events not merged yet, up to its tail as read after the horizon. */
typedef struct mt_ring_cand {
    mt_ring_t *r;
    uint64_t end;
} mt_ring_cand_t;

/* Ring r's mark once it is 0 or at least limit: a thread inside a push is waited for (a push
 * is a few stores; a thread preempted inside one for a time slice; one that never comes back,
 * a crash inside a push, for about a second, after which its mark is taken as it is). */
static uint64_t mt_ring_mark_wait(const mt_ring_t *r, uint64_t limit)
{
    uint64_t m = __atomic_load_n(&r->mark, __ATOMIC_ACQUIRE);
    for (unsigned polls = 0; m && m < limit && polls < MT_RING_CLOSE_POLLS; polls++) {
        mt_sys_yield();
        m = __atomic_load_n(&r->mark, __ATOMIC_ACQUIRE);
    }
    return m;
}

/*
 * The stamp below which every event is pushed already: the clock now, or less where a thread
 * is inside a push (its mark). The fences keep the clock read before the marks are looked at.
 * With complete, a mark below the clock is waited for (mt_ring_mark_wait): a record about to
 * be written under the lock must come after every event that happened before it, and a mark
 * is only a lower bound, possibly older than those events.
 */
static uint64_t mt_ring_horizon(unsigned *hi_out, bool complete)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint64_t now = mt_ring_now();
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    /* The rings to look at, counted after the clock: a ring listed later pushes its first
     * event after registering, so with a stamp above now. */
    unsigned hi = __atomic_load_n(&mt_ring_hi, __ATOMIC_SEQ_CST);
    *hi_out = hi;
    uint64_t h = now;
    for (unsigned i = 0; i < hi; i++) {
        uint64_t m = mt_ring_mark_wait(mt_ring_of(i), complete ? now : 0);
        if (m && m < h)
            h = m;
    }
    return h;
}

/* The next event of c[0..n) in stamp order below horizon, or -1. */
static inline int mt_ring_pick(const mt_ring_cand_t *c, unsigned n, uint64_t horizon)
{
    int best = -1;
    uint64_t best_stamp = horizon;
    for (unsigned i = 0; i < n; i++) {
        uint64_t head = c[i].r->head;
        if (head < c[i].end && c[i].r->ev[head & MT_RING_MASK].stamp < best_stamp) {
            best = (int)i;
            best_stamp = c[i].r->ev[head & MT_RING_MASK].stamp;
        }
    }
    return best;
}

/* The one writer thread must never wait for a buffer: it is the one that frees them. */
static inline bool mt_ring_may_begin(void)
{
    const mt_writer_t *w = &mt_writer;
    return w->cur || w->nfree > 0 || !mt_writer_self;
}

static void mt_ring_encode(mt_enc_t *e, const mt_ring_ev_t *ev)
{
    enum mt_tag tag = (enum mt_tag)(ev->info & 0xff);
    uint64_t us = mt_ring_us(ev->stamp);
    if (tag == MT_TAG_ALLOC)
        mt_enc_alloc(e, (enum mt_alloc_kind)((ev->info >> 8) & 0xff), us, ev->info >> 16, ev->addr,
                     ev->node);
    else
        mt_enc_free(e, tag, us, ev->addr);
}

/* Merges c[0..n)'s events below horizon. False when it stopped early (no buffer for the
 * writer thread). Recording stopped: the events are dropped. */
static bool mt_ring_merge_cands(mt_ring_cand_t *c, unsigned n, uint64_t horizon)
{
    for (;;) {
        int i = mt_ring_pick(c, n, horizon);
        if (i < 0)
            return true;
        if (!mt_ring_may_begin())
            return false;
        uint64_t taken = mt_ring_taken;
        const mt_ring_ev_t *ev = &c[i].r->ev[c[i].r->head & MT_RING_MASK];
        mt_enc_t *e = mt_rec_defs(mt_writer_begin(ev->tid), ev->tid);
        if (MT_UNLIKELY(!e)) { /* stopped: nothing more goes into the log */
            for (unsigned k = 0; k < n; k++)
                if (c[k].r->head < c[k].end)
                    __atomic_store_n(&c[k].r->head, c[k].end, __ATOMIC_RELEASE);
            return true;
        }
        if (MT_UNLIKELY(taken != mt_ring_taken))
            continue; /* the lock was dropped for a buffer and another merge went on */
        uint64_t ahead = c[i].r->head + MT_RING_AHEAD;
        if (ahead < c[i].end)
            mt_enc_index_prefetch(e->t, c[i].r->ev[ahead & MT_RING_MASK].addr);
        mt_ring_encode(e, ev);
        mt_ring_taken = taken + 1;
        __atomic_store_n(&c[i].r->head, c[i].r->head + 1, __ATOMIC_RELEASE);
        mt_writer_end();
    }
}

/* Every event below horizon, from every ring. */
static void mt_ring_merge(uint64_t horizon, unsigned hi)
{
    mt_ring_cand_t c[MT_RING_CAND];
    unsigned n = 0;
    bool all = true;
    for (unsigned i = 0; i < hi; i++) {
        mt_ring_t *r = mt_ring_of(i);
        uint64_t end = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
        if (r->head == end)
            continue;
        if (n == MT_RING_CAND) {
            all = false;
            break;
        }
        c[n++] = (mt_ring_cand_t){r, end};
    }
    if (all) {
        (void)mt_ring_merge_cands(c, n, horizon);
        return;
    }
    /* Many threads with events at once: one ring at a time would break the stamp order, so
     * each pick looks at them all, in batches of candidates that are re-read per event. */
    for (;;) {
        uint64_t best = horizon;
        unsigned at = hi;
        for (unsigned i = 0; i < hi; i++) {
            mt_ring_t *r = mt_ring_of(i);
            uint64_t head = r->head, end = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
            if (head < end && r->ev[head & MT_RING_MASK].stamp < best) {
                best = r->ev[head & MT_RING_MASK].stamp;
                at = i;
            }
        }
        if (at == hi)
            return;
        mt_ring_cand_t one = {mt_ring_of(at), mt_ring_of(at)->head + 1};
        /* the one event, then look again: the next may be anyone's */
        if (!mt_ring_merge_cands(&one, 1, best + 1))
            return;
    }
}

/*
 * When no ring but the caller's own holds events, the caller's ring is merged whole, with no
 * clock read and no wait: its events are older than the record to come, and an event another
 * thread pushes meanwhile cannot be the cause of anything in it (a cause is pushed before its
 * effect, and the other rings were empty when looked at, after the caller's events were
 * pushed). The common case of a single-threaded Python program: its frees go through the
 * ring, its allocations under the lock. True when that was the case.
 */
static bool mt_ring_sync_own(unsigned hi)
{
    mt_slot_t *slot = mt_slot_tls;
    mt_ring_t *own = slot && slot->ring_listed ? slot->ring : NULL;
    for (unsigned i = 0; i < hi; i++) {
        mt_ring_t *r = mt_ring_of(i);
        if (r != own && r->head != __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE))
            return false;
    }
    if (own) {
        mt_ring_cand_t c = {own, own->tail};
        (void)mt_ring_merge_cands(&c, 1, UINT64_MAX);
    }
    return true;
}

void mt_ring_sync(void)
{
    if (!mt_ring_on)
        return;
    unsigned hi = __atomic_load_n(&mt_ring_hi, __ATOMIC_ACQUIRE);
    if (!hi || mt_ring_sync_own(hi))
        return;
    uint64_t horizon = mt_ring_horizon(&hi, true);
    mt_ring_merge(horizon, hi);
}

void mt_ring_sync_some(void)
{
    if (!mt_ring_on)
        return;
    unsigned hi;
    uint64_t horizon = mt_ring_horizon(&hi, false);
    if (hi)
        mt_ring_merge(horizon, hi);
}

void mt_ring_close(void)
{
    if (!mt_ring_on)
        return;
    __atomic_store_n(&mt_ring_gate, 0, __ATOMIC_SEQ_CST);
    unsigned hi = __atomic_load_n(&mt_ring_hi, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < hi; i++)
        (void)mt_ring_mark_wait(mt_ring_of(i), UINT64_MAX);
    mt_ring_merge(UINT64_MAX, hi);
}

void mt_ring_open(void)
{
    if (mt_ring_on)
        __atomic_store_n(&mt_ring_gate, 1, __ATOMIC_SEQ_CST);
}

void mt_ring_child(void)
{
    unsigned hi = mt_ring_hi;
    for (unsigned i = 0; i < hi; i++) {
        mt_ring_t *r = mt_ring_of(i);
        r->head = r->tail;
        r->mark = 0;
    }
    mt_ring_taken = 0;
    mt_ring_open();
}

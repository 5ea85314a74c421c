// SPDX-License-Identifier: MIT
// The recorder's events: per-event assembly between the hooks and the writer. Unwinding, the
// trace-tree lookup (lock-free when it hits), the clock, the heap total (atomics) and the leak
// check's block table (sharded locks) all happen outside the writer lock; the locked section
// drains the tree's queued definitions and encodes. The Python paths intern under it (their
// caches are the writer lock's): they encode their new nodes' definitions at once
// (mt_tree_direct_begin), with no round trip through the queue and one tree lock per event.
// Must never allocate with malloc, never call stdio, never crash or block the target for long.
// Start, fork and exit are lifecycle.c's; the log's opening records process.c's; the timer
// timer.c's.
#include "record/recorder.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "base/config.h"
#include "base/stack_call.h"
#include "base/thread_slots.h"
#include "python/python.h"
#include "python/python_node_cache.h"
#include "record/aggregate.h"
#include "record/event_ring.h"
#include "record/live_table.h"
#include "record/modules.h"
#include "record/sampler.h"
#include "stack/fast_unwind.h"
#include "stack/stack_hash.h"
#include "stack/stack_tail.h"
#include "stack/trace_tree.h"
#include "stack/unwinder.h"

mt_rec_state_t mt_rec;

int mt_rec_dl_pending;

/* Off (no peak is ever pending) until mt_rec_heap_start (mt_life_init). */
mt_heap_total_t mt_rec_heap = {.threshold = UINT64_MAX};

static size_t mt_rec_usable_none(void *p)
{
    (void)p;
    return 0;
}

/* A function pointer rather than a test of mt_rec_heap.on: one branch less per event. */
mt_usable_fn mt_rec_usable_fn = mt_rec_usable_none;
bool mt_rec_usable_header;
mt_acheck_trust_t mt_rec_usable_trust;

static __thread uint32_t mt_rec_tid_cache __attribute__((tls_model("initial-exec")));

/* Lock held: a THREAD_NAME record (names are cut at MT_THREAD_NAME_MAX bytes). */
static void mt_rec_emit_thread_name(uint32_t tid, const char *name, size_t len)
{
    mt_enc_t *e = mt_writer_begin_big(mt_enc_thread_name_size(len));
    if (e) {
        mt_enc_thread_name(e, tid, name, len);
        mt_writer_end();
    }
}

/*
 * A thread's first event (once per thread, and again in a forked child): its tid, a slot for
 * the crash handler, and its name as the kernel has it now, which is the one it inherited from
 * the thread that created it, or the one it was given before it first allocated, by whatever
 * means (pthread_setname_np, prctl, a write to /proc/self/task/TID/comm). One prctl call per
 * thread, never per event. The name is read under the recorder lock, so that it cannot
 * overtake a rename another thread records meanwhile (mt_rec_thread_name): of the two records,
 * the later one in the log always holds the name the kernel has.
 */
static __attribute__((noinline, cold)) uint32_t mt_rec_tid_first(void)
{
    int saved = errno;
    uint32_t tid = (uint32_t)mt_sys_gettid();
    mt_rec_tid_cache = tid;
    (void)mt_slot_self();
    char name[17] = {0}; /* PR_GET_NAME writes at most 16 bytes, NUL included */
    mt_writer_lock();
    /* A thread that first records inside a seccomp sandbox keeps its name to itself. */
    if (!mt_sys_confined_here(false) && mt_syscall(SYS_prctl, PR_GET_NAME, name, 0, 0, 0) == 0)
        mt_rec_emit_thread_name(tid, name, strnlen(name, 16));
    mt_writer_unlock();
    errno = saved;
    return tid;
}

static inline uint32_t mt_rec_tid(void)
{
    if (MT_UNLIKELY(!mt_rec_tid_cache))
        return mt_rec_tid_first();
    return mt_rec_tid_cache;
}

void mt_rec_thread_name(uint32_t tid, const char *name, size_t len)
{
    if (!tid)
        return;
    mt_writer_lock();
    mt_rec_emit_thread_name(tid, name, len);
    mt_writer_unlock();
}

/* Size and node of the block a realloc released, in case the realloc fails and the block
 * comes back. */
static __thread uint64_t mt_rec_released_size __attribute__((tls_model("initial-exec")));
static __thread uint32_t mt_rec_released_node __attribute__((tls_model("initial-exec")));

/* Keeps the leak check's block table in step with the log (shard locks only). */
static void mt_rec_track(enum mt_tag tag, uintptr_t addr, uint64_t size, uint32_t node)
{
    uint32_t gone;
    if (tag == MT_TAG_ALLOC)
        mt_live_add(addr, size, node);
    else if (tag == MT_TAG_REALLOC_RELEASE)
        mt_rec_released_size = mt_live_remove(addr, &mt_rec_released_node);
    else if (tag == MT_TAG_REALLOC_FAILED)
        mt_live_add(addr, mt_rec_released_size, mt_rec_released_node);
    else
        (void)mt_live_remove(addr, &gone);
}

/*
 * The block table's change for an event just encoded, writer lock held. It is made once the
 * lock is dropped (mt_rec_track_after), with the slot's live_busy set from here until then, so
 * that the leak check and fork, which hold the writer lock and wait for every live_busy to
 * clear (mt_slot_wait_idle), find the table and the log in step. A thread without a slot
 * makes the change right here. True when it is left for later.
 */
static inline bool mt_rec_track_defer(enum mt_tag tag, uintptr_t addr, uint64_t size, uint32_t node)
{
    if (MT_LIKELY(!mt_config.leak_check))
        return false;
    mt_slot_t *slot = mt_slot_tls;
    if (!slot) {
        mt_rec_track(tag, addr, size, node);
        return false;
    }
    __atomic_store_n(&slot->live_busy, 1, __ATOMIC_RELAXED); /* published by the unlock */
    return true;
}

/* After the writer lock is dropped: the change mt_rec_track_defer left for later. */
static inline void mt_rec_track_after(bool deferred, enum mt_tag tag, uintptr_t addr, uint64_t size,
                                      uint32_t node)
{
    if (MT_LIKELY(!deferred))
        return;
    mt_rec_track(tag, addr, size, node);
    __atomic_store_n(&mt_slot_tls->live_busy, 0, __ATOMIC_RELEASE);
}

/*
 * An event through this thread's ring (event_ring.h) instead of the writer lock, with the
 * heap total and the block table changed after it as the locked path does. False when the
 * ring did not take it: the caller records it under the lock.
 */
static inline bool mt_rec_ring_push(enum mt_tag tag, enum mt_alloc_kind kind, const void *p,
                                    uint64_t size, uint32_t node, uint32_t tid, uint64_t tsize,
                                    uint64_t usable)
{
    mt_slot_t *slot = mt_slot_tls;
    if (MT_UNLIKELY(!slot))
        return false;
    uint32_t *busy = MT_UNLIKELY(mt_config.leak_check) ? &slot->live_busy : NULL;
    if (!mt_ring_push(tag, kind, (uintptr_t)p, size, node, tid, busy))
        return false;
    if (tag == MT_TAG_ALLOC || tag == MT_TAG_REALLOC_FAILED) /* p is valid (again) */
        mt_heap_total_add(&mt_rec_heap, usable);
    else
        mt_heap_total_sub(&mt_rec_heap, usable);
    mt_rec_track_after(busy != NULL, tag, (uintptr_t)p, tsize, node);
    return true;
}

/* Writer lock held, e begun: the allocation's ALLOC record, or under --aggregate its share of
 * the figures kept in the process (aggregate.h), which take the block table's change at once.
 * True when that change is left for after the lock (mt_rec_track_defer). */
static inline bool mt_rec_put_alloc(mt_enc_t *e, enum mt_alloc_kind kind, uint64_t now, size_t size,
                                    const void *p, uint32_t node, uint64_t tsize)
{
    if (MT_UNLIKELY(mt_config.aggregate)) {
        mt_agg_alloc(kind, (uintptr_t)p, size, node, now);
        return false;
    }
    mt_enc_alloc(e, kind, now, size, (uintptr_t)p, node);
    return mt_rec_track_defer(MT_TAG_ALLOC, (uintptr_t)p, tsize, node);
}

/* An allocation's record, then its bytes in the heap total (after the ALLOC is in the log: a
 * peak this sets is sampled after it, heap_total.h), then the leak check's table. e: from
 * mt_writer_begin or mt_writer_record, NULL when recording stopped. */
static inline void mt_rec_alloc_commit(mt_enc_t *e, enum mt_alloc_kind kind, uint64_t now,
                                       size_t size, const void *p, uint32_t node, uint64_t tsize,
                                       uint64_t usable)
{
    bool later = MT_LIKELY(e != NULL) && mt_rec_put_alloc(e, kind, now, size, p, node, tsize);
    mt_writer_record_done(e);
    if (MT_LIKELY(e != NULL))
        mt_heap_total_add(&mt_rec_heap, usable);
    mt_rec_track_after(later, MT_TAG_ALLOC, (uintptr_t)p, tsize, node);
}

/* Writer lock held, e begun for thread tid: encodes the tree's queued TRACE_NODE definitions
 * (trace_tree.h), in batches that each leave a buffer room (mt_writer_end). NULL when
 * recording stopped meanwhile (the lock is held all the same). */
__attribute__((noinline)) mt_enc_t *mt_rec_defs_slow(mt_enc_t *e, uint32_t tid)
{
    mt_tree_def_t d[64];
    uint32_t n;
    while (e && (n = mt_tree_defs_take(d, 64)) > 0) {
        for (uint32_t i = 0; i < n; i++)
            mt_enc_trace_node(e, d[i].id, d[i].parent, d[i].ip);
        mt_writer_end_any(); /* an exec may hold the writer */
        e = mt_writer_begin(tid);
    }
    return e;
}

void mt_rec_thread_child(void)
{
    mt_rec_tid_cache = 0;
}

void mt_rec_thread_prime(void)
{
    (void)mt_rec_tid();
}

void mt_rec_heap_start(mt_usable_fn usable)
{
    mt_writer_lock();
    bool on = mt_config.sample_ms && usable;
    mt_rec_usable_fn = on ? usable : mt_rec_usable_none;
    mt_rec_usable_header = on;
    mt_heap_total_init(&mt_rec_heap, on);
    mt_writer_unlock();
}

/* ---- events (hot path: keep these short) ---- */

/* ---- nested Python stacks: C code between Python frames (an import runs a module's body) ----
 *
 * Such a stack is deep (an import of pandas: 80 native and 40 Python frames on average) and a
 * module body runs once, so nearly every event is a stack not seen before, one line further:
 * the whole-stack caches cannot help. What stays is everything outward of the innermost Python
 * frame. So the native walk stops one frame beyond the innermost interpreter loop (inner part);
 * the rest is a tail of stack_tail.h, reused while the stack words its walk read are unchanged
 * (they are the frames of callers, which cannot change while the loop runs); the node of the
 * prefix (tail, loop, outer Python frames) comes from python_node_cache.h; the event's node is
 * that prefix extended by the innermost Python frame and the inner native frames. The same
 * stack, frame for frame, as the full walk and mt_py_merge: the integration test
 * py_nested_cache compares the two (MEMTRACE_PYTHON_CACHE=0 takes the full path).
 */

/* The most frames walked to find the innermost loop's frame: beyond, the full path. */
#define MT_REC_INNER_MAX 48

/* The frames of the stack, as mt_unwind_capture gives them, into nat (MT_UNWIND_MAX): in's
 * from skip, then t's, cut where the capture stops. */
static uint32_t mt_rec_join(uintptr_t *nat, const uintptr_t *in, uint32_t n, uint32_t skip,
                            const mt_tail_t *t)
{
    uint32_t o = 0;
    for (uint32_t i = skip; i < n; i++)
        nat[o++] = in[i];
    for (uint32_t i = 0; i < t->n && n + i < MT_UNWIND_MAX; i++)
        nat[o++] = t->ip[i];
    return o;
}

/*
 * The node of a nested stack: native frames in[0..n) (own frames first, skip of them; in[n - 2]
 * in the innermost loop, in[n - 1] its caller) then t's, Python frames py (npy >= 2, pk their
 * prefix key). Writer lock held. The node mt_py_merge and mt_tree_intern give the whole stack.
 * e takes the Python definitions, and the nodes' in a direct section (mt_tree_direct_begin).
 */
static __attribute__((noinline)) uint32_t
mt_rec_py_nested_node(const uintptr_t *in, uint32_t n, uint32_t skip, const mt_tail_t *t,
                      const mt_pycap_t *cap, const mt_pync_key_t *pk, mt_enc_t *e)
{
    const mt_pyframe_t *py = cap->f;
    uint32_t npy = cap->n;
    uintptr_t a[MT_STACK_MAX], b[MT_STACK_MAX];
    mt_stack_t st;
    uint32_t j = n - 2; /* the loop's frame */
    /* Python frames get their ids in mt_py_merge's order (innermost first), so that the log
     * says the same as the full path's, ids included: py[0] first, and the others only when
     * the prefix is missing (when present they all have theirs), those of the outer loops
     * only when what lies beyond the innermost loop is missing too. */
    uint64_t id0 = mt_py_frame_ip(&py[0], e);
    if (MT_UNLIKELY(!id0 || n - skip + t->n + npy > MT_STACK_MAX || n + t->n > MT_UNWIND_MAX))
        goto full; /* cut somewhere, or out of memory: as the full path does it */
    uint32_t epoch = mt_tree_epoch();
    uint32_t node = mt_pync_prefix_get(pk, t->stamp, t->stamp2, epoch);
    if (!node) {
        /* The prefix, innermost first: the innermost loop's other Python frames, the loop's
         * frame, then what mt_py_merge makes of the rest (mt_py_merge_ips' grouping), which
         * is keyed by the tail and the outer loops' Python frames alone. */
        uint64_t ids[MT_PY_MAX_FRAMES];
        uint32_t entry[MT_PY_MAX_FRAMES], e0 = 0;
        while (e0 + 1 < npy && !py[e0].is_entry)
            e0++;
        for (uint32_t i = 1; i <= e0; i++)
            if (!(ids[i] = mt_py_frame_ip(&py[i], e)))
                goto full;
        mt_pync_key_t wk;
        mt_pync_beyond_key(&wk, cap, e0 + 1);
        uint32_t w = mt_pync_prefix_get(&wk, t->stamp, t->stamp2, epoch);
        if (!w) {
            /* The outer loops' frames got their ids when w was made (its key has their
             * code objects' death counts): only a miss looks them up, innermost first as
             * ever (an import's 30 frames, at every prefix miss). */
            for (uint32_t i = e0 + 1; i < npy; i++) {
                entry[i] = py[i].is_entry;
                if (!(ids[i] = mt_py_frame_ip(&py[i], e)))
                    goto full;
            }
            uint32_t nrest = mt_rec_join(b, in + j + 1, n - j - 1, 0, t);
            st.n = mt_py_merge_ips(b, nrest, ids + e0 + 1, entry + e0 + 1, npy - e0 - 1,
                                   &mt_py.text, a, MT_STACK_MAX);
            st.ip = a;
            mt_stack_hash(&st);
            w = mt_tree_intern(&st);
            mt_pync_prefix_put(&wk, t->stamp, t->stamp2, epoch, w);
        }
        uint32_t o = 0;
        for (uint32_t i = 1; i <= e0; i++)
            a[o++] = (uintptr_t)ids[i];
        if (!mt_py_text_interp(&mt_py.text, in[j])) /* the loop's frame: it always is */
            a[o++] = in[j];
        node = w ? mt_tree_extend(w, a, o) : 0;
        mt_pync_prefix_put(pk, t->stamp, t->stamp2, epoch, node);
        if (!node)
            return 0;
    }
    /* The innermost Python frame, then the frames from the loop's callee to the allocator,
     * but for the interpreter's own (mt_py_merge_ips). */
    for (uint32_t i = skip; i < j; i++)
        b[i - skip] = in[i];
    return mt_pync_leaf(node, id0, b, mt_py_drop_interp(b, j - skip, &mt_py.text), epoch);
full:
    st.n = mt_rec_join(a, in, n, skip, t);
    st.ip = a;
    mt_py_merge(&st, b, py, npy, e);
    return mt_tree_intern(&st);
}

/*
 * Records an allocation whose stack is nested (python.h: mt_py_nested) by the path above.
 * Returns false, having recorded nothing, when that path does not apply (no frame of the loop
 * near enough, a frame libunwind must do): the caller takes the full path. Out of line, as is
 * the node's part: their 16 KiB of buffers are only ever on the recorder's stack (from).
 */
static __attribute__((noinline)) bool mt_rec_py_nested(enum mt_alloc_kind kind, const void *p,
                                                       size_t size, const mt_pycap_t *cap,
                                                       unw_context_t *from)
{
    const greg_t *g = from->uc_mcontext.gregs;
    uintptr_t in[MT_REC_INNER_MAX], stack_lo = (uintptr_t)g[REG_RSP];
    mt_fu_pos_t next;
    int got = mt_fastunw_until((uintptr_t)g[REG_RIP], stack_lo, (uintptr_t)g[REG_RBP],
                               mt_py.text.eval_lo, mt_py.text.eval_hi, in, MT_REC_INNER_MAX, &next);
    if (got < 2)
        return false;
    uint32_t n = (uint32_t)got, skip = mt_unwind_own_prefix(in, n);
    if (skip > n - 2)
        return false;
    mt_pync_key_t pk;
    mt_pync_prefix_key(&pk, cap, in[n - 2]);
    uint64_t usable = kind < MT_ALLOC_PYMEM ? mt_rec_usable(p) : 0;
    uint64_t now = mt_rec_now();
    uint32_t tid = mt_rec_tid();
    mt_tail_t walked; /* 10 KiB: on the recorder's stack (the caller checked there is one) */
    mt_writer_lock();
    const mt_tail_t *t = mt_tail_find(&next, stack_lo);
    if (!t) {
        /* the walk may take the loader's lock (a rule not cached yet): never under ours */
        mt_writer_unlock();
        if (mt_tail_walk(&walked, &next, stack_lo) < 0)
            return false;
        mt_writer_lock();
        t = mt_tail_put(&walked);
    }
    mt_ring_sync();
    mt_enc_t *e = mt_writer_begin(tid);
    uint32_t node = 0;
    uint64_t tsize = kind < MT_ALLOC_PYMEM ? size : size | MT_LIVE_NOT_GLIBC;
    if (MT_LIKELY(e != NULL)) {
        mt_tree_direct_begin(e);
        node = mt_rec_py_nested_node(in, n, skip, t, cap, &pk, e);
        mt_tree_direct_end();
        e = mt_rec_defs(e, tid);
    }
    mt_rec_alloc_commit(e, kind, now, size, p, node, tsize, usable);
    return true;
}

/* The trace node of a stack cut by mt_py_deep_capture (0 when it cannot be made). Writer
 * lock held; e is the encoder its node definitions go to. */
static uint32_t mt_rec_py_deep_node(mt_pydeep_t *d, mt_enc_t *e)
{
    mt_stack_t st;
    uint32_t node = 0;
    mt_tree_direct_begin(e);
    if (mt_py_deep_stack(d, &st, e) == 0)
        node = mt_tree_intern(&st);
    mt_tree_direct_end();
    return node;
}

/*
 * Records an allocation whose Python stack is too deep through C (python.h: mt_pydeep_t): the
 * whole native stack is walked for it, and no stack cache is read or filled (the cut depends
 * on every frame). Returns false, having recorded nothing, when mt_py_deep_capture cannot
 * cut it: the caller records the usual stack. Out of line: its 9 KiB are on the recorder's
 * stack (on the program's for a thread without a slot, from NULL, as the usual path's are).
 */
static __attribute__((noinline)) bool mt_rec_py_deep(enum mt_alloc_kind kind, const void *p,
                                                     size_t size, unw_context_t *from)
{
    mt_pydeep_t d;
    if (mt_py_deep_capture(&d, from) < 0)
        return false;
    uint64_t usable = kind < MT_ALLOC_PYMEM ? mt_rec_usable(p) : 0;
    uint64_t now = mt_rec_now();
    uint32_t tid = mt_rec_tid();
    uint64_t tsize = kind < MT_ALLOC_PYMEM ? size : size | MT_LIVE_NOT_GLIBC;
    mt_writer_lock();
    mt_ring_sync();
    mt_enc_t *e = mt_writer_begin(tid);
    uint32_t node = 0;
    if (MT_LIKELY(e != NULL)) {
        node = mt_rec_py_deep_node(&d, e);
        e = mt_rec_defs(e, tid);
    }
    mt_rec_alloc_commit(e, kind, now, size, p, node, tsize, usable);
    return true;
}

/*
 * With Python frames (python.h). Kept out of line so that programs without Python keep the
 * lean path and its small stack footprint (these buffers take about 9 KiB).
 * The native unwind stops at the interpreter loop: everything beyond it is the interpreter
 * (hidden in reports) and outer Python frames, which the frame chain gives far cheaper. For
 * the allocator domains (ret != NULL: the domain function's caller, sp: the wrapper's frame)
 * the native part is reused per C call path.
 */
static __attribute__((noinline)) void mt_rec_alloc_python(enum mt_alloc_kind kind, const void *p,
                                                          size_t size, const void *ret,
                                                          const void *sp, unw_context_t *from)
{
    if (MT_UNLIKELY(__atomic_load_n(&mt_rec_dl_pending, __ATOMIC_RELAXED)))
        mt_rec_modules_changed();
    mt_writer_prefetch((uintptr_t)p); /* encoded under the lock, after the capture */
    uintptr_t buf[MT_UNWIND_MAX], merged[MT_STACK_MAX], anchor = 0;
    mt_pyframe_t pybuf[MT_PY_MAX_FRAMES];
    mt_pycap_t cap;
    mt_stack_t st;
    uint32_t npy = mt_py_capture(&cap, pybuf, &anchor);
    const mt_pyframe_t *py = cap.f;
    if (MT_UNLIKELY(cap.deep) && mt_rec_py_deep(kind, p, size, from))
        return;
    /* C code between two Python frames (an import, a callback from an extension or a
     * library): the whole native stack, so that every interpreter loop on it takes its Python
     * frames and the C frames between them stay; found from cached parts when it can be
     * (mt_rec_py_nested), walked whole otherwise. */
    bool nested = mt_py_nested(py, npy);
    if (nested && from && mt_py.native_cache && mt_config.fast_unwind && mt_py.text.eval_lo &&
        mt_rec_py_nested(kind, p, size, &cap, from))
        return;
    /* Only when the loop's frame is below us on this stack (the anchor is a stack address). */
    bool cached =
        npy && !nested && ret && mt_py.text.eval_lo && mt_py.native_cache && anchor > (uintptr_t)sp;
    mt_pynative_key_t key = {npy ? (uintptr_t)py[0].code : 0, (uintptr_t)ret,
                             anchor - (uintptr_t)sp, npy ? py[0].offset : 0, npy ? py[0].gen : 0};
    if (npy && !nested && !cached && mt_py.text.eval_lo)
        (void)mt_unwind_capture_until(&st, buf, mt_py.text.eval_lo, mt_py.text.eval_hi, from);
    else if (!cached)
        mt_unwind_capture(&st, buf, from);
    mt_pync_key_t nkey;
    if (cached)
        mt_pync_cap_key(&nkey, &cap, 0, &key);
    /* pymalloc's blocks are not glibc chunks: only the malloc family counts */
    uint64_t usable = kind < MT_ALLOC_PYMEM ? mt_rec_usable(p) : 0;
    uint64_t now = mt_rec_now();
    uint32_t tid = mt_rec_tid();
    mt_writer_lock();
    uint32_t node = cached ? mt_pync_get(&nkey, mt_tree_epoch()) : 0;
    /* Only a native part that reaches the loop is the same for every object of this key. */
    bool reusable = cached;
    if (!node && cached && !mt_py_native_get(&key, buf, &st)) {
        /* libunwind may take the loader's lock: never under ours */
        mt_writer_unlock();
        int at_loop =
            mt_unwind_capture_until(&st, buf, mt_py.text.eval_lo, mt_py.text.eval_hi, from);
        mt_writer_lock();
        if (at_loop)
            mt_py_native_put(&key, &st);
        else
            reusable = false;
    }
    mt_ring_sync();
    mt_enc_t *e = mt_writer_begin(tid);
    /* pymalloc's objects are no glibc chunks (live_table.h) */
    uint64_t tsize = kind < MT_ALLOC_PYMEM ? size : size | MT_LIVE_NOT_GLIBC;
    if (MT_LIKELY(e != NULL) && !node) {
        mt_tree_direct_begin(e);
        if (npy)
            mt_py_merge(&st, merged, py, npy, e);
        node = mt_tree_intern(&st);
        mt_tree_direct_end();
        if (reusable)
            mt_pync_put(&nkey, mt_tree_epoch(), node);
    }
    mt_rec_alloc_commit(mt_rec_defs(e, tid), kind, now, size, p, node, tsize, usable);
}

static void mt_rec_alloc_from(enum mt_alloc_kind kind, const void *p, size_t size,
                              unw_context_t *from)
{
    if (MT_UNLIKELY(__atomic_load_n(&mt_rec_dl_pending, __ATOMIC_RELAXED)))
        mt_rec_modules_changed();
    uintptr_t buf[MT_UNWIND_MAX];
    mt_stack_t st;
    mt_unwind_capture(&st, buf, from);
    uint32_t node = mt_tree_intern(&st);
    /* A custom block (memtrace.h) is no glibc chunk: glibc must never be asked about it. */
    uint64_t usable = kind < MT_ALLOC_PYMEM ? mt_rec_usable(p) : 0;
    uint64_t tsize = kind < MT_ALLOC_PYMEM ? size : size | MT_LIVE_NOT_GLIBC;
    uint32_t tid = mt_rec_tid();
    if (MT_LIKELY(__atomic_load_n(&mt_ring_gate, __ATOMIC_RELAXED)) &&
        mt_rec_ring_push(MT_TAG_ALLOC, kind, p, size, node, tid, tsize, usable))
        return;
    /* --aggregate reads the clock only at a new high, the one time it is written */
    uint64_t now = MT_UNLIKELY(mt_config.aggregate) ? 0 : mt_rec_now();
    mt_rec_alloc_commit(mt_rec_defs(mt_writer_record(tid), tid), kind, now, size, p, node, tsize,
                        usable);
}

/* ---- the recorder's own stack (thread_slots.h) ---- */

/* One event's arguments, in the thread's slot (its scratch), not on the program's stack. */
typedef struct mt_rec_job {
    unw_context_t from; /* mt_rec_switch's registers (mt_rec_save_regs): the walk starts there */
    enum mt_alloc_kind kind;
    enum mt_map_kind map_kind;
    const void *p, *ret, *sp;
    size_t size;
} mt_rec_job_t;
_Static_assert(sizeof(mt_rec_job_t) <= MT_SLOT_SCRATCH, "the job must fit the slot's scratch");

/* This thread's job, or NULL when it has no slot (then events run on the program's stack). */
static inline mt_rec_job_t *mt_rec_job(void)
{
    mt_slot_t *slot = mt_slot_self();
    return MT_LIKELY(slot != NULL) ? (mt_rec_job_t *)slot->scratch : NULL;
}

/*
 * Runs fn(job) on the recorder stack. The registers saved here describe this frame, which
 * stays live until fn returns, so the unwinder can walk the program's stack from it while
 * running on the other. The program's stack pointer is kept for the leak scan meanwhile.
 */
/*
 * The registers an unwind starts from, read in one asm statement so that they all belong to
 * the same instruction, whose CFI row describes this frame: the return address, rsp, rbp and
 * the callee-saved registers. (unw_getcontext saves the FPU environment too, with fnstenv,
 * which costs more than the rest of a recorded event's bookkeeping.)
 */
#define MT_GREG(r) (offsetof(ucontext_t, uc_mcontext.gregs) + (r) * sizeof(greg_t))
static inline __attribute__((always_inline)) void mt_rec_save_regs(unw_context_t *uc)
{
    uc->uc_mcontext.fpregs = &uc->__fpregs_mem;
    __asm__ volatile("leaq 0(%%rip), %%rax\n\t"
                     "movq %%rax, %c1(%0)\n\t"
                     "movq %%rsp, %c2(%0)\n\t"
                     "movq %%rbp, %c3(%0)\n\t"
                     "movq %%rbx, %c4(%0)\n\t"
                     "movq %%r12, %c5(%0)\n\t"
                     "movq %%r13, %c6(%0)\n\t"
                     "movq %%r14, %c7(%0)\n\t"
                     "movq %%r15, %c8(%0)"
                     :
                     : "r"(uc), "i"(MT_GREG(REG_RIP)), "i"(MT_GREG(REG_RSP)), "i"(MT_GREG(REG_RBP)),
                       "i"(MT_GREG(REG_RBX)), "i"(MT_GREG(REG_R12)), "i"(MT_GREG(REG_R13)),
                       "i"(MT_GREG(REG_R14)), "i"(MT_GREG(REG_R15))
                     : "rax", "memory");
}

static __attribute__((noinline)) void mt_rec_switch(mt_rec_job_t *job, void (*fn)(void *))
{
    mt_slot_t *slot = mt_slot_tls; /* taken by mt_rec_job */
    mt_rec_save_regs(&job->from);
    slot->program_sp = (uintptr_t)job->from.uc_mcontext.gregs[REG_RSP];
    mt_stack_call(slot->rec_stack + MT_SLOT_REC_STACK, fn, job);
    slot->program_sp = 0;
}

static void mt_rec_alloc_job(void *arg)
{
    mt_rec_job_t *job = arg;
    if (MT_UNLIKELY(mt_py.frames_on))
        mt_rec_alloc_python(job->kind, job->p, job->size, job->ret, job->sp, &job->from);
    else
        mt_rec_alloc_from(job->kind, job->p, job->size, &job->from);
}

void mt_rec_alloc(enum mt_alloc_kind kind, const void *p, size_t size)
{
    mt_rec_job_t *job = mt_rec_job();
    if (MT_UNLIKELY(!job)) {
        if (mt_py.frames_on)
            mt_rec_alloc_python(kind, p, size, NULL, NULL, NULL);
        else
            mt_rec_alloc_from(kind, p, size, NULL);
        return;
    }
    job->kind = kind;
    job->p = p;
    job->size = size;
    job->ret = job->sp = NULL;
    mt_rec_switch(job, mt_rec_alloc_job);
}

void mt_rec_alloc_py(enum mt_alloc_kind kind, const void *p, size_t size, const void *ret,
                     const void *sp)
{
    ret = mt_py.frames_on ? ret : NULL;
    mt_rec_job_t *job = mt_rec_job();
    if (MT_UNLIKELY(!job)) {
        mt_rec_alloc_python(kind, p, size, ret, sp, NULL);
        return;
    }
    job->kind = kind;
    job->p = p;
    job->size = size;
    job->ret = ret;
    job->sp = sp;
    mt_rec_switch(job, mt_rec_alloc_job);
}

/*
 * A peak sample (heap_total.h), read by the thread whose free ends the peak, before the block
 * goes back to glibc. Outside the recorder lock, like the timer's: mallinfo2 walks every free
 * chunk of every arena and the RSS costs three syscalls, which other threads' events must not
 * wait for. Safe in a free hook: glibc's malloc calls only its internal functions while it
 * holds an arena lock, never an interposed one, so this thread holds none here, and mallinfo2
 * allocates nothing (with the guard set, nothing it did would be recorded anyway).
 * Asynchronous signals are blocked meanwhile: a handler that (wrongly) allocates must not
 * find its arena locked by its own thread, in a window far longer than free's own.
 * Synchronous ones stay deliverable, so that a crash is still a crash.
 */
static __attribute__((noinline, cold)) void mt_rec_peak_read(mt_sample_t *s)
{
    static const int sync_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
    sigset_t block, old;
    sigfillset(&block);
    for (size_t i = 0; i < sizeof sync_sigs / sizeof sync_sigs[0]; i++)
        sigdelset(&block, sync_sigs[i]);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    mt_sampler_read(s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Writes the pending peak's sample, unless another thread's free took it meanwhile. Cold and
 * out of line: mt_rec_free stays as short as it was, at the cost of a second lock round trip
 * per peak (another thread's event may then come between the SAMPLE and this FREE). */
static __attribute__((noinline, cold)) void mt_rec_peak_sample(void)
{
    mt_sample_t s;
    mt_rec_peak_read(&s);
    uint64_t now = mt_rec_now();
    mt_enc_t *e = mt_writer_record(0);
    if (mt_heap_total_claim(&mt_rec_heap) && e) /* claimed even when stopped: read once */
        mt_enc_sample(e, now, &s);
    mt_writer_record_done(e);
}

/* mt_rec_free under --aggregate: no record, so no clock but for a block that comes back (the
 * peak's time), no thread id, no heap total (off: no samples). */
static __attribute__((noinline)) void mt_rec_free_aggregate(enum mt_tag tag, const void *p)
{
    uint64_t now = MT_UNLIKELY(tag == MT_TAG_REALLOC_FAILED) ? mt_rec_now() : 0;
    mt_writer_lock();
    if (MT_LIKELY(mt_rec_active()))
        mt_agg_free(tag, (uintptr_t)p, now);
    mt_writer_unlock();
}

void mt_rec_free(enum mt_tag tag, const void *p, uint64_t usable)
{
    if (MT_UNLIKELY(mt_config.aggregate)) {
        mt_rec_free_aggregate(tag, p);
        return;
    }
    /* Any block leaving ends a pending peak, glibc's or not: nothing lowered the total since
     * the high (pymalloc blocks never change it), so the sample is of the high itself, and
     * it comes before this FREE in the log, with the block still live for the analyzer. (A
     * REALLOC_FAILED finds none pending: its RELEASE took it.) */
    if (MT_UNLIKELY(mt_heap_total_pending(&mt_rec_heap)))
        mt_rec_peak_sample();
    uint32_t tid = mt_rec_tid();
    if (MT_LIKELY(__atomic_load_n(&mt_ring_gate, __ATOMIC_RELAXED)) &&
        mt_rec_ring_push(tag, MT_ALLOC_MALLOC, p, 0, 0, tid, 0, usable))
        return;
    uint64_t now = mt_rec_now();
    mt_enc_t *e = mt_writer_record(tid);
    bool later = false;
    if (MT_LIKELY(e != NULL)) {
        mt_enc_free(e, tag, now, (uintptr_t)p);
        later = mt_rec_track_defer(tag, (uintptr_t)p, 0, 0);
    }
    mt_writer_record_done(e);
    if (MT_LIKELY(e != NULL)) {
        if (MT_UNLIKELY(tag == MT_TAG_REALLOC_FAILED)) /* p is valid again */
            mt_heap_total_add(&mt_rec_heap, usable);
        else
            mt_heap_total_sub(&mt_rec_heap, usable);
    }
    /* Before the caller hands p back to glibc: the next owner's ALLOC finds it gone. */
    mt_rec_track_after(later, tag, (uintptr_t)p, 0, 0);
}

void mt_rec_heap_inner(uint64_t released, uint64_t added)
{
    if (!mt_rec_heap.on)
        return;
    mt_heap_total_sub(&mt_rec_heap, released);
    mt_heap_total_add(&mt_rec_heap, added);
}

/* A mapping made in a Python stack too deep through C (mt_rec_py_deep's stack). False,
 * having recorded nothing, when mt_py_deep_capture cannot cut it. */
static __attribute__((noinline)) bool
mt_rec_mmap_py_deep(const void *p, size_t len, enum mt_map_kind kind, unw_context_t *from)
{
    mt_pydeep_t d;
    if (mt_py_deep_capture(&d, from) < 0)
        return false;
    uint64_t now = mt_rec_now();
    uint32_t tid = mt_rec_tid();
    mt_enc_t *e = mt_writer_record(tid);
    uint32_t node = e ? mt_rec_py_deep_node(&d, e) : 0;
    e = mt_rec_defs(e, tid);
    if (e)
        mt_enc_mmap(e, now, len, (uintptr_t)p, node, kind);
    mt_writer_record_done(e);
    return true;
}

static __attribute__((noinline)) void mt_rec_mmap_python(const void *p, size_t len,
                                                         enum mt_map_kind kind, unw_context_t *from)
{
    uintptr_t buf[MT_UNWIND_MAX], merged[MT_STACK_MAX], anchor;
    mt_pyframe_t pybuf[MT_PY_MAX_FRAMES];
    mt_pycap_t cap;
    mt_stack_t st;
    uint32_t npy = mt_py_capture(&cap, pybuf, &anchor);
    if (MT_UNLIKELY(cap.deep) && mt_rec_mmap_py_deep(p, len, kind, from))
        return;
    mt_unwind_capture(&st, buf, from);
    const mt_pyframe_t *py = cap.f;
    uint64_t now = mt_rec_now();
    uint32_t tid = mt_rec_tid();
    mt_enc_t *e = mt_writer_record(tid);
    uint32_t node = 0;
    if (e) {
        mt_tree_direct_begin(e);
        if (npy)
            mt_py_merge(&st, merged, py, npy, e);
        node = mt_tree_intern(&st);
        mt_tree_direct_end();
    }
    e = mt_rec_defs(e, tid);
    if (e)
        mt_enc_mmap(e, now, len, (uintptr_t)p, node, kind);
    mt_writer_record_done(e);
}

static void mt_rec_mmap_from(const void *p, size_t len, enum mt_map_kind kind, unw_context_t *from)
{
    if (MT_UNLIKELY(mt_py.frames_on)) {
        mt_rec_mmap_python(p, len, kind, from);
        return;
    }
    uintptr_t buf[MT_UNWIND_MAX];
    mt_stack_t st;
    mt_unwind_capture(&st, buf, from);
    uint32_t node = mt_tree_intern(&st);
    uint64_t now = mt_rec_now();
    uint32_t tid = mt_rec_tid();
    mt_enc_t *e = mt_rec_defs(mt_writer_record(tid), tid);
    if (e)
        mt_enc_mmap(e, now, len, (uintptr_t)p, node, kind);
    mt_writer_record_done(e);
}

static void mt_rec_mmap_job(void *arg)
{
    mt_rec_job_t *job = arg;
    mt_rec_mmap_from(job->p, job->size, job->map_kind, &job->from);
}

void mt_rec_mmap(const void *p, size_t len, enum mt_map_kind kind)
{
    /* An aggregated log keeps the heap's figures only (README, "Aggregated recording"). */
    if (mt_config.aggregate)
        return;
    mt_rec_job_t *job = mt_rec_job();
    if (MT_UNLIKELY(!job)) {
        mt_rec_mmap_from(p, len, kind, NULL);
        return;
    }
    job->p = p;
    job->size = len;
    job->map_kind = kind;
    mt_rec_switch(job, mt_rec_mmap_job);
}

void mt_rec_munmap(const void *p, size_t len)
{
    if (mt_config.aggregate)
        return;
    uint64_t now = mt_rec_now();
    uint32_t tid = mt_rec_tid();
    mt_enc_t *e = mt_writer_record(tid);
    if (e) {
        mt_enc_munmap(e, now, len, (uintptr_t)p);
    }
    mt_writer_record_done(e);
}

void mt_rec_py_event(enum mt_tag tag, const void *p, size_t size)
{
    /* An aggregated log keeps no heap at the script's end, whose figures it could not give
     * (its held blocks are those at exit), and no arena events, which grow with the run. */
    if (mt_config.aggregate)
        return;
    /* The end of the script comes with the allocator's view at that moment, so that
     * fragmentation can be told at the end of the script and not only after finalization. */
    mt_sample_t s;
    if (tag == MT_TAG_PY_SCRIPT_END && mt_config.sample_ms)
        mt_rec_peak_read(&s);
    uint64_t now = mt_rec_now();
    uint32_t tid = mt_rec_tid();
    mt_enc_t *e = mt_writer_record(tid);
    if (e) {
        if (tag == MT_TAG_PY_SCRIPT_END && mt_config.sample_ms)
            mt_enc_sample(e, now, &s);
        if (tag == MT_TAG_PY_SCRIPT_END)
            mt_enc_py_script_end(e, now);
        else
            mt_enc_py_arena(e, tag, now, size, (uintptr_t)p);
    }
    mt_writer_record_done(e);
}

void mt_rec_modules_changed(void)
{
    if (!mt_rec_modules_poll())
        return;
    /* A module went away: its addresses may be reused by the next dlopen, so no cached
     * (parent, ip) mapping or unwind info may survive. */
    mt_writer_lock();
    mt_tree_forget();
    mt_py_native_forget();
    mt_writer_unlock();
    mt_unwind_flush();
}

void mt_rec_notice(unsigned code, const char *text)
{
    size_t len = strlen(text);
    uint64_t now = mt_rec_now();
    mt_enc_t *e = mt_writer_record_big(32 + mt_enc_string_size(len));
    if (e) {
        mt_enc_notice_begin(e, now);
        mt_enc_v(e, code);
        mt_enc_string(e, text, len);
    }
    mt_writer_record_done(e);
}

void mt_rec_aggregate_end(void)
{
    if (!mt_config.aggregate)
        return;
    uint64_t now = mt_rec_now();
    /* every node a figure names is defined before it */
    if (mt_rec_defs(mt_writer_begin(0), 0))
        mt_agg_emit(now);
}

// SPDX-License-Identifier: MIT
// Python frames for every recorded event: this thread's frame chain read straight from the
// CPython 3.11 structures (Py_BUILD_CORE headers, layout only: no inline function that touches
// the interpreter's globals, nothing linked from libpython), and a (code, offset) -> location
// id table that emits PY_CODE / PY_LOCATION once per location. Never mallocs, never takes the
// GIL, never calls the Python API except PyCode_Addr2Line (pure table lookup) for new locations.
#include "python/python.h"

#include <errno.h>
#include <string.h>

#include "base/config.h"
#include "base/mt_libc.h"
#include "base/thread_slots.h"
#include "io/log_writer.h"
#include "python/python_node_cache.h"
#include "stack/fast_unwind.h"
#include "stack/stack_hash.h"
#include "stack/stack_tail.h"

/* What python_hooks.c found (the hooks fill it in; the recorder reads it). */
mt_python_t mt_py;
uint32_t mt_py_code_gen[MT_PY_CODE_GEN_SIZE];
uint32_t mt_py_code_deaths;
__thread int mt_py_in_domain __attribute__((tls_model("initial-exec")));

#if MT_HAVE_PYTHON

#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_frame.h>

/* Function pointers found by python_hooks.c. */
PyThreadState *(*mt_py_this_tstate)(void);
int (*mt_py_addr2line)(PyCodeObject *, int);
/* Moves a line-table cursor to the line of an offset (bytes), from where it is: NULL when the
 * interpreter does not export it (then every new location reads the table from its start). */
int (*mt_py_check_line)(int, PyCodeAddressRange *);

typedef struct mt_pyloc {
    uintptr_t code, name, file; /* 0 code: empty slot */
    uint32_t offset;
    int32_t firstlineno;
    uint32_t id;
    uint32_t gen; /* mt_py_code_gen of code's address when the entry was made or checked */
} mt_pyloc_t;

typedef struct mt_pycode {
    uintptr_t code, name, file;
    int32_t firstlineno;
    uint32_t id;
    uint32_t gen;
    uint32_t unused;
    uint64_t text; /* a hash of the name's and the file's text (mt_py_code_text) */
    /* Where the last line lookup in this code object's line table ended (mt_py_line_of): a
     * module body's events come in the order of its lines, so the next lookup walks on from
     * there instead of from the table's start (PyCode_Addr2Line), which made an import's
     * locations cost the square of its modules' lengths. */
    PyCodeAddressRange cursor;
} mt_pycode_t;

/* One (code id, line) pair: the location id every instruction of that line shares. */
typedef struct mt_pyline {
    uint64_t key; /* code id << 32 | line; code ids start at 1, so 0 is an empty slot */
    uint32_t id;
    uint32_t unused;
} mt_pyline_t;

/* The locations looked up last, direct-mapped by (code, offset), in front of the table: a
 * stack's outer frames (an import's dozens) are the same from one event to the next, and the
 * table (a few MiB on an import of pandas) is a cache miss per frame. Checked like the
 * table's entries, so that it never says more than the table would. */
#define MT_PY_HOT_SIZE 1024u

static struct {
    mt_pyloc_t hot[MT_PY_HOT_SIZE];
    mt_pyloc_t *locs;
    size_t locs_cap, locs_used; /* power of two */
    mt_pycode_t *codes;
    size_t codes_cap, codes_used;
    mt_pyline_t *lines;
    size_t lines_cap, lines_used;
    uint32_t next_loc, next_code;
    bool failed; /* out of memory: Python frames are dropped from then on */
} mt_pyt;

/* One frame of this thread's last walk of its frame chain, as read from the frame. A frame of
 * the next walk that reads the same, with every frame outward of it, gives the same
 * mt_pyframe_t: its code object is the same one while the death count of its address is
 * (python.h), and a frame's fields say the rest. */
typedef struct mt_pywalk {
    const void *frame, *instr, *code;
    uint32_t gen;
    uint8_t entry, owner, kept, unused;
} mt_pywalk_t;

/* A thread slot's cache (MT_SLOT_PY_CACHE): the last walk and its frames, each stored from the
 * end of its array (the outermost frame last), so that the outer frames an event shares with
 * the thread's last one stay where they are and the new inner ones go in front of them;
 * outer[c] hashes the c outermost frames (mt_pycap_t). nwalk 0: nothing to reuse. Every
 * frame is compared with the chain before it is reused, so a walk of any earlier event (or of
 * the slot's last thread) is as good to compare with as the last one. */
typedef struct mt_pycache {
    uint32_t nwalk;
    uint32_t deaths; /* mt_py_code_deaths when walk was last compared or made */
    mt_pywalk_t walk[MT_PY_MAX_FRAMES];
    mt_pyframe_t f[MT_PY_MAX_FRAMES];
    mt_pyhash_t outer[MT_PY_MAX_FRAMES + 1];
} mt_pycache_t;
_Static_assert(sizeof(mt_pycache_t) <= MT_SLOT_PY_CACHE, "the capture cache must fit its slot");

/* Chains this short are read whole: comparing them with the last walk costs more. */
#define MT_PY_REUSE_MIN 8u

/* A frame still being set up (_PyFrame_IsIncomplete) has no line yet and is left out. */
static inline bool mt_py_frame_incomplete(const _PyInterpreterFrame *f)
{
    const PyCodeObject *co = f->f_code;
    return f->owner != FRAME_OWNED_BY_GENERATOR &&
           f->prev_instr < _PyCode_CODE(co) + co->_co_firsttraceable;
}

static inline void mt_py_frame_fill(mt_pyframe_t *p, const _PyInterpreterFrame *f, uint32_t gen)
{
    PyCodeObject *co = f->f_code;
    ptrdiff_t idx = f->prev_instr - _PyCode_CODE(co);
    p->code = co;
    p->name = co->co_qualname;
    p->file = co->co_filename;
    p->firstlineno = co->co_firstlineno;
    p->offset = idx > 0 ? (uint32_t)idx * (uint32_t)sizeof(_Py_CODEUNIT) : 0;
    p->is_entry = f->is_entry;
    p->gen = gen;
}

static inline uint32_t mt_py_gen_of(const void *code)
{
    return __atomic_load_n(mt_py_code_gen_slot(code), __ATOMIC_RELAXED);
}

/* A stack deeper than MT_PY_MAX_FRAMES keeps this many of its outermost frames (the
 * script's own lines, where a Python user looks) after a gap frame that stands for the
 * frames left out, and its innermost ones before it. */
#define MT_PY_KEEP_OUTER 32u
/* Frames read at most to find the outermost ones; beyond, the innermost frames alone. */
#define MT_PY_SCAN_MAX 65536u

static inline void mt_py_frame_keep(mt_pyframe_t *p, const _PyInterpreterFrame *f)
{
    mt_py_frame_fill(p, f, mt_py_gen_of(f->f_code));
}

/*
 * Every frame from f outward into out (max entries, innermost first). A deeper stack keeps
 * its innermost max - MT_PY_KEEP_OUTER - 1 frames, a gap frame (python.h: code NULL, offset
 * the number left out) and its outermost MT_PY_KEEP_OUTER, when no frame left out is the
 * first of its interpreter loop (mt_py_merge places Python frames by those), else its
 * innermost max frames.
 */
static uint32_t mt_py_capture_whole(const _PyInterpreterFrame *f, mt_pyframe_t *out, uint32_t max,
                                    bool *deep)
{
    uint32_t n = 0;
    for (; f && f->f_code && n < max; f = f->previous)
        if (!mt_py_frame_incomplete(f))
            mt_py_frame_keep(&out[n++], f);
    if (!f || !f->f_code || max <= MT_PY_KEEP_OUTER + 1)
        return n;
    /* Deeper: the outermost frames (at most MT_PY_KEEP_OUTER) in a ring, oldest innermost. */
    mt_pyframe_t ring[MT_PY_KEEP_OUTER];
    uint32_t in_ring = 0, next = 0, scanned = 0;
    uint64_t evicted = 0;
    bool entry_left_out = false;
    for (; f && f->f_code; f = f->previous) {
        if (++scanned > MT_PY_SCAN_MAX)
            return n; /* the outermost frames are too far: the innermost ones, as they came */
        if (mt_py_frame_incomplete(f))
            continue;
        if (in_ring == MT_PY_KEEP_OUTER) {
            entry_left_out |= ring[next].is_entry != 0;
            evicted++;
        } else {
            in_ring++;
        }
        mt_py_frame_keep(&ring[next], f);
        next = (next + 1) % MT_PY_KEEP_OUTER;
    }
    if (!in_ring)
        return n; /* only frames being set up beyond: nothing more to keep */
    /* The result: out[0, gap) as read, the gap frame, then the outermost MT_PY_KEEP_OUTER
     * frames: out's last MT_PY_KEEP_OUTER - in_ring, then the ring's. Left out: out[gap,
     * max - MT_PY_KEEP_OUTER + in_ring) and whatever the ring dropped. */
    const uint32_t gap = max - MT_PY_KEEP_OUTER - 1, from_out = MT_PY_KEEP_OUTER - in_ring;
    for (uint32_t i = gap; i < max - from_out; i++)
        entry_left_out |= out[i].is_entry != 0;
    if (entry_left_out) {
        *deep = true; /* mt_py_deep_capture cuts it with its native frames */
        return n;
    }
    uint64_t left_out = (max - from_out - gap) + evicted;
    memmove(&out[gap + 1], &out[max - from_out], from_out * sizeof *out);
    for (uint32_t k = 0; k < in_ring; k++)
        out[gap + 1 + from_out + k] =
            ring[(next + MT_PY_KEEP_OUTER - in_ring + k) % MT_PY_KEEP_OUTER];
    out[gap] = (mt_pyframe_t){.offset = (uint32_t)(left_out < UINT32_MAX ? left_out : UINT32_MAX)};
    return max;
}

/* The walk of chain[0..w) (innermost first), reusing what c holds of the last one. */
static uint32_t mt_py_capture_cached(mt_pycache_t *c, _PyInterpreterFrame *const *chain, uint32_t w)
{
    const uint32_t top = MT_PY_MAX_FRAMES;
    uint32_t m = 0; /* frames kept, from the outermost */
    /* No death since the walk: a frame that reads the same has the same count (python.h). */
    uint32_t deaths = __atomic_load_n(&mt_py_code_deaths, __ATOMIC_RELAXED);
    bool same = true, none_died = deaths == c->deaths;
    c->deaths = deaths;
    c->outer[0] = mt_pync_hash_empty();
    for (uint32_t d = 0; d < w; d++) {
        const _PyInterpreterFrame *f = chain[w - 1 - d];
        mt_pywalk_t *s = &c->walk[top - 1 - d];
        const void *co = f->f_code;
        if (same && d < c->nwalk && s->frame == f && s->instr == f->prev_instr && s->code == co &&
            s->entry == f->is_entry && s->owner == (uint8_t)f->owner &&
            (none_died || s->gen == mt_py_gen_of(co))) {
            m += s->kept;
            continue;
        }
        same = false;
        uint32_t gen = mt_py_gen_of(co);
        *s = (mt_pywalk_t){f, f->prev_instr, co, gen, f->is_entry, (uint8_t)f->owner, 0, 0};
        if (mt_py_frame_incomplete(f))
            continue;
        s->kept = 1;
        m++;
        mt_py_frame_fill(&c->f[top - m], f, gen);
        c->outer[m] = mt_pync_hash_step(c->outer[m - 1], &c->f[top - m]);
    }
    c->nwalk = w;
    return m;
}

uint32_t mt_py_capture(mt_pycap_t *cap, mt_pyframe_t *buf, uintptr_t *anchor)
{
    cap->f = buf;
    cap->outer = NULL;
    cap->n = 0;
    cap->deep = false;
    if (!mt_py.frames_on)
        return 0;
    PyThreadState *ts = mt_py_this_tstate();
    if (!ts || !ts->cframe)
        return 0;
    *anchor = (uintptr_t)ts->cframe;
    _PyInterpreterFrame *top = ts->cframe->current_frame, *f = top;
    /* The chain first, frame fields only (the frames live in the thread's data stack). */
    _PyInterpreterFrame *chain[MT_PY_MAX_FRAMES];
    uint32_t w = 0;
    for (; f && f->f_code && w <= MT_PY_REUSE_MIN; f = f->previous)
        chain[w++] = f;
    /* A short chain (a loop's events: 5 frames) costs less read whole than compared with the
     * last one; a deeper one is compared from its outermost frame with this thread's last,
     * and its code objects are read only for the frames that changed (an import's 40 frames
     * a stack: reading its innermost 8 whole, as a short one, was a tenth of the capture). */
    if (w <= MT_PY_REUSE_MIN && !(f && f->f_code)) {
        uint32_t n = 0;
        for (uint32_t i = 0; i < w; i++)
            if (!mt_py_frame_incomplete(chain[i]))
                mt_py_frame_keep(&buf[n++], chain[i]);
        return cap->n = n;
    }
    /* MEMTRACE_PYTHON_CACHE=0 (mt_py.native_cache false) reads every frame whole: the tests
     * compare the stacks both ways. */
    mt_slot_t *slot = mt_py.native_cache ? mt_slot_peek() : NULL;
    mt_pycache_t *c = slot ? slot->py_cache : NULL;
    /* The rest of the walk is a chain of dependent loads, one frame each, most of them cache
     * misses on an import (its outer frames ran long ago): the frames of this thread's last
     * walk, which an event's chain mostly shares, are fetched all at once first. A prefetch
     * never faults, so a frame gone since (its data stack chunk freed) costs nothing. */
    if (MT_LIKELY(c != NULL))
        for (uint32_t d = 0; d < c->nwalk; d++) {
            const _PyInterpreterFrame *p = c->walk[MT_PY_MAX_FRAMES - 1 - d].frame;
            __builtin_prefetch(&p->f_code); /* the fields read span two lines at most */
            __builtin_prefetch(&p->owner);
        }
    for (; f && f->f_code && w < MT_PY_MAX_FRAMES; f = f->previous)
        chain[w++] = f;
    if (MT_LIKELY(c != NULL) && !(f && f->f_code)) {
        cap->n = mt_py_capture_cached(c, chain, w);
        cap->f = &c->f[MT_PY_MAX_FRAMES - cap->n];
        cap->outer = c->outer;
        return cap->n;
    }
    /* Deeper than the cache (recursion), or no slot: read whole. */
    return cap->n = mt_py_capture_whole(top, buf, MT_PY_MAX_FRAMES, &cap->deep);
}

/* ---- stacks too deep through C (python.h: mt_pydeep_t) ---- */

/* Native frames walked at a time: one interpreter loop's C calls fit many times over. */
#define MT_PY_DEEP_SEG 256
/* Native frames walked at most: beyond, the usual stack (innermost frames only). */
#define MT_PY_DEEP_NATIVE_MAX (1u << 20)

typedef struct mt_pydeep_walk {
    mt_pydeep_t *d;
    uintptr_t ring[MT_STACK_MAX - 1]; /* the outer part: the last ring_cap items */
    uint32_t ring_cap, ring_n, ring_at;
    uint32_t in_py;               /* Python frames in the inner part (d->item[0..d->n)) */
    uint32_t py_total;            /* Python frames met */
    bool inner_done;              /* the inner part is full: items go to the ring */
    const _PyInterpreterFrame *f; /* the next frame of the chain */
    uint32_t scanned;             /* frames of the chain passed */
} mt_pydeep_walk_t;

/* One item of the merged stack, innermost first: a native return address, or a Python frame
 * (MT_PY_IP_BIT | its address: frames stay put while the thread holds the GIL). */
static void mt_py_deep_put(mt_pydeep_walk_t *w, uintptr_t item)
{
    bool py = (item & MT_PY_IP_BIT) != 0;
    w->py_total += py;
    if (!w->inner_done) {
        if (w->d->n < MT_PY_DEEP_INNER &&
            (!py || w->in_py < MT_PY_MAX_FRAMES - 1 - MT_PY_DEEP_OUTER_PY)) {
            w->d->item[w->d->n++] = item;
            w->in_py += py;
            return;
        }
        /* What is left of MT_STACK_MAX, after the gap, is the outer part's. */
        w->inner_done = true;
        w->ring_cap = MT_STACK_MAX - 1 - w->d->n;
    }
    w->ring[w->ring_at] = item;
    w->ring_at = w->ring_at + 1 == w->ring_cap ? 0 : w->ring_at + 1;
    w->ring_n += w->ring_n < w->ring_cap;
}

/* The Python frames that the interpreter loop whose native frame comes next runs (up to the
 * first of that C call, is_entry), or all that are left (all): as mt_py_merge_ips groups
 * them. A frame still being set up is no item, but its loop is the one it starts. Returns
 * false when the chain is longer than mt_py_capture_whole reads. */
static bool mt_py_deep_loop(mt_pydeep_walk_t *w, bool all)
{
    while (w->f && w->f->f_code) {
        const _PyInterpreterFrame *f = w->f;
        w->f = f->previous;
        if (++w->scanned > MT_PY_SCAN_MAX)
            return false;
        if (!mt_py_frame_incomplete(f))
            mt_py_deep_put(w, MT_PY_IP_BIT | (uintptr_t)f);
        if (f->is_entry && !all)
            break;
    }
    return true;
}

/* A Python item's frame into d->py, and the item made its index there. */
static void mt_py_deep_keep(mt_pydeep_t *d, uintptr_t *item)
{
    if (!(*item & MT_PY_IP_BIT))
        return;
    const _PyInterpreterFrame *f = (const _PyInterpreterFrame *)(*item & ~MT_PY_IP_BIT);
    mt_py_frame_keep(&d->py[d->npy], f);
    *item = MT_PY_IP_BIT | d->npy++;
}

/* One native frame of the walk, after the Python frames of the interpreter loop it is the
 * frame of (as mt_py_merge_ips puts them). */
static int mt_py_deep_native(mt_pydeep_walk_t *w, uintptr_t ip)
{
    if (ip - 1 >= mt_py.text.eval_lo && ip - 1 < mt_py.text.eval_hi && w->f && w->f->f_code &&
        !mt_py_deep_loop(w, false))
        return -ENOTSUP;
    mt_py_deep_put(w, ip);
    return 0;
}

/* The native frames by the fast unwinder, a loop's worth at a time (the walk stops one frame
 * beyond each interpreter loop). -EAGAIN: some frame needs libunwind (or the thread has no
 * slot, whose rule cache the fast unwinder uses); the caller walks again with it. */
static int mt_py_deep_walk_fast(mt_pydeep_walk_t *w, uintptr_t rip, uintptr_t rsp, uintptr_t rbp)
{
    uintptr_t seg[MT_PY_DEEP_SEG];
    mt_fu_pos_t at = {rip - 1, rsp, rbp};
    uint32_t walked = 0;
    bool first = true;
    for (;;) {
        mt_fu_pos_t next;
        int got = mt_fastunw_until(at.key + 1, at.sp, at.bp, mt_py.text.eval_lo, mt_py.text.eval_hi,
                                   seg, MT_PY_DEEP_SEG, &next);
        bool last = got == 0;
        if (last) { /* no loop before the end: the rest of the stack */
            int nw;
            uintptr_t cfa;
            bool bpu;
            got = mt_fastunw_record(&at, rsp, seg, MT_PY_DEEP_SEG, NULL, 0, &nw, &cfa, &bpu);
            if (got >= MT_PY_DEEP_SEG)
                return -EAGAIN; /* C code deeper than a segment */
        }
        if (got < 0)
            return -EAGAIN;
        uint32_t n = (uint32_t)got, i = first ? mt_unwind_own_prefix(seg, n) : 0;
        first = false;
        if ((walked += n) > MT_PY_DEEP_NATIVE_MAX)
            return -ENOTSUP;
        for (; i < n; i++)
            if (mt_py_deep_native(w, seg[i]) < 0)
                return -ENOTSUP;
        if (last)
            return 0;
        at = next;
    }
}

/* The native frames by libunwind from ctx (one frame at a time: a frame without usable unwind
 * tables, MEMTRACE_FAST_UNWIND=0, a thread without a slot). The same return addresses as the
 * fast unwinder's (it falls back to libunwind whenever they could differ). */
static int mt_py_deep_walk_unw(mt_pydeep_walk_t *w, unw_context_t *ctx)
{
    unw_cursor_t c;
    if (unw_init_local(&c, ctx) < 0)
        return -ENOTSUP;
    bool own = true; /* memtrace's frames first, left out */
    for (uint32_t walked = 0; unw_step(&c) > 0;) {
        unw_word_t ip;
        if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        if (++walked > MT_PY_DEEP_NATIVE_MAX)
            return -ENOTSUP;
        uintptr_t a = (uintptr_t)ip;
        if (own && mt_unwind_own_prefix(&a, 1))
            continue;
        own = false;
        if (mt_py_deep_native(w, a) < 0)
            return -ENOTSUP;
    }
    return 0;
}

/* The walk of this thread's native and Python frames into w (reset first). */
static int mt_py_deep_walk(mt_pydeep_walk_t *w, mt_pydeep_t *d, const PyThreadState *ts,
                           unw_context_t *ctx, bool fast)
{
    *w = (mt_pydeep_walk_t){.d = d, .f = ts->cframe->current_frame};
    d->n = d->npy = 0;
    const greg_t *g = ctx->uc_mcontext.gregs;
    return fast ? mt_py_deep_walk_fast(w, (uintptr_t)g[REG_RIP], (uintptr_t)g[REG_RSP],
                                       (uintptr_t)g[REG_RBP])
                : mt_py_deep_walk_unw(w, ctx);
}

int mt_py_deep_capture(mt_pydeep_t *d, unw_context_t *from)
{
    if (!mt_py.frames_on || !mt_py.text.eval_lo)
        return -ENOTSUP;
    PyThreadState *ts = mt_py_this_tstate();
    if (!ts || !ts->cframe)
        return -ENOTSUP;
    /* Without the recorder's context (a thread without a slot), the walk starts here: this
     * frame stays live meanwhile, and memtrace's frames are left out as the context's are. */
    unw_context_t here;
    if (!from) {
        if (unw_getcontext(&here) < 0)
            return -ENOTSUP;
        from = &here;
    }
    mt_pydeep_walk_t w;
    int rc = mt_config.fast_unwind ? mt_py_deep_walk(&w, d, ts, from, true) : -EAGAIN;
    if (rc == -EAGAIN)
        rc = mt_py_deep_walk(&w, d, ts, from, false);
    if (rc < 0)
        return rc;
    /* Python frames no loop claimed (as mt_py_merge_ips): the outermost part. */
    if (!mt_py_deep_loop(&w, true))
        return -ENOTSUP;
    /* The inner part ends with its last Python frame: the native frames after it are its
     * loop's and the C calls into the next frame, which is left out. */
    uint32_t in_n = d->n;
    while (in_n > 0 && !(d->item[in_n - 1] & MT_PY_IP_BIT))
        in_n--;
    if (in_n > 0)
        d->n = in_n;
        /* The outer part: from the oldest of the ring's Python frames that leaves at most
         * MT_PY_DEEP_OUTER_PY outward of it, after the C calls into it when the ring has them
         * from the loop's frame of the frame before (else from the frame itself). */
#define MT_PY_DEEP_RING(k) w.ring[(w.ring_at + w.ring_cap - (w.ring_n - (k))) % w.ring_cap]
    uint32_t start = w.ring_n, out_py = 0;
    for (uint32_t k = w.ring_n; k-- > 0;) {
        if (!(MT_PY_DEEP_RING(k) & MT_PY_IP_BIT))
            continue;
        if (out_py == MT_PY_DEEP_OUTER_PY)
            break;
        out_py++;
        start = k;
    }
    for (uint32_t k = start; k-- > 0;) {
        uintptr_t it = MT_PY_DEEP_RING(k);
        if (it & MT_PY_IP_BIT)
            break;
        if (it - 1 >= mt_py.text.eval_lo && it - 1 < mt_py.text.eval_hi) {
            start = k + 1;
            break;
        }
    }
    uint64_t left_out = w.py_total - w.in_py - out_py;
    if (!w.inner_done || !left_out)
        return -ENOTSUP; /* mt_pycap_t.deep said otherwise: the chain changed? */
    for (uint32_t i = 0; i < d->n; i++)
        mt_py_deep_keep(d, &d->item[i]);
    d->item[d->n++] = MT_PY_IP_BIT | MT_PY_IP_GAP | (left_out < UINT32_MAX ? left_out : UINT32_MAX);
    for (uint32_t k = start; k < w.ring_n; k++) {
        d->item[d->n] = MT_PY_DEEP_RING(k);
        mt_py_deep_keep(d, &d->item[d->n++]);
    }
#undef MT_PY_DEEP_RING
    return 0;
}

/* What mt_py_merge_ips keeps of a merged stack: no native frame of the interpreter's code, and
 * none outward of the outermost Python frame. */
static void mt_py_deep_keep_shown(mt_pydeep_t *d)
{
    uint32_t last = d->n;
    while (last > 0 && !(d->item[last - 1] & MT_PY_IP_BIT))
        last--;
    if (last == 0)
        return; /* no Python frame: the native stack as it is */
    uint32_t k = 0;
    for (uint32_t i = 0; i < last; i++)
        if ((d->item[i] & MT_PY_IP_BIT) || !mt_py_text_interp(&mt_py.text, d->item[i]))
            d->item[k++] = d->item[i];
    d->n = k;
}

int mt_py_deep_stack(mt_pydeep_t *d, mt_stack_t *st, mt_enc_t *e)
{
    mt_py_deep_keep_shown(d);
    /* The Python frames' ids innermost first, as mt_py_merge makes them. */
    for (uint32_t i = 0; i < d->n; i++) {
        uintptr_t it = d->item[i];
        if (!(it & MT_PY_IP_BIT) || (it & MT_PY_IP_GAP))
            continue;
        uint64_t id = mt_py_frame_ip(&d->py[it & ~MT_PY_IP_BIT], e);
        if (!id)
            return -ENOMEM;
        d->item[i] = (uintptr_t)id;
    }
    st->ip = d->item;
    st->n = d->n;
    mt_stack_hash(st);
    return 0;
}

/* UTF-8 of a compact str object, straight from its data (no allocation, no API call). Other
 * objects give "?". Returns the length written (at most cap). */
static size_t mt_py_str(const void *obj, char *out, size_t cap)
{
    const PyObject *o = obj;
    if (!o || !(Py_TYPE(o)->tp_flags & Py_TPFLAGS_UNICODE_SUBCLASS))
        goto unknown;
    const PyASCIIObject *a = obj;
    if (!a->state.compact)
        goto unknown;
    size_t len = (size_t)a->length;
    if (a->state.ascii) {
        if (len > cap)
            len = cap;
        memcpy(out, a + 1, len);
        return len;
    }
    const PyCompactUnicodeObject *c = obj;
    if (c->utf8) {
        len = (size_t)c->utf8_length < cap ? (size_t)c->utf8_length : cap;
        memcpy(out, c->utf8, len);
        return len;
    }
    const void *data = c + 1;
    unsigned kind = a->state.kind;
    size_t o_ = 0;
    for (size_t i = 0; i < len; i++) {
        uint32_t ch = kind == 1   ? ((const uint8_t *)data)[i]
                      : kind == 2 ? ((const uint16_t *)data)[i]
                                  : ((const uint32_t *)data)[i];
        uint8_t b[4];
        size_t k;
        if (ch < 0x80) {
            b[0] = (uint8_t)ch;
            k = 1;
        } else if (ch < 0x800) {
            b[0] = (uint8_t)(0xc0 | ch >> 6);
            b[1] = (uint8_t)(0x80 | (ch & 0x3f));
            k = 2;
        } else if (ch < 0x10000) {
            b[0] = (uint8_t)(0xe0 | ch >> 12);
            b[1] = (uint8_t)(0x80 | ((ch >> 6) & 0x3f));
            b[2] = (uint8_t)(0x80 | (ch & 0x3f));
            k = 3;
        } else {
            b[0] = (uint8_t)(0xf0 | ch >> 18);
            b[1] = (uint8_t)(0x80 | ((ch >> 12) & 0x3f));
            b[2] = (uint8_t)(0x80 | ((ch >> 6) & 0x3f));
            b[3] = (uint8_t)(0x80 | (ch & 0x3f));
            k = 4;
        }
        if (o_ + k > cap)
            break;
        memcpy(out + o_, b, k);
        o_ += k;
    }
    return o_;
unknown:
    out[0] = '?';
    return 1;
}

static inline uint64_t mt_py_mix(uint64_t a, uint64_t b)
{
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 31);
}

/* Doubles an open-addressing table of entries of size sz whose first word is the key word
 * (0: empty) hashed by hashfn. */
static void *mt_py_grow(void *old, size_t *cap, size_t sz, uint64_t (*hashfn)(const void *))
{
    size_t ncap = *cap ? *cap * 2 : 4096;
    uint8_t *nt = mt_map(ncap * sz);
    if (!nt)
        return NULL;
    for (size_t i = 0; i < *cap; i++) {
        const uint8_t *e = (const uint8_t *)old + i * sz;
        if (!*(const uintptr_t *)e)
            continue;
        size_t s = hashfn(e) & (ncap - 1);
        while (*(uintptr_t *)(nt + s * sz))
            s = (s + 1) & (ncap - 1);
        memcpy(nt + s * sz, e, sz);
    }
    if (old)
        mt_unmap(old, *cap * sz);
    *cap = ncap;
    return nt;
}

static uint64_t mt_py_loc_hash(const void *p)
{
    const mt_pyloc_t *l = p;
    return mt_py_mix(l->code, l->offset);
}

static uint64_t mt_py_code_hash(const void *p)
{
    const mt_pycode_t *c = p;
    return mt_py_mix(c->code, c->name);
}

static uint64_t mt_py_line_hash(const void *p)
{
    const mt_pyline_t *l = p;
    return mt_py_mix(l->key, 0);
}

#define MT_PY_STR_MAX 1024

static uint64_t mt_py_text_hash(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

/* The name and the file of f's code object as text, and a hash of both. */
static uint64_t mt_py_code_text(const mt_pyframe_t *f, char *name, size_t *nl, char *file,
                                size_t *fl)
{
    *nl = mt_py_str(f->name, name, MT_PY_STR_MAX);
    *fl = mt_py_str(f->file, file, MT_PY_STR_MAX);
    uint64_t h = mt_py_text_hash(0xcbf29ce484222325ull, name, *nl);
    return mt_py_text_hash(h ^ 0xff, file, *fl);
}

/* A cursor at the start of code's line table, as CPython 3.11 makes one
 * (_PyCode_InitAddressRange, which it does not export). */
static void mt_py_cursor_init(PyCodeAddressRange *r, const void *code)
{
    const PyCodeObject *co = code;
    const PyBytesObject *table = (const PyBytesObject *)co->co_linetable;
    r->opaque.lo_next = (const uint8_t *)table->ob_sval;
    r->opaque.limit = r->opaque.lo_next + Py_SIZE(table);
    r->opaque.computed_line = co->co_firstlineno;
    r->ar_start = -1;
    r->ar_end = 0;
    r->ar_line = -1;
}

/* The line of byte offset off in c's code object, as PyCode_Addr2Line gives it. */
static int mt_py_line_of(mt_pycode_t *c, const void *code, uint32_t off)
{
    if (!mt_py_check_line)
        return mt_py_addr2line((PyCodeObject *)(uintptr_t)code, (int)off);
    return mt_py_check_line((int)off, &c->cursor);
}

/*
 * The code id of f's code object, emitting PY_CODE when new; 0 when out of memory. An entry
 * made under another death count of the address (python.h) is the same code object only if
 * its name and file still read the same: then it keeps its id, else the address now holds
 * another code object, which takes the entry over with an id of its own.
 */
static uint32_t mt_py_code_id(const mt_pyframe_t *f, mt_enc_t *e, mt_pycode_t **entry)
{
    if (mt_pyt.codes_used * 2 >= mt_pyt.codes_cap) {
        void *nt =
            mt_py_grow(mt_pyt.codes, &mt_pyt.codes_cap, sizeof(mt_pycode_t), mt_py_code_hash);
        if (!nt)
            return 0;
        mt_pyt.codes = nt;
    }
    mt_pycode_t key = {.code = (uintptr_t)f->code,
                       .name = (uintptr_t)f->name,
                       .file = (uintptr_t)f->file,
                       .firstlineno = f->firstlineno,
                       .gen = f->gen};
    size_t mask = mt_pyt.codes_cap - 1;
    size_t s = mt_py_code_hash(&key) & mask;
    mt_pycode_t *c = NULL;
    for (;; s = (s + 1) & mask) {
        c = &mt_pyt.codes[s];
        if (!c->code)
            break;
        if (c->code == key.code && c->name == key.name && c->file == key.file &&
            c->firstlineno == key.firstlineno)
            break;
    }
    *entry = c;
    if (c->code && c->gen == key.gen)
        return c->id;
    char name[MT_PY_STR_MAX], file[MT_PY_STR_MAX];
    size_t nl, fl;
    key.text = mt_py_code_text(f, name, &nl, file, &fl);
    if (c->code && c->text == key.text) {
        /* The same code as far as the log can tell (a slot-mate died, or code made again from
         * the same text: exec), but perhaps another object: a cursor of its own table. */
        c->gen = key.gen;
        mt_py_cursor_init(&c->cursor, f->code);
        return c->id;
    }
    if (!c->code)
        mt_pyt.codes_used++;
    key.id = mt_pyt.next_code++;
    mt_py_cursor_init(&key.cursor, f->code);
    *c = key;
    /* Fits the slack every locked section has (MT_BUF_CAP - MT_BUF_THRESHOLD). */
    mt_enc_py_code(e, key.id, (uint32_t)(f->firstlineno > 0 ? f->firstlineno : 0), name, nl, file,
                   fl);
    return key.id;
}

/*
 * The location id of (code_id, line), emitting PY_LOCATION when new; 0 when out of memory.
 * One id per line, not per instruction: a line's instructions (a call, the tuple of its
 * arguments, the function it makes) are one frame of the stack for every report, and one id
 * makes them one trace-tree node with one set of callees. With an id per instruction, an
 * import made a node chain per allocating instruction of every module body line, each with
 * its interpreter frames below it (issue 17: nearly every event of `import pandas` was a new
 * stack).
 */
static uint32_t mt_py_line_id(uint32_t code_id, uint32_t line, mt_enc_t *e)
{
    if (MT_UNLIKELY(mt_pyt.lines_used * 2 >= mt_pyt.lines_cap)) {
        void *nt =
            mt_py_grow(mt_pyt.lines, &mt_pyt.lines_cap, sizeof(mt_pyline_t), mt_py_line_hash);
        if (!nt)
            return 0;
        mt_pyt.lines = nt;
    }
    mt_pyline_t key = {(uint64_t)code_id << 32 | line, 0, 0};
    size_t mask = mt_pyt.lines_cap - 1;
    size_t s = mt_py_line_hash(&key) & mask;
    for (;; s = (s + 1) & mask) {
        mt_pyline_t *l = &mt_pyt.lines[s];
        if (!l->key)
            break;
        if (l->key == key.key)
            return l->id;
    }
    key.id = mt_pyt.next_loc++;
    mt_pyt.lines[s] = key;
    mt_pyt.lines_used++;
    mt_enc_py_location(e, key.id, code_id, line);
    return key.id;
}

/* The pseudo ip of one Python frame; 0 when out of memory. The (code, offset) table in front
 * of the line table spares the line lookup (PyCode_Addr2Line) to every instruction seen
 * before. */
static uint64_t mt_py_location(const mt_pyframe_t *f, mt_enc_t *e)
{
    if (MT_UNLIKELY(!f->code)) /* the gap of a deep stack (mt_py_capture_whole) */
        return MT_PY_IP_BIT | MT_PY_IP_GAP | f->offset;
    if (MT_UNLIKELY(mt_pyt.locs_used * 2 >= mt_pyt.locs_cap)) {
        void *nt = mt_py_grow(mt_pyt.locs, &mt_pyt.locs_cap, sizeof(mt_pyloc_t), mt_py_loc_hash);
        if (!nt)
            return 0;
        mt_pyt.locs = nt;
    }
    uint64_t h = mt_py_mix((uintptr_t)f->code, f->offset);
    mt_pyloc_t *hot = &mt_pyt.hot[(h >> 20) & (MT_PY_HOT_SIZE - 1)];
    if (hot->code == (uintptr_t)f->code && hot->offset == f->offset &&
        hot->name == (uintptr_t)f->name && hot->file == (uintptr_t)f->file &&
        hot->firstlineno == f->firstlineno && hot->gen == f->gen && hot->code)
        return MT_PY_IP_BIT | hot->id;
    size_t mask = mt_pyt.locs_cap - 1;
    size_t s = h & mask;
    mt_pyloc_t *l;
    for (;; s = (s + 1) & mask) {
        l = &mt_pyt.locs[s];
        if (!l->code)
            break;
        if (l->code == (uintptr_t)f->code && l->offset == f->offset &&
            l->name == (uintptr_t)f->name && l->file == (uintptr_t)f->file &&
            l->firstlineno == f->firstlineno) {
            if (l->gen == f->gen) {
                *hot = *l;
                return MT_PY_IP_BIT | l->id;
            }
            break; /* made under another death count: found again below, in place */
        }
    }
    bool fresh = !l->code;
    mt_pycode_t *ce;
    uint32_t code_id = mt_py_code_id(f, e, &ce);
    if (!code_id)
        return 0;
    int line = mt_py_line_of(ce, f->code, f->offset);
    uint32_t id = mt_py_line_id(code_id, (uint32_t)(line > 0 ? line : 0), e);
    if (!id)
        return 0;
    *l = (mt_pyloc_t){(uintptr_t)f->code,
                      (uintptr_t)f->name,
                      (uintptr_t)f->file,
                      f->offset,
                      f->firstlineno,
                      id,
                      f->gen};
    mt_pyt.locs_used += fresh;
    *hot = mt_pyt.locs[s];
    return MT_PY_IP_BIT | id;
}

static void mt_py_tables_failed(void)
{
    mt_pyt.failed = true;
    mt_msg("out of memory for Python locations; native stacks only from here on");
}

uint64_t mt_py_frame_ip(const mt_pyframe_t *f, mt_enc_t *e)
{
    if (mt_pyt.failed)
        return 0;
    uint64_t id = mt_py_location(f, e);
    if (!id)
        mt_py_tables_failed();
    return id;
}

bool mt_py_frames_lost(void)
{
    return mt_pyt.failed;
}

void mt_py_merge(mt_stack_t *st, uintptr_t *out, const mt_pyframe_t *py, uint32_t npy, mt_enc_t *e)
{
    if (mt_pyt.failed) {
        mt_stack_hash(st); /* the native part alone: the tree trusts the hash */
        return;
    }
    uint64_t ids[MT_PY_MAX_FRAMES];
    uint32_t entry[MT_PY_MAX_FRAMES];
    for (uint32_t i = 0; i < npy; i++) {
        ids[i] = mt_py_location(&py[i], e);
        if (!ids[i]) {
            mt_py_tables_failed();
            mt_stack_hash(st);
            return;
        }
        entry[i] = py[i].is_entry;
    }
    uint32_t n = mt_py_merge_ips(st->ip, st->n, ids, entry, npy, &mt_py.text, out, MT_STACK_MAX);
    st->ip = out;
    st->n = n;
    mt_stack_hash(st);
}

/* ---- the native-stack cache (see python.h) ---- */

#define MT_PYNAT_SIZE 4096u /* direct-mapped; a collision only costs an unwind */

typedef struct mt_pynat {
    mt_pynative_key_t key;
    uint32_t n; /* 0: empty */
    uintptr_t ip[MT_UNWIND_SHORT];
} mt_pynat_t;

static mt_pynat_t *mt_pynat;

static inline mt_pynat_t *mt_pynat_slot(const mt_pynative_key_t *k)
{
    uint64_t h = mt_py_mix(k->code ^ k->offset, k->ret ^ (k->dist << 32));
    return &mt_pynat[h & (MT_PYNAT_SIZE - 1)];
}

int mt_py_native_get(const mt_pynative_key_t *k, uintptr_t *buf, mt_stack_t *st)
{
    if (MT_UNLIKELY(!mt_pynat))
        return 0;
    const mt_pynat_t *e = mt_pynat_slot(k);
    if (!e->n || e->key.code != k->code || e->key.offset != k->offset || e->key.ret != k->ret ||
        e->key.dist != k->dist || e->key.gen != k->gen)
        return 0;
    memcpy(buf, e->ip, e->n * sizeof *buf);
    st->ip = buf;
    st->n = e->n;
    st->hash = st->hash2 = 0;
    return 1;
}

void mt_py_native_put(const mt_pynative_key_t *k, const mt_stack_t *st)
{
    if (MT_UNLIKELY(!mt_pynat)) {
        mt_pynat = mt_map(MT_PYNAT_SIZE * sizeof(mt_pynat_t));
        if (!mt_pynat)
            return;
    }
    if (st->n == 0 || st->n > MT_UNWIND_SHORT)
        return;
    mt_pynat_t *e = mt_pynat_slot(k);
    e->key = *k;
    e->n = st->n;
    memcpy(e->ip, st->ip, st->n * sizeof *e->ip);
}

void mt_py_native_forget(void)
{
    if (mt_pynat)
        memset(mt_pynat, 0, MT_PYNAT_SIZE * sizeof(mt_pynat_t));
    mt_tail_forget();
}

void mt_py_reset(void)
{
    mt_py_native_forget();
    mt_pync_forget();
    memset(mt_pyt.hot, 0, sizeof mt_pyt.hot);
    if (mt_pyt.locs)
        memset(mt_pyt.locs, 0, mt_pyt.locs_cap * sizeof(mt_pyloc_t));
    if (mt_pyt.codes)
        memset(mt_pyt.codes, 0, mt_pyt.codes_cap * sizeof(mt_pycode_t));
    if (mt_pyt.lines)
        memset(mt_pyt.lines, 0, mt_pyt.lines_cap * sizeof(mt_pyline_t));
    mt_pyt.locs_used = mt_pyt.codes_used = mt_pyt.lines_used = 0;
    mt_pyt.next_loc = mt_pyt.next_code = 1;
}

#else /* no Python headers at build time: native stacks only */

int mt_py_deep_capture(mt_pydeep_t *d, unw_context_t *from)
{
    (void)d;
    (void)from;
    return -ENOTSUP;
}

int mt_py_deep_stack(mt_pydeep_t *d, mt_stack_t *st, mt_enc_t *e)
{
    (void)d;
    (void)st;
    (void)e;
    return -ENOTSUP;
}

uint32_t mt_py_capture(mt_pycap_t *cap, mt_pyframe_t *buf, uintptr_t *anchor)
{
    (void)anchor;
    cap->f = buf;
    cap->outer = NULL;
    cap->n = 0;
    return 0;
}

void mt_py_merge(mt_stack_t *st, uintptr_t *out, const mt_pyframe_t *py, uint32_t npy, mt_enc_t *e)
{
    (void)st;
    (void)out;
    (void)py;
    (void)npy;
    (void)e;
}

int mt_py_native_get(const mt_pynative_key_t *k, uintptr_t *buf, mt_stack_t *st)
{
    (void)k;
    (void)buf;
    (void)st;
    return 0;
}

void mt_py_native_put(const mt_pynative_key_t *k, const mt_stack_t *st)
{
    (void)k;
    (void)st;
}

void mt_py_native_forget(void)
{
    mt_tail_forget();
}

uint64_t mt_py_frame_ip(const mt_pyframe_t *f, mt_enc_t *e)
{
    (void)f;
    (void)e;
    return 0;
}

bool mt_py_frames_lost(void)
{
    return true;
}

void mt_py_reset(void)
{
}

#endif

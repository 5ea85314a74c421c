// SPDX-License-Identifier: MIT
// Python support in the recorder: Python frames merged into native stacks (python_frames.c)
// and what the hooks found about the interpreter (mt_py); detection and the allocator domain
// wrappers are the hooks' (hooks/python_hooks.h). Everything is found with dlsym at run time:
// nothing links libpython, so the library still loads in programs without Python. No malloc, no
// Python API under our lock.
#ifndef MT_PYTHON_H
#define MT_PYTHON_H

#include <stdbool.h>
#include <stdint.h>

#include "log_format.h"
#include "python/python_merge.h"
#include "stack/unwinder.h"

/* One Python frame as read from the interpreter's frame chain, before the recorder lock. The
 * gen field (and name/file/firstlineno) guard the (code, offset) key against a freed code
 * object whose address a new one reuses (mt_py_code_gen below). code NULL: the frames left
 * out of a stack deeper than MT_PY_MAX_FRAMES, offset of them (log_format.h: MT_PY_IP_GAP). */
typedef struct mt_pyframe {
    const void *code;
    const void *name, *file;
    int32_t firstlineno;
    uint32_t offset;   /* byte offset of the current instruction in co_code */
    uint32_t is_entry; /* the first frame of its C-level _PyEval_EvalFrameDefault call */
    uint32_t gen;      /* mt_py_code_gen of code's address when read */
} mt_pyframe_t;

/*
 * Deaths of code objects by address. The code type's tp_dealloc (wrapped by python_hooks.c)
 * counts each death in the slot of its address before the memory is freed. Everything keyed
 * by a code object's address (the location and code tables, the stack caches) stores the
 * slot's count it was made under; an entry whose count differs is not trusted but checked
 * again: the code table compares the name and file by content, so that a code object still
 * alive keeps its ids (a slot is shared by many addresses) while one made where another one
 * died gets ids of its own. Pointers alone cannot tell them apart: functions made by exec
 * (dataclasses, namedtuple, templates) share file and first line, and even their name
 * strings are allocated where the dead one's were. Read without a lock: a frame's code object
 * cannot die while the frame runs, and a slot-mate's death only costs a check.
 */
#define MT_PY_CODE_GEN_SIZE 4096u
extern uint32_t mt_py_code_gen[MT_PY_CODE_GEN_SIZE];
/* Every slot's deaths in one count: while it stands still, no code object died, and a frame
 * that reads as it did is run by the same code object under the same slot count, whose slot
 * need not be read (python_frames.c: a cache miss a frame, 40 frames an event on an import). */
extern uint32_t mt_py_code_deaths;

static inline uint32_t *mt_py_code_gen_slot(const void *code)
{
    uintptr_t a = (uintptr_t)code;
    return &mt_py_code_gen[(a >> 4 ^ a >> 16) & (MT_PY_CODE_GEN_SIZE - 1)];
}

/* The code type's deallocation (python_hooks.c), GIL held: counts the death, then frees. */
static inline void mt_py_code_died(const void *code)
{
    __atomic_fetch_add(mt_py_code_gen_slot(code), 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&mt_py_code_deaths, 1, __ATOMIC_RELAXED);
}

#define MT_PY_MAX_FRAMES 128
_Static_assert(MT_UNWIND_MAX + MT_PY_MAX_FRAMES <= MT_STACK_MAX,
               "a native stack with every Python frame merged in must fit a stack");

typedef struct mt_python {
    bool present;      /* the host has a Python interpreter (PyMem_SetAllocator found) */
    bool frames_on;    /* Python frames are recorded (supported version, not disabled) */
    bool native_cache; /* reuse native stacks (python.h); MEMTRACE_PYTHON_CACHE=0 disables */
    unsigned major, minor;
    /* _PyEval_EvalFrameDefault's code and its module's, zero ranges when unknown */
    mt_py_text_t text;
} mt_python_t;

extern mt_python_t mt_py;

/* Set while a domain wrapper runs the original allocator (guard held): pymalloc maps a new
 * arena from inside PyObject_Malloc, and that arena is still an event of its own; a malloc
 * made there is a glibc block of the domain's event (hooks.c counts it in the heap total).
 * Always 0 without Python support. Set by hooks/python_hooks.c. */
extern __thread int mt_py_in_domain __attribute__((tls_model("initial-exec")));

/* CPython's free lists (python_freelists.c), GIL held: emptied and kept empty from the start
 * of the script (start, from the audit hook) to its end (end, from the atexit callback), so
 * that each object created is an allocation with its creator's stack. settle runs at every
 * domain allocator event, before the event (it may free objects the free lists held). */
void mt_py_freelists_start(void);
void mt_py_freelists_end(void);
void mt_py_freelists_settle(void);

/* Two hashes of a run of frames, folded from the outermost frame inwards, so that the keys of
 * python_node_cache.h, which are made from the outer frames of a stack, cost one step per
 * frame that changed since the last event instead of one per frame. */
typedef struct mt_pyhash {
    uint64_t h1, h2;
} mt_pyhash_t;

/* A capture of this thread's Python frames: f[0..n) innermost first, and outer[c] the hash of
 * the c outermost of them (c = 0..n; outer[0] the empty run's), or NULL when the capture read
 * every frame anyway (a short or a very deep stack): then a key hashes its frames itself, so
 * that an event that needs no key (a malloc from C under Python code) pays for none. */
typedef struct mt_pycap {
    const mt_pyframe_t *f;
    const mt_pyhash_t *outer;
    uint32_t n;
    /* Deeper than MT_PY_MAX_FRAMES with a frame entered from C among those a cut would leave
     * out: f holds the innermost MT_PY_MAX_FRAMES only, and mt_py_deep_capture makes the stack
     * that keeps the outermost frames too. */
    bool deep;
} mt_pycap_t;

/*
 * Reads this thread's Python frames into cap (no lock held); returns cap->n, 0 when none.
 * *anchor is the address of the innermost running _PyEval_EvalFrameDefault's _PyCFrame: a
 * stack address inside that C frame. With a thread slot, the frames and hashes live in the
 * slot's cache, and the frames outward of the innermost one that changed since this thread's
 * last capture are taken from it, checked against the frame chain but without reading their
 * code objects (a cache miss each: an import's stacks are 40 Python frames deep). Without a
 * slot they go to buf (MT_PY_MAX_FRAMES entries).
 */
uint32_t mt_py_capture(mt_pycap_t *cap, mt_pyframe_t *buf, uintptr_t *anchor);

/*
 * A stack too deep for MT_PY_MAX_FRAMES through C (mt_pycap_t.deep): a recursion through
 * `map`, a `sorted` key, a C callback. It keeps the innermost and the outermost parts of the
 * merged stack (native and Python frames as mt_py_merge orders them) around a gap frame that
 * counts the Python frames left out (log_format.h: MT_PY_IP_GAP); the native frames between
 * left-out Python frames (their interpreter loops and the C calls into them) go with them. The
 * inner part has at most MT_PY_DEEP_INNER frames and MT_PY_MAX_FRAMES - 1 - MT_PY_DEEP_OUTER_PY
 * Python ones, the outer part the rest of MT_STACK_MAX with at most MT_PY_DEEP_OUTER_PY Python
 * frames, so that the script's line that started the recursion stays at its root.
 */
#define MT_PY_DEEP_OUTER_PY 32u
#define MT_PY_DEEP_INNER (MT_STACK_MAX - 1u - 128u)
typedef struct mt_pydeep {
    uint32_t n, npy;
    /* innermost first: native return addresses, MT_PY_IP_BIT | k for py[k], and the gap */
    uintptr_t item[MT_STACK_MAX];
    mt_pyframe_t py[MT_PY_MAX_FRAMES];
} mt_pydeep_t;

/* No lock: the stack of the event whose registers from holds (the recorder's context), or of
 * the caller when from is NULL, into d. The native frames come from the fast unwinder, or
 * from libunwind when it cannot walk them (MEMTRACE_FAST_UNWIND=0, a frame without usable
 * CFI, a thread without a slot). Returns 0, or -ENOTSUP when the Python frames are not what
 * mt_pycap_t.deep said or the stack is beyond any bound (the caller records the usual one). */
int mt_py_deep_capture(mt_pydeep_t *d, unw_context_t *from);

/* Writer lock held: d's items made the stack st (in place: st->ip is d->item), its Python
 * frames as mt_py_merge writes them. Returns 0, or -ENOMEM when out of memory for the Python
 * tables (mt_py_frames_lost). */
int mt_py_deep_stack(mt_pydeep_t *d, mt_stack_t *st, mt_enc_t *e);

/* True when C code runs between two of py's frames: a frame before the outermost one was
 * entered from C (is_entry), e.g. a callback called by an extension or a C library. */
static inline bool mt_py_nested(const mt_pyframe_t *py, uint32_t npy)
{
    for (uint32_t i = 0; i + 1 < npy; i++)
        if (py[i].is_entry)
            return true;
    return false;
}

/*
 * The native part of a Python allocation's stack (from the allocator's caller down to the
 * interpreter loop) depends on the C call path only. Keyed by the innermost Python
 * instruction, the allocator's return address and the stack distance from the allocator down
 * to the loop's frame, it is cached so that libunwind runs once per call path instead of once
 * per object. Writer lock held for both. get fills buf (MT_UNWIND_SHORT entries) and st and
 * returns 1 on a hit; put stores a stack captured by mt_unwind_capture_until that stopped at
 * the loop.
 */
typedef struct mt_pynative_key {
    uintptr_t code, ret, dist;
    uint32_t offset;
    uint32_t gen; /* the innermost frame's (mt_py_code_gen) */
} mt_pynative_key_t;
int mt_py_native_get(const mt_pynative_key_t *k, uintptr_t *buf, mt_stack_t *st);
void mt_py_native_put(const mt_pynative_key_t *k, const mt_stack_t *st);
/* Drops the cache and the native tails of stack_tail.h (modules changed: cached addresses may
 * now belong to another one). */
void mt_py_native_forget(void);

/*
 * Writer lock held. Merges py (from mt_py_capture) into the native stack st: before each
 * native frame inside _PyEval_EvalFrameDefault come the Python frames that eval runs (up to
 * and including the one with is_entry). Python frames are written as MT_PY_IP_BIT | location
 * id, emitting PY_CODE / PY_LOCATION on first sight. out has MT_STACK_MAX entries; st is
 * rewritten to point at it.
 */
void mt_py_merge(mt_stack_t *st, uintptr_t *out, const mt_pyframe_t *py, uint32_t npy, mt_enc_t *e);

/* Writer lock held. The pseudo ip of one Python frame, as mt_py_merge writes it (emitting
 * PY_CODE / PY_LOCATION on first sight); 0 once out of memory for the tables, from when on
 * mt_py_merge keeps native frames only (mt_py_frames_lost says so). */
uint64_t mt_py_frame_ip(const mt_pyframe_t *f, mt_enc_t *e);
bool mt_py_frames_lost(void);

/* Resets the tables (forked child, before mt_py_log_started). */
void mt_py_reset(void);

#endif

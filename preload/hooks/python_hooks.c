// SPDX-License-Identifier: MIT
// The Python interpreter seen from the recorder: detection (dlsym only, nothing linked from
// libpython), wrappers around the PyMem/PyObject allocator domains and the pymalloc arena
// allocator, and an audit hook that marks the end of the script. The wrappers follow the
// malloc hooks' rules (hooks.c): reentrancy guard, errno kept, free recorded before the real one.
#include "hooks/python_hooks.h"

#include "python/python.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#include "base/allocator_check.h"
#include "base/early_alloc.h"
#include "base/mt_libc.h"
#include "base/signal_defer.h"
#include "io/log_writer.h"
#include "record/recorder.h"

#if MT_HAVE_PYTHON

#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_runtime.h>

/* Function pointers python_frames.c reads, found here. */
extern PyThreadState *(*mt_py_this_tstate)(void);
extern int (*mt_py_addr2line)(PyCodeObject *, int);
extern int (*mt_py_check_line)(int, PyCodeAddressRange *);

/* The public API we use, resolved in the host (the python3 executable exports it). */
static struct {
    void (*get_allocator)(PyMemAllocatorDomain, PyMemAllocatorEx *);
    void (*set_allocator)(PyMemAllocatorDomain, PyMemAllocatorEx *);
    void (*get_arena)(PyObjectArenaAllocator *);
    void (*set_arena)(PyObjectArenaAllocator *);
    const char *(*version)(void);
    int (*add_audit_hook)(Py_AuditHookFunction, void *);
    PyObject *(*import)(const char *);
    PyObject *(*getattr)(PyObject *, const char *);
    PyObject *(*cfunction_new)(PyMethodDef *, PyObject *, PyObject *);
    PyObject *(*call)(PyObject *, ...);
    void (*decref)(PyObject *);
    void (*err_clear)(void);
    const char *(*utf8)(PyObject *, Py_ssize_t *);
    void (*set_profile)(Py_tracefunc, PyObject *);
    PyObject *(*module_dict)(void);
    PyObject *(*dict_get)(PyObject *, const char *);
    PyObject *(*tuple_get)(PyObject *, Py_ssize_t);
    PyObject *none;
} mt_pyapi;

static PyMemAllocatorEx mt_py_orig_mem, mt_py_orig_obj;
static PyObjectArenaAllocator mt_py_orig_arena;

#define MT_PYSYM(field, name)                                                                      \
    do {                                                                                           \
        void *sym_ = dlsym(RTLD_DEFAULT, name);                                                    \
        memcpy(&mt_pyapi.field, &sym_, sizeof sym_);                                               \
    } while (0)

static inline bool mt_py_wanted(void)
{
    return !mt_guard && mt_rec_active();
}

#define MT_PY_CALL_ORIG(expr)                                                                      \
    do {                                                                                           \
        mt_py_in_domain = 1;                                                                       \
        expr;                                                                                      \
        mt_py_in_domain = 0;                                                                       \
    } while (0)

/* The audit hook that finds the start of the script (below). Its entry is allocated with
 * PyMem_RawMalloc and freed at finalization with PyMem_RawFree: it must be added once the RAW
 * allocator is final, or PYTHONMALLOC=debug / -X dev (debug hooks installed during start-up)
 * abort on freeing a block they did not allocate. Those settings also replace our domain
 * wrappers, so adding it from the first call of one of them is exactly right: after the
 * allocators are set up, and never when they were replaced. 0: not wanted, 1: to add, 2: done. */
static int mt_py_audit_state;
static void mt_py_add_audit(void);

/* See python_hooks.h: 1 while watched, 2 while one thread wraps again, 0 after. */
int mt_py_domains_watch;

/* The first call of a wrapper: the domains are in use, so Python chose its allocators and
 * kept ours; and the audit hook can be added (above). */
static inline void mt_py_maybe_add_audit(void)
{
    if (MT_UNLIKELY(__atomic_load_n(&mt_py_domains_watch, __ATOMIC_RELAXED) == 1))
        __atomic_store_n(&mt_py_domains_watch, 0, __ATOMIC_RELAXED);
    if (MT_UNLIKELY(__atomic_load_n(&mt_py_audit_state, __ATOMIC_RELAXED) == 1))
        mt_py_add_audit();
}

/* ---- allocator domains: ctx is the original allocator of the domain ----
 *
 * memtrace's own objects: the few objects memtrace creates in the program's interpreter (the
 * atexit callback, the profile function that names threads, the audit hook's entry, and what
 * creating them allocates) are not the program's. They are made with mt_private_heap set, so
 * they come from the early buffer (early_alloc.h), and the program's frees of them (at
 * finalization, mostly) are dropped, as free() drops early blocks: otherwise each was an
 * unknown free in the log (about 20 in every Python run). Not under the guard: the program's
 * blocks that a garbage collection started there frees are still recorded. */
static inline void *mt_py_own_alloc(size_t n)
{
    return mt_early_alloc(n ? n : 1, 16); /* never reused, so already zero for calloc */
}

/* realloc of one of memtrace's own blocks: a new block (the program's, unless memtrace is
 * still making its own), the bytes copied; the old one stays in the early buffer. */
static void *mt_py_malloc(void *ctx, size_t n);
static void *mt_py_realloc_own(void *ctx, void *p, size_t n)
{
    void *q = mt_private_heap ? mt_py_own_alloc(n) : NULL;
    if (!q)
        q = mt_py_malloc(ctx, n);
    if (q) {
        size_t old = mt_early_size(p);
        memcpy(q, p, old < n ? old : n);
    }
    return q;
}

static void *mt_py_malloc(void *ctx, size_t n)
{
    const PyMemAllocatorEx *o = ctx;
    if (MT_UNLIKELY(mt_private_heap)) {
        void *own = mt_py_own_alloc(n);
        if (own)
            return own;
    }
    if (!mt_py_wanted())
        return o->malloc(o->ctx, n);
    mt_py_freelists_settle();
    mt_guard = 1; /* pymalloc's fallback to malloc for big blocks is not a second event */
    void *p;
    MT_PY_CALL_ORIG(p = o->malloc(o->ctx, n));
    mt_py_maybe_add_audit();
    if (MT_LIKELY(p != NULL)) {
        int saved = errno;
        mt_rec_alloc_py(o == &mt_py_orig_obj ? MT_ALLOC_PYOBJECT : MT_ALLOC_PYMEM, p, n,
                        __builtin_return_address(0), __builtin_frame_address(0));
        errno = saved;
    }
    mt_guard_leave();
    return p;
}

static void *mt_py_calloc(void *ctx, size_t nelem, size_t elsize)
{
    const PyMemAllocatorEx *o = ctx;
    size_t total;
    if (MT_UNLIKELY(mt_private_heap) && !__builtin_mul_overflow(nelem, elsize, &total)) {
        void *own = mt_py_own_alloc(total);
        if (own)
            return own;
    }
    if (!mt_py_wanted())
        return o->calloc(o->ctx, nelem, elsize);
    mt_py_freelists_settle();
    mt_guard = 1;
    void *p;
    MT_PY_CALL_ORIG(p = o->calloc(o->ctx, nelem, elsize));
    mt_py_maybe_add_audit();
    if (MT_LIKELY(p != NULL)) {
        int saved = errno;
        mt_rec_alloc_py(o == &mt_py_orig_obj ? MT_ALLOC_PYOBJECT : MT_ALLOC_PYMEM, p,
                        nelem * elsize, __builtin_return_address(0), __builtin_frame_address(0));
        errno = saved;
    }
    mt_guard_leave();
    return p;
}

/* The realloc protocol of log_format.h. Python's realloc(p, 0) keeps a valid block. */
static void *mt_py_realloc(void *ctx, void *p, size_t n)
{
    const PyMemAllocatorEx *o = ctx;
    if (MT_UNLIKELY(mt_early_owns(p)))
        return mt_py_realloc_own(ctx, p, n);
    if (!mt_py_wanted())
        return o->realloc(o->ctx, p, n);
    mt_py_freelists_settle();
    mt_guard = 1;
    int saved = errno;
    if (p)
        mt_rec_free(MT_TAG_REALLOC_RELEASE, p, 0);
    errno = saved;
    void *q;
    MT_PY_CALL_ORIG(q = o->realloc(o->ctx, p, n));
    saved = errno;
    if (q)
        mt_rec_alloc_py(o == &mt_py_orig_obj ? MT_ALLOC_PYOBJECT : MT_ALLOC_PYMEM, q, n,
                        __builtin_return_address(0), __builtin_frame_address(0));
    else if (p)
        mt_rec_free(MT_TAG_REALLOC_FAILED, p, 0);
    errno = saved;
    mt_guard_leave();
    return q;
}

static void mt_py_free(void *ctx, void *p)
{
    const PyMemAllocatorEx *o = ctx;
    if (MT_UNLIKELY(mt_early_owns(p)))
        return; /* one of memtrace's own objects, see above */
    if (!p || !mt_py_wanted()) {
        o->free(o->ctx, p);
        return;
    }
    mt_py_freelists_settle();
    mt_guard = 1;
    int saved = errno;
    mt_rec_free(MT_TAG_FREE, p, 0);
    errno = saved;
    MT_PY_CALL_ORIG(o->free(o->ctx, p));
    mt_guard_leave();
}

/* ---- pymalloc arenas (256 KiB mappings that hold the small objects) ---- */

/* pymalloc maps and unmaps its arenas from inside PyObject_Malloc/Free (guard set by our
 * domain wrapper, mt_py_in_domain says so). The interpreter also takes its frame-stack chunks
 * from this allocator, directly: those are not arenas, and their mmap is recorded as such. */
static inline int mt_py_arena_wanted(void)
{
    return mt_guard == 1 && mt_py_in_domain && mt_rec_active();
}

static void *mt_py_arena_alloc(void *ctx, size_t size)
{
    const PyObjectArenaAllocator *o = ctx;
    if (!mt_py_arena_wanted())
        return o->alloc(o->ctx, size);
    int guard = mt_guard, in_domain = mt_py_in_domain;
    mt_guard = 1; /* the arena's mmap is this event, not an anonymous mapping of its own */
    mt_py_in_domain = 0;
    void *p = o->alloc(o->ctx, size);
    if (p) {
        int saved = errno;
        mt_rec_py_event(MT_TAG_PY_ARENA_ALLOC, p, size);
        errno = saved;
    }
    mt_py_in_domain = in_domain;
    mt_guard = guard;
    return p;
}

static void mt_py_arena_free(void *ctx, void *p, size_t size)
{
    const PyObjectArenaAllocator *o = ctx;
    if (!p || !mt_py_arena_wanted()) {
        o->free(o->ctx, p, size);
        return;
    }
    int guard = mt_guard, in_domain = mt_py_in_domain;
    mt_guard = 1;
    mt_py_in_domain = 0;
    int saved = errno;
    mt_rec_py_event(MT_TAG_PY_ARENA_FREE, p, size);
    errno = saved;
    o->free(o->ctx, p, size);
    mt_py_in_domain = in_domain;
    mt_guard = guard;
}

/* ---- end of the script: an atexit callback registered when the script starts ---- */

static PyObject *mt_py_script_end(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    mt_py_freelists_end();
    if (mt_rec_active()) {
        mt_guard++;
        mt_rec_py_event(MT_TAG_PY_SCRIPT_END, NULL, 0);
        mt_guard--;
    }
    Py_INCREF(mt_pyapi.none);
    return mt_pyapi.none;
}

static PyMethodDef mt_py_script_end_def = {"_memtrace_script_end", mt_py_script_end, METH_NOARGS,
                                           NULL};
static int mt_py_atexit_done;

/* ---- thread names: threading.Thread(name=...) ----
 *
 * A thread's Python name lives in its Thread object only (3.11 does not give it to the
 * kernel), and only Python code running in that thread can ask threading.current_thread()
 * for it. The one hook that threading runs in every new thread before the thread's own code
 * is the profile function of threading.setprofile(): Thread._bootstrap_inner installs it with
 * sys.setprofile right before calling run(). So ours is registered; its first call in a new
 * thread (the call of run) writes the thread's name and takes the function off that thread
 * with PyEval_SetProfile(NULL, NULL): one call per thread, no profiling cost afterwards. This
 * is the approach memray takes.
 *
 * When: at the start of the script if threading is imported already (Debian's site imports it
 * through .pth files), else when the program imports it: the "import" audit event comes before
 * the import runs, and the hook runs that import itself, unguarded, so that it happens where
 * and as the program's own would (same objects, same stack; the program's import then finds
 * the module loaded), and registers the function right after. memtrace never imports threading
 * into a program that does not: importing it early would change what a program that never
 * uses threads allocates and frees (and gevent wants to patch it before anyone imports it).
 *
 * What a program can see, and why this is the least of the ways that work:
 * - threading.getprofile() returns our function instead of None. Code that saves and restores
 *   it keeps it; nothing else in the standard library looks at it.
 * - A profile function already set (by sitecustomize, or a profiler started before) is left
 *   alone: no Python names then, and the native names stay.
 * - A program that calls threading.setprofile() itself replaces ours: threads it starts
 *   afterwards keep their native names (their figures stay right, only the label changes).
 *   Chaining to the program's function instead would put memtrace in every profile event.
 * - The first profile event of each thread runs our function, with profiling of that call
 *   itself off as for any profile function; sys.getprofile() in the thread's own code is None,
 *   as without memtrace.
 * Monkey-patching Thread.start or _bootstrap would reach every thread too, but it changes
 * what the program's own code finds in the threading module; wrapping pthread_create would
 * run Python code at a point where the interpreter does not expect it. The thread that
 * registers the function (normally the main one: "MainThread") is named then. A thread
 * renamed later (thread.name = ...) keeps the name it started with. Needs 3.10
 * (threading.getprofile). MEMTRACE_PYTHON_THREADS=0 turns this off (native names only).
 */
static PyObject *mt_py_threading; /* the threading module, kept once the hook is in */
/* 0: off, or done; 1: waiting for the program to import threading; 2: importing it */
static int mt_py_names_state;

/* This thread's threading name as a THREAD_NAME record. GIL held. Not under the guard: what
 * these calls allocate and free is recorded like any of the program's events (a guard here
 * would hide the frees of a garbage collection they may start). */
static void mt_py_name_this_thread(void)
{
    PyObject *ct = mt_pyapi.getattr(mt_py_threading, "current_thread");
    PyObject *th = ct ? mt_pyapi.call(ct, NULL) : NULL;
    PyObject *name = th ? mt_pyapi.getattr(th, "name") : NULL;
    Py_ssize_t len = 0;
    const char *s = name ? mt_pyapi.utf8(name, &len) : NULL;
    if (s && len >= 0 && mt_rec_active()) {
        mt_guard++;
        mt_rec_thread_name((uint32_t)mt_sys_gettid(), s, (size_t)len);
        mt_guard--;
    }
    if (!s)
        mt_pyapi.err_clear(); /* never an exception for the program's thread */
    PyObject *objs[] = {name, th, ct};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        if (objs[i])
            mt_pyapi.decref(objs[i]);
}

/* The profile function: called as f(frame, event, arg); first off this thread, then its name. */
static PyObject *mt_py_thread_started(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    mt_pyapi.set_profile(NULL, NULL);
    mt_py_name_this_thread();
    Py_INCREF(mt_pyapi.none);
    return mt_pyapi.none;
}

static PyMethodDef mt_py_thread_started_def = {"_memtrace_thread_name", mt_py_thread_started,
                                               METH_VARARGS, NULL};

/* Registers the profile function with the threading module mod (borrowed). GIL held. */
static void mt_py_names_install(PyObject *mod)
{
    mt_private_heap++; /* our own function object, see "memtrace's own objects" */
    PyObject *get = mt_pyapi.getattr(mod, "getprofile"); /* 3.10 and later */
    PyObject *cur = get ? mt_pyapi.call(get, NULL) : NULL;
    PyObject *set = cur == mt_pyapi.none ? mt_pyapi.getattr(mod, "setprofile") : NULL;
    PyObject *fn = set ? mt_pyapi.cfunction_new(&mt_py_thread_started_def, NULL, NULL) : NULL;
    PyObject *res = fn ? mt_pyapi.call(set, fn, NULL) : NULL;
    if (!res)
        mt_pyapi.err_clear();
    PyObject *objs[] = {res, set, cur, get};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        if (objs[i])
            mt_pyapi.decref(objs[i]);
    mt_private_heap--;
    if (!res) {
        if (fn)
            mt_pyapi.decref(fn);
        return;
    }
    /* Both kept for good (fn is never decref'd): a thread drops its reference to fn from
     * inside fn's own call, which must never be the last one. */
    Py_INCREF(mod);
    mt_py_threading = mod;
    mt_py_name_this_thread();
}

/* At the start of the script (audit hook). */
static void mt_py_names_start(void)
{
    const char *env = getenv("MEMTRACE_PYTHON_THREADS");
    if ((env && strcmp(env, "0") == 0) || !mt_pyapi.utf8 || !mt_pyapi.set_profile ||
        !mt_pyapi.module_dict || !mt_pyapi.dict_get || !mt_pyapi.tuple_get)
        return;
    PyObject *mod = mt_pyapi.dict_get(mt_pyapi.module_dict(), "threading"); /* borrowed */
    if (mod)
        mt_py_names_install(mod);
    else
        mt_py_names_state = 1;
}

/* An "import" audit event while threading is not imported: args[0] is the module's name. */
static void mt_py_names_on_import(PyObject *args)
{
    PyObject *name = mt_pyapi.tuple_get(args, 0); /* borrowed */
    Py_ssize_t len = 0;
    const char *s = name ? mt_pyapi.utf8(name, &len) : NULL;
    if (!s) {
        mt_pyapi.err_clear();
        return;
    }
    if (len != 9 || memcmp(s, "threading", 9) != 0)
        return;
    mt_py_names_state = 2; /* its own imports come back here */
    PyObject *mod = mt_pyapi.import("threading");
    if (mod) {
        mt_py_names_install(mod);
        mt_pyapi.decref(mod);
    } else {
        mt_pyapi.err_clear(); /* the program's own import fails the same way, and says so */
    }
    mt_py_names_state = 0;
}

/* Called with the GIL held for every audited event: must stay cheap and never fail. */
static int mt_py_audit(const char *event, PyObject *args, void *data)
{
    (void)data;
    if (MT_UNLIKELY(mt_py_names_state == 1) && strcmp(event, "import") == 0) {
        mt_py_names_on_import(args);
        return 0;
    }
    if (mt_py_atexit_done || strncmp(event, "cpython.run_", 12) != 0)
        return 0;
    if (strcmp(event + 12, "file") && strcmp(event + 12, "command") &&
        strcmp(event + 12, "module") && strcmp(event + 12, "stdin"))
        return 0;
    mt_py_atexit_done = 1;
    mt_private_heap++; /* our own objects, see "memtrace's own objects" */
    PyObject *mod = mt_pyapi.import("atexit");
    PyObject *reg = mod ? mt_pyapi.getattr(mod, "register") : NULL;
    PyObject *fn = reg ? mt_pyapi.cfunction_new(&mt_py_script_end_def, NULL, NULL) : NULL;
    PyObject *res = fn ? mt_pyapi.call(reg, fn, NULL) : NULL;
    if (!res)
        mt_pyapi.err_clear();
    PyObject *objs[] = {res, fn, reg, mod};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        if (objs[i])
            mt_pyapi.decref(objs[i]);
    mt_private_heap--;
    mt_py_names_start();
    mt_py_freelists_start(); /* after our own objects: their frees are the program's events */
    return 0;
}

static void mt_py_add_audit(void)
{
    int want = 1;
    if (!__atomic_compare_exchange_n(&mt_py_audit_state, &want, 2, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return;
    /* Guard set by the caller; the entry is ours, not the program's: from the early buffer,
     * so that PyMem_RawFree at finalization is no unknown free either. */
    mt_private_heap++;
    (void)mt_pyapi.add_audit_hook(mt_py_audit, NULL);
    mt_private_heap--;
}

/* Wraps the MEM and OBJ domains as they are now: what they did goes on through the wrappers,
 * which stand above it (ctx: the original, kept in mt_py_orig_mem/obj). */
static void mt_py_wrap_domains(void)
{
    mt_pyapi.get_allocator(PYMEM_DOMAIN_MEM, &mt_py_orig_mem);
    mt_pyapi.get_allocator(PYMEM_DOMAIN_OBJ, &mt_py_orig_obj);
    PyMemAllocatorEx mem = {&mt_py_orig_mem, mt_py_malloc, mt_py_calloc, mt_py_realloc, mt_py_free};
    PyMemAllocatorEx obj = {&mt_py_orig_obj, mt_py_malloc, mt_py_calloc, mt_py_realloc, mt_py_free};
    mt_pyapi.set_allocator(PYMEM_DOMAIN_MEM, &mem);
    mt_pyapi.set_allocator(PYMEM_DOMAIN_OBJ, &obj);
}

/* ---- allocators Python chose itself ----
 *
 * PYTHONMALLOC (malloc, debug, pymalloc_debug, malloc_debug), -X dev and PYTHONDEVMODE make
 * the pre-initialization set the MEM and OBJ domains itself (_PyPreConfig_Write), over the
 * wrappers mt_py_install set before it. Then no object was recorded as Python's, no arena as
 * an arena, and neither the end of the script nor the free lists' tracking started: a plain
 * malloc stood in for every object, or (with the debug hooks over pymalloc) the objects were
 * not seen at all. Pre-initialization allocates from RAW only (plain malloc, recorded by
 * hooks.c), so the first allocation hook after it finds the domains replaced before any block
 * exists in them, and wraps what Python set: the wrappers then stand above the debug hooks as
 * they stand above pymalloc, and record the sizes the program asked for. The arena allocator
 * is never replaced that way. Guard held by the caller. */
void mt_py_domains_check(void)
{
    PyMemAllocatorEx cur;
    mt_pyapi.get_allocator(PYMEM_DOMAIN_OBJ, &cur);
    if (cur.malloc == mt_py_malloc)
        return; /* still ours: nothing replaced them yet */
    int want = 1;
    if (!__atomic_compare_exchange_n(&mt_py_domains_watch, &want, 2, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return;
    mt_py_wrap_domains();
    __atomic_store_n(&mt_py_domains_watch, 0, __ATOMIC_RELEASE);
}

/* ---- detection and installation ---- */

/* ---- which thread state's frames: python_frames.c's mt_py_this_tstate ----
 *
 * PyGILState_GetThisThreadState knows one state per thread, the first one made on it (the main
 * interpreter's, for a thread that has one): in a subinterpreter that the thread runs later
 * (Py_NewInterpreter, as mod_wsgi and uWSGI run each application) it is not the one running,
 * and its frames are not the running ones (none at all when C code runs the subinterpreter,
 * the line that started it otherwise). The state that runs is the one holding the GIL,
 * _PyRuntime's tstate_current, when it is this thread's. A thread with no state of its own
 * (OpenBLAS's, a C library's) holds no GIL and never reads another's. A Python thread without
 * the GIL reads the holder's thread_id: should that thread end between the two loads, the read
 * is of a freed block of the heap (a few hundred bytes, which glibc never unmaps), and its
 * value cannot be this thread's id. */
static PyThreadState *(*mt_py_gilstate_this)(void);
static _PyRuntimeState *mt_py_runtime;

static PyThreadState *mt_py_current_tstate(void)
{
    PyThreadState *ts = mt_py_gilstate_this();
    if (!ts)
        return NULL;
    PyThreadState *cur =
        (PyThreadState *)_Py_atomic_load_relaxed(&mt_py_runtime->gilstate.tstate_current);
    if (cur && cur != ts && cur->thread_id == ts->thread_id)
        return cur;
    return ts;
}

void mt_py_detect(void)
{
    memset(&mt_py, 0, sizeof mt_py);
    const char *env = getenv("MEMTRACE_PYTHON");
    if (env && (strcmp(env, "0") == 0 || strcmp(env, "off") == 0))
        return;
    MT_PYSYM(get_allocator, "PyMem_GetAllocator");
    MT_PYSYM(set_allocator, "PyMem_SetAllocator");
    MT_PYSYM(get_arena, "PyObject_GetArenaAllocator");
    MT_PYSYM(set_arena, "PyObject_SetArenaAllocator");
    MT_PYSYM(version, "Py_GetVersion");
    if (!mt_pyapi.get_allocator || !mt_pyapi.set_allocator || !mt_pyapi.version)
        return;
    mt_py.present = true;
    const char *v = mt_pyapi.version();
    unsigned major = 0, minor = 0;
    for (; *v >= '0' && *v <= '9'; v++)
        major = major * 10 + (unsigned)(*v - '0');
    if (*v == '.')
        for (v++; *v >= '0' && *v <= '9'; v++)
            minor = minor * 10 + (unsigned)(*v - '0');
    mt_py.major = major;
    mt_py.minor = minor;
    MT_PYSYM(add_audit_hook, "PySys_AddAuditHook");
    MT_PYSYM(import, "PyImport_ImportModule");
    MT_PYSYM(getattr, "PyObject_GetAttrString");
    MT_PYSYM(cfunction_new, "PyCFunction_NewEx");
    MT_PYSYM(call, "PyObject_CallFunctionObjArgs");
    MT_PYSYM(decref, "Py_DecRef");
    MT_PYSYM(err_clear, "PyErr_Clear");
    MT_PYSYM(none, "_Py_NoneStruct");
    MT_PYSYM(utf8, "PyUnicode_AsUTF8AndSize");
    MT_PYSYM(set_profile, "PyEval_SetProfile");
    MT_PYSYM(module_dict, "PyImport_GetModuleDict");
    MT_PYSYM(dict_get, "PyDict_GetItemString");
    MT_PYSYM(tuple_get, "PyTuple_GetItem");
    void *tstate = dlsym(RTLD_DEFAULT, "PyGILState_GetThisThreadState");
    memcpy(&mt_py_gilstate_this, &tstate, sizeof tstate);
    mt_py_runtime = dlsym(RTLD_DEFAULT, "_PyRuntime");
    void *a2l = dlsym(RTLD_DEFAULT, "PyCode_Addr2Line");
    void *eval = dlsym(RTLD_DEFAULT, "_PyEval_EvalFrameDefault");
    void *check_line = dlsym(RTLD_DEFAULT, "_PyCode_CheckLineNumber"); /* may be missing */
    memcpy(&mt_py_this_tstate, &tstate, sizeof tstate);
    if (tstate && mt_py_runtime && major == PY_MAJOR_VERSION && minor == PY_MINOR_VERSION)
        mt_py_this_tstate = mt_py_current_tstate;
    memcpy(&mt_py_addr2line, &a2l, sizeof a2l);
    memcpy(&mt_py_check_line, &check_line, sizeof check_line);
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (eval && dladdr1(eval, &info, (void **)&sym, RTLD_DL_SYMENT) && sym && sym->st_size) {
        mt_py.text.eval_lo = (uintptr_t)eval;
        mt_py.text.eval_hi = (uintptr_t)eval + sym->st_size;
        /* the module that holds the loop: its native frames are left out of Python stacks */
        (void)mt_acheck_text_holding(mt_py.text.eval_lo, &mt_py.text.interp_lo,
                                     &mt_py.text.interp_hi);
    }
    /* The frame structures are read with the layout of the headers we were built with. */
    if (major == PY_MAJOR_VERSION && minor == PY_MINOR_VERSION && tstate && a2l && eval)
        mt_py.frames_on = true;
    const char *cache = getenv("MEMTRACE_PYTHON_CACHE");
    mt_py.native_cache = !(cache && strcmp(cache, "0") == 0);
}

/* ---- code objects' deaths (python.h: mt_py_code_gen) ----
 *
 * The code type's tp_dealloc, wrapped for as long as the process lives (a code object may die
 * at any time, finalization included): the death is counted, then the original frees it.
 * CPython never compares a type's tp_dealloc with code_dealloc, and PyType_Ready keeps a slot
 * that is set. */
static destructor mt_py_code_dealloc_orig;

static void mt_py_code_dealloc(PyObject *co)
{
    mt_py_code_died(co);
    mt_py_code_dealloc_orig(co);
}

static void mt_py_watch_code(void)
{
    PyTypeObject *code_type = dlsym(RTLD_DEFAULT, "PyCode_Type");
    if (!code_type || !code_type->tp_dealloc || code_type->tp_dealloc == mt_py_code_dealloc)
        return;
    mt_py_code_dealloc_orig = code_type->tp_dealloc;
    __atomic_store_n(&code_type->tp_dealloc, mt_py_code_dealloc, __ATOMIC_RELEASE);
}

void mt_py_install(void)
{
    if (!mt_py.present || !mt_rec_active())
        return;
    if (!mt_py.frames_on) {
        char buf[160];
        mt_sbuf_t s;
        mt_sbuf_init(&s, buf, sizeof buf);
        mt_sbuf_add(&s, "Python ");
        mt_sbuf_u64(&s, mt_py.major);
        mt_sbuf_add(&s, ".");
        mt_sbuf_u64(&s, mt_py.minor);
        mt_sbuf_add(&s, " frames not supported (built for " PY_VERSION "); native stacks only");
        mt_msg(buf);
    }
    /* Before Py_Initialize: 3.11 keeps a domain's allocator unless PYTHONMALLOC or -X dev
     * asks for another one (_PyPreConfig_Write), and _PyRuntimeState_Init restores RAW after
     * its temporary switch. RAW is plain malloc, which the malloc hooks already record. */
    mt_py_wrap_domains();
    __atomic_store_n(&mt_py_domains_watch, 1, __ATOMIC_RELEASE);
    if (mt_py.frames_on)
        mt_py_watch_code();
    if (mt_pyapi.get_arena && mt_pyapi.set_arena) {
        mt_pyapi.get_arena(&mt_py_orig_arena);
        PyObjectArenaAllocator arena = {&mt_py_orig_arena, mt_py_arena_alloc, mt_py_arena_free};
        mt_pyapi.set_arena(&arena);
    }
    if (mt_pyapi.add_audit_hook && mt_pyapi.import && mt_pyapi.getattr && mt_pyapi.cfunction_new &&
        mt_pyapi.call && mt_pyapi.decref && mt_pyapi.err_clear && mt_pyapi.none)
        mt_py_audit_state = 1; /* added by the first domain allocation, see mt_py_add_audit */
}

#else /* built without Python headers */

int mt_py_domains_watch;

void mt_py_domains_check(void)
{
}

void mt_py_detect(void)
{
    memset(&mt_py, 0, sizeof mt_py);
}

void mt_py_install(void)
{
}

#endif

void mt_py_log_started(void)
{
    mt_py_reset();
    if (!mt_py.present)
        return;
    mt_enc_t *e = mt_writer_record(0);
    if (e) {
        mt_enc_py_interp(e, mt_py.major, mt_py.minor, mt_py.frames_on ? MT_PY_FRAMES : 0,
                         mt_py.text.eval_lo, mt_py.text.eval_hi);
    }
    mt_writer_record_done(e);
}

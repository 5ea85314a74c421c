// SPDX-License-Identifier: MIT
// CPython's free lists turned off while the script runs, so that every object it creates is an
// allocation memtrace sees, with the stack of the line that creates it.
//
// CPython 3.11 keeps freed floats, tuples, lists and dicts (and dict key tables) on per-type
// free lists and hands them out again without calling the allocator. The block then keeps the
// stack of whoever first allocated it: a float made by `remember()` is charged to the
// `scratch()` line whose temporary it once was. tracemalloc re-stamps such objects from
// _Py_NewReference, which the interpreter inlines (286 call sites in Debian's python3.11, none
// patchable); so instead the free lists are kept empty:
//
//  - float and tuple free lists are popped only when their head pointer is not NULL and pushed
//    only below a maximum count: an empty list whose count says "full" is never used. A full
//    garbage collection clears them and resets the counts, so every allocator event checks the
//    float count (one load) and pins again when it moved.
//  - list, dict and dict-keys free lists are popped whenever their count is not zero: they are
//    emptied instead, by a wrapper around list and dict tp_dealloc (after the original pushed
//    the object) and at allocator events (dict resizes push key tables outside any dealloc).
//
// The tp_dealloc wrappers replace the interpreter's own trashcan (Py_TRASHCAN_BEGIN only
// applies when tp_dealloc is the original function), so that freeing a list nested a million
// deep still does not recurse on the C stack. Everything here runs with the GIL held (the
// PyMem/PyObject domains and tp_dealloc require it), from the start of the script to its end;
// at the end the wrappers are removed and the interpreter runs as it would without memtrace.
// MEMTRACE_PYTHON_FREELISTS=keep (memtrace run --keep-free-lists) leaves the free lists alone.
#include "python/python.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#if MT_HAVE_PYTHON

#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_interp.h>

typedef struct mt_fl_api {
    PyThreadState *(*tstate)(void);
    void (*gc_untrack)(void *);
    void (*gc_del)(void *);
    void (*obj_free)(void *);
    int (*trash_begin)(PyThreadState *, PyObject *);
    void (*trash_end)(PyThreadState *);
    PyTypeObject *list_type, *dict_type;
} mt_fl_api_t;

static struct {
    mt_fl_api_t api;
    PyInterpreterState *interp; /* the main interpreter: its free lists are the ones emptied */
    destructor list_dealloc, dict_dealloc; /* the originals */
    int on;                                /* between the start and the end of the script */
    int busy;                              /* emptying: the frees it makes come back here */
} mt_fl;

#define MT_FL_SYM(field, name)                                                                     \
    do {                                                                                           \
        void *sym_ = dlsym(RTLD_DEFAULT, name);                                                    \
        memcpy(&mt_fl.api.field, &sym_, sizeof sym_);                                              \
        if (!sym_)                                                                                 \
            return false;                                                                          \
    } while (0)

static bool mt_fl_resolve(void)
{
    MT_FL_SYM(tstate, "_PyThreadState_UncheckedGet");
    MT_FL_SYM(gc_untrack, "PyObject_GC_UnTrack");
    MT_FL_SYM(gc_del, "PyObject_GC_Del");
    MT_FL_SYM(obj_free, "PyObject_Free");
    MT_FL_SYM(trash_begin, "_PyTrash_begin");
    MT_FL_SYM(trash_end, "_PyTrash_end");
    MT_FL_SYM(list_type, "PyList_Type");
    MT_FL_SYM(dict_type, "PyDict_Type");
    return true;
}

/* ---- emptying ---- */

static void mt_fl_empty_floats(struct _Py_float_state *st)
{
    PyFloatObject *f = st->free_list;
    st->free_list = NULL;
    st->numfree = PyFloat_MAXFREELIST; /* "full": pushes go to PyObject_Free */
    while (f) {
        PyFloatObject *next = (PyFloatObject *)Py_TYPE(f); /* the chain runs through ob_type */
        mt_fl.api.obj_free(f);
        f = next;
    }
}

static void mt_fl_empty_tuples(struct _Py_tuple_state *st)
{
    for (int i = 0; i < PyTuple_NFREELISTS; i++) {
        PyTupleObject *t = st->free_list[i];
        st->free_list[i] = NULL;
        st->numfree[i] = PyTuple_MAXFREELIST;
        while (t) {
            PyTupleObject *next = (PyTupleObject *)t->ob_item[0];
            mt_fl.api.gc_del(t);
            t = next;
        }
    }
}

static void mt_fl_empty_lists(struct _Py_list_state *st)
{
    while (st->numfree > 0)
        mt_fl.api.gc_del(st->free_list[--st->numfree]);
}

static void mt_fl_empty_dicts(struct _Py_dict_state *st)
{
    while (st->numfree > 0)
        mt_fl.api.gc_del(st->free_list[--st->numfree]);
    while (st->keys_numfree > 0)
        mt_fl.api.obj_free(st->keys_free_list[--st->keys_numfree]);
}

static void mt_fl_empty_all(void)
{
    PyInterpreterState *in = mt_fl.interp;
    mt_fl.busy = 1;
    mt_fl_empty_floats(&in->float_state);
    mt_fl_empty_tuples(&in->tuple);
    mt_fl_empty_lists(&in->list);
    mt_fl_empty_dicts(&in->dict_state);
    mt_fl.busy = 0;
}

void mt_py_freelists_settle(void)
{
    if (MT_LIKELY(!mt_fl.on) || mt_fl.busy)
        return;
    PyInterpreterState *in = mt_fl.interp;
    /* A full collection resets every count at once: the float and first tuple counts say so. */
    if (MT_UNLIKELY(in->float_state.numfree != PyFloat_MAXFREELIST ||
                    in->tuple.numfree[0] != PyTuple_MAXFREELIST || in->list.numfree ||
                    in->dict_state.numfree || in->dict_state.keys_numfree))
        mt_fl_empty_all();
}

/* ---- tp_dealloc wrappers: the original pushes the object, the wrapper frees it ---- */

static void mt_fl_dealloc(PyObject *op, destructor orig)
{
    PyThreadState *ts = mt_fl.api.tstate();
    if (MT_UNLIKELY(!ts)) { /* no thread state: nothing to defer to, as CPython would crash */
        orig(op);
        return;
    }
    /* What Py_TRASHCAN_BEGIN did in the original, which skips it now that tp_dealloc is not
     * the original: deep nesting is freed later, iteratively. The object must be untracked
     * before it is deposited (the original untracks it first thing too). */
    mt_fl.api.gc_untrack(op);
    if (mt_fl.api.trash_begin(ts, op))
        return;
    orig(op);
    mt_py_freelists_settle();
    mt_fl.api.trash_end(ts);
}

static void mt_fl_list_dealloc(PyObject *op)
{
    if (Py_TYPE(op) == mt_fl.api.list_type) /* only exact lists go to the free list */
        mt_fl_dealloc(op, mt_fl.list_dealloc);
    else
        mt_fl.list_dealloc(op);
}

static void mt_fl_dict_dealloc(PyObject *op)
{
    if (Py_TYPE(op) == mt_fl.api.dict_type)
        mt_fl_dealloc(op, mt_fl.dict_dealloc);
    else
        mt_fl.dict_dealloc(op);
}

/* ---- start and end of the script ---- */

void mt_py_freelists_start(void)
{
    const char *env = getenv("MEMTRACE_PYTHON_FREELISTS");
    if ((env && strcmp(env, "keep") == 0) || !mt_py.frames_on || !mt_fl_resolve())
        return;
    PyThreadState *ts = mt_fl.api.tstate();
    if (!ts || !ts->interp)
        return;
    mt_fl.interp = ts->interp;
    mt_fl.list_dealloc = mt_fl.api.list_type->tp_dealloc;
    mt_fl.dict_dealloc = mt_fl.api.dict_type->tp_dealloc;
    mt_fl.api.list_type->tp_dealloc = mt_fl_list_dealloc;
    mt_fl.api.dict_type->tp_dealloc = mt_fl_dict_dealloc;
    mt_fl.on = 1;
    mt_fl_empty_all();
}

void mt_py_freelists_end(void)
{
    if (!mt_fl.on)
        return;
    mt_fl.on = 0;
    /* A wrapper still on the C stack (a dealloc that ran the atexit callback) finishes with
     * the original it saved; new deallocations go straight to the original. */
    mt_fl.api.list_type->tp_dealloc = mt_fl.list_dealloc;
    mt_fl.api.dict_type->tp_dealloc = mt_fl.dict_dealloc;
}

#else

void mt_py_freelists_settle(void)
{
}

void mt_py_freelists_start(void)
{
}

void mt_py_freelists_end(void)
{
}

#endif

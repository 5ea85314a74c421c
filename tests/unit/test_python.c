// SPDX-License-Identifier: MIT
// Python support: the PY_* records through reader and analysis, Python frames in sites with the
// interpreter's C frames and the import machinery hidden, whose code a file is, leaks at the
// end of the script (the script's own, the libraries', the interpreter's) before the scan, arenas
// and corrupt records. (The recorder's merge of Python frames: tests/preload/test_python_merge.c.)
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "check_main.h"
#include "leaks.h"
#include "log_builder.h"
#include "log_reader.h"
#include "python_files.h"
#include "render_leaks.h"
#include "sites.h"
#include "symbolizer.h"

#define INTERP_BIAS 0x400000u
#define EXT_BIAS 0x7f0000000000ull
static const uint64_t interp_segs[1][3] = {{0, 0x100000, 5}};

/* The test's log loaded ("x"); fails the test when it does not load. */
static mt_analysis_t *load(const mt_lb_t *b)
{
    mt_analysis_t *a;
    char err[128];
    ck_assert_int_eq(mt_analysis_load_mem(&a, b->file, b->len, "x", err, sizeof err), 0);
    return a;
}

static mt_symbolizer_t *new_symbolizer(const mt_analysis_t *a)
{
    mt_symbolizer_t *sym;
    ck_assert_int_eq(mt_symbolizer_new(&sym, a->modules), 0);
    return sym;
}

/* Every site of a, with its frames. */
static void build_sites(mt_sites_t *s, const mt_analysis_t *a, mt_symbolizer_t *sym)
{
    ck_assert_int_eq(mt_sites_build(s, a, sym), 0);
    ck_assert_int_eq(mt_sites_load_all(s), 0);
}

/* The site that allocated bytes, which must exist and have nframes frames. */
static const mt_site_t *site_of(const mt_sites_t *s, uint64_t bytes, size_t nframes)
{
    const mt_site_t *site = NULL;
    for (size_t i = 0; i < s->n && !site; i++)
        if (s->v[i].bytes_allocated == bytes)
            site = &s->v[i];
    ck_assert_ptr_nonnull(site);
    ck_assert_uint_eq(site->nframes, nframes);
    return site;
}

/* Frees what a test loaded (sym may be NULL) and its log. */
static void unload(mt_analysis_t *a, mt_symbolizer_t *sym, mt_lb_t *b)
{
    if (sym)
        mt_symbolizer_free(sym);
    mt_analysis_free(a);
    mt_lb_free(b);
}

/* A Python process: the interpreter module (id 1), an extension (id 2), two code objects, and
 * three stacks:
 *   node 3: make_record pyalloc.py:8 <- main pyalloc.py:20, interpreter C frames around them
 *   node 5: an extension's C frame above the Python line main pyalloc.py:21
 *   node 6: interpreter only (start-up), no Python frame */
static void build_python_log(mt_lb_t *b, int with_end)
{
    mt_lb_init(b, 42, 0);
    mt_lb_process(b, 42, 1, "/usr/bin/python3.11", 0, NULL);
    mt_lb_module(b, 1, INTERP_BIAS, "/nonexistent/python3.11", "", 0, 1, interp_segs);
    mt_lb_module(b, 2, EXT_BIAS, "/nonexistent/_ext.so", "", 0, 1, interp_segs);
    mt_lb_py_interp(b, 3, 11, MT_PY_FRAMES, INTERP_BIAS + 0x1000, INTERP_BIAS + 0x9000);
    mt_lb_py_code(b, 1, 7, "make_record", "pyalloc.py");
    mt_lb_py_code(b, 2, 18, "main", "pyalloc.py");
    mt_lb_py_location(b, 1, 1, 8);
    mt_lb_py_location(b, 2, 2, 20);
    mt_lb_py_location(b, 3, 2, 21);
    mt_lb_thread(b, 7);
    /* outermost first: interpreter main, eval, main:20, eval, make_record:8, PyObject_Malloc */
    mt_lb_node(b, 1, 0, INTERP_BIAS + 0x500);
    mt_lb_node(b, 2, 1, MT_PY_IP_BIT | 2);
    mt_lb_node(b, 3, 2, MT_PY_IP_BIT | 1);
    mt_lb_node(b, 7, 3, INTERP_BIAS + 0x2000);
    mt_lb_node(b, 4, 1, MT_PY_IP_BIT | 3);
    mt_lb_node(b, 5, 4, EXT_BIAS + 0x800);
    mt_lb_node(b, 6, 0, INTERP_BIAS + 0x600);
    mt_lb_alloc(b, MT_ALLOC_PYOBJECT, 10, 100, 0x10000, 7);
    mt_lb_alloc(b, MT_ALLOC_PYOBJECT, 11, 100, 0x10100, 7);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 12, 5000, 0x20000, 5);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 13, 64, 0x30000, 6);
    mt_lb_py_arena(b, MT_TAG_PY_ARENA_ALLOC, 14, 262144, 0x40000000);
    mt_lb_py_arena(b, MT_TAG_PY_ARENA_ALLOC, 15, 262144, 0x50000000);
    mt_lb_py_arena(b, MT_TAG_PY_ARENA_FREE, 16, 262144, 0x40000000);
    mt_lb_free_(b, MT_TAG_FREE, 17, 0x10100);
    if (with_end)
        mt_lb_py_script_end(b, 20);
    /* finalization frees the rest */
    mt_lb_free_(b, MT_TAG_FREE, 30, 0x10000);
    mt_lb_free_(b, MT_TAG_FREE, 31, 0x20000);
    mt_lb_exit(b, 40, MT_EXIT_NORMAL, 0);
    mt_lb_flush(b);
}

START_TEST(reader_round_trip)
{
    mt_lb_t b;
    build_python_log(&b, 1);
    mt_reader_t *r;
    char err[128];
    ck_assert_int_eq(mt_reader_open_mem(&r, b.file, b.len, "x", err, sizeof err), 0);
    mt_record_t rec;
    int seen_interp = 0, seen_code = 0, seen_loc = 0, seen_end = 0, seen_arena = 0;
    while (mt_reader_next(r, &rec) > 0) {
        switch (rec.tag) {
        case MT_TAG_PY_INTERP:
            seen_interp++;
            ck_assert_uint_eq(rec.a, 3);
            ck_assert_uint_eq(rec.b, 11);
            ck_assert_uint_eq(rec.c, MT_PY_FRAMES);
            ck_assert_uint_eq(rec.addr, INTERP_BIAS + 0x1000);
            ck_assert_uint_eq(rec.size, INTERP_BIAS + 0x9000);
            break;
        case MT_TAG_PY_CODE:
            if (seen_code++ == 0) {
                ck_assert_uint_eq(rec.id, 1);
                ck_assert_uint_eq(rec.a, 7);
                ck_assert_int_eq((int)rec.str.len, 11);
                ck_assert(memcmp(rec.str.ptr, "make_record", 11) == 0);
                ck_assert_int_eq((int)rec.str2.len, 10);
                ck_assert(memcmp(rec.str2.ptr, "pyalloc.py", 10) == 0);
            }
            break;
        case MT_TAG_PY_LOCATION:
            if (seen_loc++ == 0) {
                ck_assert_uint_eq(rec.id, 1);
                ck_assert_uint_eq(rec.parent, 1);
                ck_assert_uint_eq(rec.a, 8);
            }
            break;
        case MT_TAG_PY_SCRIPT_END:
            seen_end++;
            ck_assert_uint_eq(rec.time_us, 20);
            break;
        case MT_TAG_PY_ARENA_ALLOC:
            if (seen_arena++ == 0) {
                ck_assert_uint_eq(rec.addr, 0x40000000);
                ck_assert_uint_eq(rec.size, 262144);
                ck_assert_uint_eq(rec.time_us, 14);
            }
            break;
        default:
            break;
        }
    }
    ck_assert_int_eq(mt_reader_state(r), MT_READER_END);
    ck_assert_int_eq(seen_interp, 1);
    ck_assert_int_eq(seen_code, 2);
    ck_assert_int_eq(seen_loc, 3);
    ck_assert_int_eq(seen_end, 1);
    ck_assert_int_eq(seen_arena, 2);
    mt_reader_close(r);
    mt_lb_free(&b);
}
END_TEST

START_TEST(sites_show_python_frames)
{
    mt_lb_t b;
    build_python_log(&b, 1);
    mt_analysis_t *a = load(&b);
    ck_assert_int_eq(a->python.present, 1);
    ck_assert_uint_eq(a->python.interp_module, 0);
    mt_symbolizer_t *sym = new_symbolizer(a);
    mt_sites_t s;
    build_sites(&s, a, sym);

    /* Pure Python: the interpreter's frames are gone, make_record:8 is the innermost. */
    const mt_site_t *py = site_of(&s, 200, 2);
    ck_assert_int_eq(py->frames[0].python, 1);
    ck_assert_str_eq(py->frames[0].function, "make_record");
    ck_assert_str_eq(py->frames[0].file, "pyalloc.py");
    ck_assert_uint_eq(py->frames[0].line, 8);
    ck_assert_uint_eq(py->frames[0].module, MT_NO_MODULE);
    ck_assert_str_eq(py->frames[1].function, "main");
    ck_assert_uint_eq(py->frames[1].line, 20);
    ck_assert_uint_eq(py->imported, 0);

    /* An extension's C frame stays above the Python line that called it. */
    const mt_site_t *ext = site_of(&s, 5000, 2);
    ck_assert_int_eq(ext->frames[0].python, 0);
    ck_assert_uint_eq(ext->frames[0].module, 1);
    ck_assert_int_eq(ext->frames[1].python, 1);
    ck_assert_uint_eq(ext->frames[1].line, 21);

    /* No Python frame: the interpreter's frames are all there is, and they stay. */
    const mt_site_t *start = site_of(&s, 64, 1);
    ck_assert_int_eq(start->frames[0].python, 0);

    mt_sites_destroy(&s);
    unload(a, sym, &b);
}
END_TEST

START_TEST(leaks_at_script_end)
{
    mt_lb_t b;
    build_python_log(&b, 1);
    mt_analysis_t *a = load(&b);
    ck_assert_int_eq(a->python.script_end, 1);
    ck_assert_uint_eq(a->python.end_heap_bytes, 100 + 5000 + 64);
    mt_symbolizer_t *sym = new_symbolizer(a);
    mt_leaks_t l;
    ck_assert_int_eq(mt_leaks_build(&l, a, sym, NULL, MT_LEAKS_DEFAULT_SHOW), 0);
    ck_assert_int_eq(l.python_end, 1);
    /* Live at the end of the script, though finalization freed them later; the start-up
     * block without a Python frame is the interpreter's. */
    ck_assert_uint_eq(l.n, 2);
    ck_assert_uint_eq(l.v[0].bytes, 5000);
    ck_assert_uint_eq(l.v[1].bytes, 100);
    ck_assert_str_eq(l.v[1].frames[0].function, "make_record");
    ck_assert_uint_eq(l.interp_bytes, 64);
    ck_assert_uint_eq(l.interp_blocks, 1);
    mt_leaks_destroy(&l);
    unload(a, sym, &b);

    /* Without the marker: blocks live when the log ends, as for any program. */
    build_python_log(&b, 0);
    a = load(&b);
    sym = new_symbolizer(a);
    ck_assert_int_eq(mt_leaks_build(&l, a, sym, NULL, MT_LEAKS_DEFAULT_SHOW), 0);
    ck_assert_int_eq(l.python_end, 0);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(l.v[0].bytes, 64);
    mt_leaks_destroy(&l);
    unload(a, sym, &b);
}
END_TEST

START_TEST(arenas_tracked)
{
    mt_lb_t b;
    build_python_log(&b, 1);
    mt_analysis_t *a = load(&b);
    ck_assert_uint_eq(a->python.narenas, 1);
    ck_assert_uint_eq(a->python.arenas[0].addr, 0x50000000);
    ck_assert_uint_eq(a->python.arena_peak_count, 2);
    ck_assert_uint_eq(a->python.arena_peak_bytes, 2 * 262144);
    ck_assert_uint_eq(a->python.arena_bytes, 262144);
    ck_assert_uint_eq(a->replay.allocs_by_kind[MT_ALLOC_PYOBJECT], 2);
    unload(a, NULL, &b);
}
END_TEST

START_TEST(corrupt_python_records)
{
    /* A location id far beyond the ones seen ends the log there, like any corrupt record. */
    mt_lb_t b;
    mt_lb_init(&b, 1, 0);
    mt_lb_py_location(&b, 1u << 30, 1, 3);
    mt_lb_flush(&b);
    mt_analysis_t *a = load(&b);
    ck_assert_int_eq(a->cut, 1);
    unload(a, NULL, &b);

    /* A Python frame whose location never came reads as "<python>", not a crash. */
    mt_lb_init(&b, 1, 0);
    mt_lb_thread(&b, 1);
    mt_lb_node(&b, 1, 0, MT_PY_IP_BIT | 99);
    mt_lb_alloc(&b, MT_ALLOC_PYOBJECT, 1, 10, 0x1000, 1);
    mt_lb_flush(&b);
    a = load(&b);
    mt_symbolizer_t *sym = new_symbolizer(a);
    mt_sites_t s;
    build_sites(&s, a, sym);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_str_eq(s.v[0].frames[0].function, "<python>");
    ck_assert_int_eq(s.v[0].frames[0].python, 1);
    mt_sites_destroy(&s);
    unload(a, sym, &b);
}
END_TEST

/* An import: app.py:3 imports mod (its body allocates at mod.py:2) through importlib's
 * frozen frames, with an interpreter C frame between two of them and an extension module's
 * init importing in turn; and an import the interpreter makes at start-up (only importlib):
 *   node 6: mod.py:2 <- _call_with_frames_removed <- [C] <- _find_and_load <- app.py:3
 *   node 7: SourceLoader.get_code <- _find_and_load <- app.py:3 (compiling mod)
 *   node 9: _find_and_load <- PyInit_ext [C, extension] <- _call_with_frames_removed <- ...
 *   node 11: SourceLoader.get_code <- _install_external_importers (start-up) */
static void build_import_log(mt_lb_t *b)
{
    mt_lb_init(b, 42, 0);
    mt_lb_process(b, 42, 1, "/usr/bin/python3.11", 0, NULL);
    mt_lb_module(b, 1, INTERP_BIAS, "/nonexistent/python3.11", "", 0, 1, interp_segs);
    mt_lb_module(b, 2, EXT_BIAS, "/nonexistent/_ext.so", "", 0, 1, interp_segs);
    mt_lb_py_interp(b, 3, 11, MT_PY_FRAMES, INTERP_BIAS + 0x1000, INTERP_BIAS + 0x9000);
    mt_lb_py_code(b, 1, 1, "<module>", "/work/app.py");
    mt_lb_py_code(b, 2, 1165, "_find_and_load", "<frozen importlib._bootstrap>");
    mt_lb_py_code(b, 3, 233, "_call_with_frames_removed", "<frozen importlib._bootstrap>");
    mt_lb_py_code(b, 4, 1, "<module>", "/work/mod.py");
    mt_lb_py_code(b, 5, 1050, "SourceLoader.get_code", "<frozen importlib._bootstrap_external>");
    mt_lb_py_code(b, 6, 1360, "_install_external_importers", "<frozen importlib._bootstrap>");
    const uint32_t lines[] = {3, 1178, 241, 2, 1074, 1365};
    for (uint32_t i = 0; i < 6; i++)
        mt_lb_py_location(b, i + 1, i + 1, lines[i]);
    mt_lb_thread(b, 7);
    mt_lb_node(b, 1, 0, INTERP_BIAS + 0x500);
    mt_lb_node(b, 2, 1, MT_PY_IP_BIT | 1);
    mt_lb_node(b, 3, 2, MT_PY_IP_BIT | 2);
    mt_lb_node(b, 4, 3, INTERP_BIAS + 0x2000);
    mt_lb_node(b, 5, 4, MT_PY_IP_BIT | 3);
    mt_lb_node(b, 6, 5, MT_PY_IP_BIT | 4);
    mt_lb_node(b, 7, 3, MT_PY_IP_BIT | 5);
    mt_lb_node(b, 8, 5, EXT_BIAS + 0x800);
    mt_lb_node(b, 9, 8, MT_PY_IP_BIT | 2);
    mt_lb_node(b, 10, 1, MT_PY_IP_BIT | 6);
    mt_lb_node(b, 11, 10, MT_PY_IP_BIT | 5);
    mt_lb_alloc(b, MT_ALLOC_PYOBJECT, 10, 3000, 0x10000, 6);
    mt_lb_alloc(b, MT_ALLOC_PYOBJECT, 11, 700, 0x20000, 7);
    mt_lb_alloc(b, MT_ALLOC_PYOBJECT, 12, 50, 0x30000, 9);
    mt_lb_alloc(b, MT_ALLOC_PYOBJECT, 13, 80, 0x40000, 11);
    mt_lb_py_script_end(b, 20);
    mt_lb_exit(b, 40, MT_EXIT_NORMAL, 0);
    mt_lb_flush(b);
}

static void assert_frame(const mt_frame_t *f, const char *function, const char *file, uint32_t line)
{
    ck_assert_int_eq(f->python, 1);
    ck_assert_str_eq(f->function, function);
    ck_assert_str_eq(f->file, file);
    ck_assert_uint_eq(f->line, line);
}

START_TEST(import_machinery_hidden)
{
    mt_lb_t b;
    build_import_log(&b);
    mt_analysis_t *a = load(&b);
    ck_assert_int_eq(a->show_import_machinery, 0);
    mt_symbolizer_t *sym = new_symbolizer(a);
    mt_sites_t s;
    build_sites(&s, a, sym);

    /* The module's body: its own line, then the importing line. */
    const mt_site_t *body = site_of(&s, 3000, 2);
    assert_frame(&body->frames[0], "<module>", "/work/mod.py", 2);
    assert_frame(&body->frames[1], "<module>", "/work/app.py", 3);
    /* the site still knows it was made while importing (fragmentation leaves those out) */
    ck_assert_uint_eq(body->nodes, 1);
    ck_assert_uint_eq(body->imported, 1);

    /* Only importlib above the importing line: charged to it alone. */
    const mt_site_t *compile = site_of(&s, 700, 1);
    assert_frame(&compile->frames[0], "<module>", "/work/app.py", 3);

    /* An extension's init is the module's own code: it stays, between the two imports. */
    const mt_site_t *ext = site_of(&s, 50, 2);
    ck_assert_int_eq(ext->frames[0].python, 0);
    ck_assert_uint_eq(ext->frames[0].module, 1);
    assert_frame(&ext->frames[1], "<module>", "/work/app.py", 3);

    /* Nothing but importlib (an import at start-up): its outermost frame, not an empty stack. */
    const mt_site_t *start = site_of(&s, 80, 1);
    assert_frame(&start->frames[0], "_install_external_importers", "<frozen importlib._bootstrap>",
                 1365);
    mt_sites_destroy(&s);

    /* The leak report at the end of the script uses the same stacks. */
    mt_leaks_t l;
    ck_assert_int_eq(mt_leaks_build(&l, a, sym, NULL, 0xff), 0);
    const mt_leak_t *held = NULL;
    for (size_t i = 0; i < l.n; i++)
        if (l.v[i].bytes == 3000)
            held = &l.v[i];
    ck_assert_ptr_nonnull(held);
    ck_assert_uint_eq(held->nframes, 2);
    assert_frame(&held->frames[0], "<module>", "/work/mod.py", 2);
    assert_frame(&held->frames[1], "<module>", "/work/app.py", 3);
    mt_leaks_destroy(&l);

    /* --show-import-machinery: the whole stacks. */
    a->show_import_machinery = 1;
    build_sites(&s, a, sym);
    body = site_of(&s, 3000, 4);
    assert_frame(&body->frames[0], "<module>", "/work/mod.py", 2);
    assert_frame(&body->frames[1], "_call_with_frames_removed", "<frozen importlib._bootstrap>",
                 241);
    assert_frame(&body->frames[2], "_find_and_load", "<frozen importlib._bootstrap>", 1178);
    assert_frame(&body->frames[3], "<module>", "/work/app.py", 3);
    ext = site_of(&s, 50, 5);
    mt_sites_destroy(&s);

    unload(a, sym, &b);
}
END_TEST

START_TEST(python_file_owners)
{
    ck_assert(mt_pyfile_is_import_machinery("<frozen importlib._bootstrap>"));
    ck_assert(mt_pyfile_is_import_machinery("<frozen importlib._bootstrap_external>"));
    ck_assert(mt_pyfile_is_import_machinery("<frozen zipimport>"));
    ck_assert(mt_pyfile_is_import_machinery("/usr/lib/python3.11/importlib/_bootstrap.py"));
    ck_assert(mt_pyfile_is_import_machinery("/opt/py/lib/python3.12/zipimport.py"));
    /* importlib's public API and other frozen modules are the library, not the machinery */
    ck_assert(!mt_pyfile_is_import_machinery("/usr/lib/python3.11/importlib/__init__.py"));
    ck_assert(!mt_pyfile_is_import_machinery("<frozen runpy>"));
    ck_assert(!mt_pyfile_is_import_machinery("/home/me/src/importlib/_bootstrap.py"));
    ck_assert(!mt_pyfile_is_import_machinery("/home/me/zipimport.py"));
    ck_assert(!mt_pyfile_is_import_machinery(NULL));

    ck_assert(mt_pyfile_is_library("<frozen site>"));
    ck_assert(mt_pyfile_is_library("/usr/lib/python3.11/json/decoder.py"));
    ck_assert(mt_pyfile_is_library("/usr/lib/python3/dist-packages/_pytest/main.py"));
    ck_assert(mt_pyfile_is_library("/venv/lib/python3.11/site-packages/pandas/__init__.py"));
    ck_assert(mt_pyfile_is_library("/usr/lib64/python3.13t/re/_compiler.py"));
    ck_assert(mt_pyfile_is_library("/x/site-packages/pkg/m.py"));
    ck_assert(!mt_pyfile_is_library("/home/me/lib/python3-tools/m.py"));
    ck_assert(!mt_pyfile_is_library("/home/me/project/tests/test_x.py"));
    ck_assert(!mt_pyfile_is_library("<string>"));
    ck_assert(!mt_pyfile_is_library("<stdin>"));
    ck_assert(!mt_pyfile_is_library("app.py"));
    ck_assert(!mt_pyfile_is_library(NULL));
}
END_TEST

/* Whose blocks a Python script holds at its end, and the same log's scan after finalization:
 *   node 3: work app.py:5 <- <module> app.py:10                  1000 B  the script's
 *   node 4: dumps json/encoder.py <- work                          200 B  a library's line
 *   node 5: <lambda> <string> <- work (the script's own exec)       30 B  the script's
 *   node 7: <lambda> <string> <- namedtuple collections <- work     40 B  a library's code
 *   node 9: <module> mod.py <- _find_and_load <- <module> app.py    60 B  an import's
 *   node 10: the interpreter alone                                  70 B  the interpreter's
 * The scan calls the interpreter's block definitely lost, the rest reachable. */
static void build_owners_log(mt_lb_t *b)
{
    mt_lb_init(b, 42, 0);
    mt_lb_process(b, 42, 1, "/usr/bin/python3.11", 0, NULL);
    mt_lb_module(b, 1, INTERP_BIAS, "/nonexistent/python3.11", "", 0, 1, interp_segs);
    mt_lb_py_interp(b, 3, 11, MT_PY_FRAMES, INTERP_BIAS + 0x1000, INTERP_BIAS + 0x9000);
    static const char *const code[][2] = {
        {"<module>", "/work/app.py"},
        {"work", "/work/app.py"},
        {"dumps", "/usr/lib/python3.11/json/encoder.py"},
        {"<lambda>", "<string>"},
        {"namedtuple", "/usr/lib/python3.11/collections/__init__.py"},
        {"_find_and_load", "<frozen importlib._bootstrap>"},
        {"<module>", "/work/mod.py"},
    };
    const uint32_t lines[] = {10, 5, 200, 1, 400, 1178, 2};
    for (uint32_t i = 0; i < 7; i++) {
        mt_lb_py_code(b, i + 1, 1, code[i][0], code[i][1]);
        mt_lb_py_location(b, i + 1, i + 1, lines[i]);
    }
    mt_lb_thread(b, 7);
    mt_lb_node(b, 1, 0, INTERP_BIAS + 0x500);
    mt_lb_node(b, 2, 1, MT_PY_IP_BIT | 1);
    mt_lb_node(b, 3, 2, MT_PY_IP_BIT | 2);
    mt_lb_node(b, 4, 3, MT_PY_IP_BIT | 3);
    mt_lb_node(b, 5, 3, MT_PY_IP_BIT | 4);
    mt_lb_node(b, 6, 3, MT_PY_IP_BIT | 5);
    mt_lb_node(b, 7, 6, MT_PY_IP_BIT | 4);
    mt_lb_node(b, 8, 2, MT_PY_IP_BIT | 6);
    mt_lb_node(b, 9, 8, MT_PY_IP_BIT | 7);
    mt_lb_node(b, 10, 1, INTERP_BIAS + 0x600);
    const uint32_t nodes[] = {3, 4, 5, 7, 9, 10};
    const uint64_t sizes[] = {1000, 200, 30, 40, 60, 70};
    for (int i = 0; i < 6; i++)
        mt_lb_alloc(b, MT_ALLOC_PYOBJECT, 10 + i, sizes[i], 0x10000 * (i + 1), nodes[i]);
    mt_lb_py_script_end(b, 20);
    mt_lb_leak_scan(b, 30, 6, 0, 0, 0);
    mt_lb_leak_block(b, 0x60000, 0, 0);
    mt_lb_leak_scan_end(b, 1);
    mt_lb_exit(b, 40, MT_EXIT_NORMAL, 0);
    mt_lb_flush(b);
}

START_TEST(leaks_owned_by_the_script)
{
    mt_lb_t b;
    build_owners_log(&b);
    mt_analysis_t *a = load(&b);
    ck_assert_int_eq(a->leaks.complete, 1);
    ck_assert_int_eq(mt_leaks_python_owner(a, 3), MT_LEAKS_OWNER_SCRIPT);
    ck_assert_int_eq(mt_leaks_python_owner(a, 4), MT_LEAKS_OWNER_LIBRARY);
    ck_assert_int_eq(mt_leaks_python_owner(a, 5), MT_LEAKS_OWNER_SCRIPT);
    ck_assert_int_eq(mt_leaks_python_owner(a, 7), MT_LEAKS_OWNER_LIBRARY);
    ck_assert_int_eq(mt_leaks_python_owner(a, 9), MT_LEAKS_OWNER_LIBRARY);
    ck_assert_int_eq(mt_leaks_python_owner(a, 10), MT_LEAKS_OWNER_INTERPRETER);
    mt_symbolizer_t *sym = new_symbolizer(a);

    /* By default the end of the script is the report, though the log has a scan. */
    mt_leaks_t l;
    ck_assert_int_eq(mt_leaks_build(&l, a, sym, NULL, MT_LEAKS_DEFAULT_SHOW), 0);
    ck_assert_int_eq(l.python_end, 1);
    ck_assert_int_eq(l.classified, 0);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_UNCLASSIFIED], 1000 + 30);
    ck_assert_uint_eq(l.blocks[MT_LEAKS_UNCLASSIFIED], 2);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_REACHABLE], 200 + 40 + 60);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_DEFINITE], 0);
    ck_assert_uint_eq(l.interp_bytes, 70);
    ck_assert_uint_eq(mt_leaks_failing_bytes(&l, MT_LEAKS_DEFAULT_FAIL), 1030);
    ck_assert_uint_eq(mt_leaks_failing_bytes(&l, 1u << MT_LEAKS_REACHABLE), 300);
    ck_assert_str_eq(l.v[0].frames[0].function, "work");
    char why[256];
    mt_render_leaks_reason(&l, MT_LEAKS_DEFAULT_FAIL, why, sizeof why);
    ck_assert_str_eq(why, "1,030 bytes not freed at the end of the script, the largest allocated "
                          "at app.py:5 in work");
    mt_render_leaks_reason(&l, 0, why, sizeof why);
    ck_assert_str_eq(why, "");
    mt_leaks_destroy(&l);

    /* After finalization: the scan, valgrind's view. */
    ck_assert_int_eq(mt_leaks_build_at(&l, a, sym, NULL, MT_LEAKS_DEFAULT_SHOW, MT_LEAKS_AT_EXIT),
                     0);
    ck_assert_int_eq(l.python_end, 0);
    ck_assert_int_eq(l.classified, 1);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_DEFINITE], 70);
    ck_assert_uint_eq(l.bytes[MT_LEAKS_REACHABLE], 1000 + 200 + 30 + 40 + 60);
    mt_leaks_destroy(&l);

    unload(a, sym, &b);
}
END_TEST

MT_SUITE(.name = "python", .timeout = 60,
         .tests = MT_TESTS(reader_round_trip, sites_show_python_frames, leaks_at_script_end,
                           import_machinery_hidden, python_file_owners, leaks_owned_by_the_script,
                           arenas_tracked, corrupt_python_records));

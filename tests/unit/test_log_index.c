// SPDX-License-Identifier: MIT
// Unit tests of the index (log_index.c): a crafted log with every kind of record comes back
// from its index as the same analysis (figures, nodes, modules, blocks in the same order,
// Python, leak check, marks, names); a damaged index or a changed log is a miss; a log
// without its end gets no index; MEMTRACE_INDEX=0 turns it off; a window or thread filter
// comes back only for the very same window and threads.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis.h"
#include "check_main.h"
#include "log_builder.h"
#include "log_index.h"

static char log_path[64], idx_path[80];

static void paths(void)
{
    snprintf(log_path, sizeof log_path, "/tmp/mt-test-index-%d.mtr", (int)getpid());
    snprintf(idx_path, sizeof idx_path, "/tmp/.mt-test-index-%d.mtr.idx", (int)getpid());
    unlink(idx_path);
    setenv("MEMTRACE_INDEX_DIR", "/nonexistent/memtrace-index", 1);
    unsetenv("MEMTRACE_INDEX");
}

/* A log with a bit of everything; with_exit 0 leaves it unfinished. */
static void write_log(int with_exit)
{
    mt_lb_t b;
    mt_lb_init(&b, 4242, 512); /* small chunks: several of them */
    const char *argv[] = {"app", "--flag"};
    mt_lb_process(&b, 4242, 1, "/usr/bin/app", 2, argv);
    const uint64_t segs[1][3] = {{0x1000, 0x9000, 5}};
    mt_lb_module(&b, 1, 0x400000, "/usr/bin/app", "\x01\x02\x03\x04", 4, 1, segs);
    mt_lb_module(&b, 2, 0x7f0000000000, "/usr/lib/libplugin.so", "\x05\x06", 2, 1, segs);
    mt_lb_py_interp(&b, 3, 11, 0, 0x401000, 0x402000);
    mt_lb_py_code(&b, 1, 10, "main", "/tmp/script.py");
    mt_lb_py_location(&b, 1, 1, 12);
    mt_lb_thread(&b, 1);
    mt_lb_thread_name(&b, 1, "main");
    mt_lb_node(&b, 1, 0, 0x401100);
    mt_lb_node(&b, 2, 1, 0x7f0000001200);
    mt_lb_node(&b, 3, 1, 0x401300);
    mt_lb_notice(&b, 5, MT_NOTICE_MARK, "start");
    for (uint64_t i = 0; i < 300; i++) {
        mt_lb_thread(&b, 1 + i % 3);
        mt_lb_alloc(&b, MT_ALLOC_MALLOC, 10 + i, 16 + i, 0x10000 + i * 0x100,
                    1 + (uint32_t)(i % 3));
        if (i % 4 == 1)
            mt_lb_free_(&b, MT_TAG_FREE, 11 + i, 0x10000 + (i - 1) * 0x100);
    }
    mt_lb_thread_name(&b, 2, "worker");
    mt_lb_unload(&b, 2);
    mt_lb_mmap(&b, 400, 1 << 20, 0x7e0000000000, 3, MT_MAP_MMAP);
    mt_sample_t s = {0};
    s.rss = 1 << 22;
    s.arena = 1 << 20;
    mt_lb_sample(&b, 410, &s);
    mt_lb_py_arena(&b, MT_TAG_PY_ARENA_ALLOC, 420, 1 << 20, 0x7d0000000000);
    mt_lb_alloc(&b, MT_ALLOC_PYOBJECT, 421, 64, 0x7d0000000100, 3);
    mt_lb_notice(&b, 430, MT_NOTICE_MARK, "end");
    mt_lb_py_script_end(&b, 440);
    mt_lb_leak_scan(&b, 450, 2, 1, 0, 4096);
    mt_lb_leak_block(&b, 0x10000 + 2 * 0x100, 0, 0);
    mt_lb_leak_block(&b, 0x10000 + 3 * 0x100, 2, 0);
    mt_lb_leak_scan_end(&b, 2);
    if (with_exit)
        mt_lb_exit(&b, 500, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, log_path);
    mt_lb_free(&b);
}

static mt_analysis_t *load_log(void)
{
    char err[256];
    mt_analysis_t *a;
    ck_assert_int_eq(mt_analysis_load(&a, log_path, err, sizeof err), 0);
    return a;
}

typedef struct blocks {
    mt_block_t v[1024];
    size_t n;
} blocks_t;

static void take_block(const mt_block_t *blk, void *arg)
{
    blocks_t *bl = arg;
    ck_assert_uint_lt(bl->n, 1024);
    bl->v[bl->n++] = *blk;
}

/* The replay's figures with its pointers left out. */
static void replay_scalars(const mt_replay_t *r, mt_replay_t *out)
{
    *out = *r;
    out->blocks = NULL;
    out->node_slot = NULL;
    out->node_bits = NULL;
    out->node_rank = NULL;
    out->node_final = NULL;
    out->stats = NULL;
    out->pending = NULL;
    out->maps = NULL;
    out->samples = NULL;
    out->threads = NULL;
    out->thread_hit = NULL;
    out->tstats = NULL;
    out->sel_tids = NULL;
    out->pairs = NULL;
}

static void assert_same(const mt_analysis_t *a, const mt_analysis_t *b)
{
    mt_replay_t ra, rb;
    replay_scalars(&a->replay, &ra);
    replay_scalars(&b->replay, &rb);
    ck_assert(memcmp(&ra, &rb, sizeof ra) == 0);
    for (uint32_t n = 0; n < 5; n++) {
        mt_node_stats_t x = mt_replay_node(&a->replay, n), y = mt_replay_node(&b->replay, n);
        ck_assert(memcmp(&x, &y, sizeof x) == 0);
        size_t px, py;
        const uint64_t *pa = mt_replay_node_pairs(&a->replay, n, &px);
        const uint64_t *pb = mt_replay_node_pairs(&b->replay, n, &py);
        ck_assert_uint_eq(px, py);
        ck_assert(px == 0 || memcmp(pa, pb, px * sizeof *pa) == 0);
    }
    ck_assert(memcmp(a->replay.samples, b->replay.samples,
                     a->replay.nsamples * sizeof *a->replay.samples) == 0);
    ck_assert(memcmp(a->replay.tstats, b->replay.tstats,
                     a->replay.ntstats * sizeof *a->replay.tstats) == 0);
    static blocks_t ba, bb;
    ba.n = bb.n = 0;
    mt_replay_each_live(&a->replay, take_block, &ba);
    mt_replay_each_live(&b->replay, take_block, &bb);
    ck_assert_uint_eq(ba.n, 226); /* 300 allocations, 75 of them freed, 1 Python object */
    ck_assert_uint_eq(ba.n, bb.n);
    ck_assert(memcmp(ba.v, bb.v, ba.n * sizeof *ba.v) == 0); /* the same order too */

    ck_assert_uint_eq(mt_modules_count(a->modules), 2);
    ck_assert_uint_eq(mt_modules_count(b->modules), 2);
    for (uint32_t i = 0; i < 2; i++) {
        const mt_module_t *x = mt_modules_get(a->modules, i), *y = mt_modules_get(b->modules, i);
        ck_assert_str_eq(x->path, y->path);
        ck_assert_uint_eq(x->bias, y->bias);
        ck_assert_int_eq(x->loaded, y->loaded);
        ck_assert_uint_eq(x->canonical, y->canonical);
        ck_assert_uint_eq(x->build_id_len, y->build_id_len);
        ck_assert(memcmp(x->build_id, y->build_id, x->build_id_len) == 0);
    }
    ck_assert_int_eq(mt_modules_get(b->modules, 1)->loaded, 0);
    ck_assert_uint_eq(mt_modules_find(b->modules, 0x401234), mt_modules_find(a->modules, 0x401234));
    ck_assert_uint_eq(a->nodes.n, b->nodes.n);
    for (uint32_t n = 1; n < a->nodes.n; n++) {
        ck_assert(memcmp(mt_nodes_loc(&a->nodes, n), mt_nodes_loc(&b->nodes, n),
                         sizeof(mt_node_loc_t)) == 0);
        ck_assert_uint_eq(a->nodes.v[n].parent, b->nodes.v[n].parent);
    }
    ck_assert_str_eq(b->process.exe, "/usr/bin/app");
    ck_assert_uint_eq(b->process.argc, 2);
    ck_assert_str_eq(b->process.argv[1], "--flag");
    ck_assert_uint_eq(b->marks.n, 2);
    ck_assert_str_eq(b->marks.v[1].name, "end");
    ck_assert_uint_eq(b->marks.v[1].time_us, a->marks.v[1].time_us);
    ck_assert_str_eq(mt_tnames_get(&b->thread_names, 2), "worker");
    ck_assert_uint_eq(b->python.ncodes, a->python.ncodes);
    ck_assert_str_eq(b->python.codes[1].qualname, "main");
    ck_assert_uint_eq(b->python.nend, a->python.nend);
    ck_assert(memcmp(b->python.end_bytes, a->python.end_bytes, a->python.nend * 8) == 0);
    ck_assert_int_eq(b->python.script_end, 1);
    ck_assert_int_eq(b->leaks.complete, a->leaks.complete);
    ck_assert_uint_eq(b->leaks.ngroups, a->leaks.ngroups);
    ck_assert(
        memcmp(b->leaks.groups, a->leaks.groups, a->leaks.ngroups * sizeof *a->leaks.groups) == 0);
    ck_assert_uint_eq(b->events, a->events);
    ck_assert_str_eq(b->path, log_path);
}

START_TEST(round_trip)
{
    paths();
    write_log(1);
    mt_analysis_t *a = load_log(), *b = NULL;
    ck_assert_int_eq(mt_index_load(&b, log_path), 0); /* none yet */
    ck_assert_int_eq(mt_index_save(a, log_path), 0);
    char where[256];
    ck_assert_int_eq(mt_index_find(log_path, where, sizeof where), 0);
    ck_assert_str_eq(where, idx_path);
    ck_assert_int_eq(mt_index_load(&b, log_path), 1);
    assert_same(a, b);
    mt_analysis_free(b);
    /* and off */
    setenv("MEMTRACE_INDEX", "0", 1);
    ck_assert_int_eq(mt_index_load(&b, log_path), 0);
    ck_assert_ptr_null(b);
    unsetenv("MEMTRACE_INDEX");
    mt_analysis_free(a);
    unlink(idx_path);
    unlink(log_path);
}
END_TEST

static void flip(const char *path, long at)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, at, at < 0 ? SEEK_END : SEEK_SET), 0);
    int c = fgetc(f);
    ck_assert_int_eq(fseek(f, -1, SEEK_CUR), 0);
    fputc(c ^ 0x10, f);
    fclose(f);
}

START_TEST(damaged_or_stale_is_a_miss)
{
    paths();
    write_log(1);
    mt_analysis_t *a = load_log(), *b = NULL;
    /* a byte of the payload, of the header's version, of the log's stamp */
    long spots[] = {-5, 8, 24, 48, 64};
    for (size_t i = 0; i < sizeof spots / sizeof *spots; i++) {
        ck_assert_int_eq(mt_index_save(a, log_path), 0);
        ck_assert_int_eq(mt_index_load(&b, log_path), 1);
        mt_analysis_free(b);
        flip(idx_path, spots[i]);
        ck_assert_int_eq(mt_index_load(&b, log_path), 0);
        ck_assert_ptr_null(b);
    }
    /* half an index */
    ck_assert_int_eq(mt_index_save(a, log_path), 0);
    ck_assert_int_eq(truncate(idx_path, 100), 0);
    ck_assert_int_eq(mt_index_load(&b, log_path), 0);
    /* the log changed: one byte of its last chunk, its size and time kept as they were */
    ck_assert_int_eq(mt_index_save(a, log_path), 0);
    struct stat st;
    ck_assert_int_eq(stat(log_path, &st), 0);
    flip(log_path, -3);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    ck_assert_int_eq(utimensat(AT_FDCWD, log_path, times, 0), 0);
    ck_assert_int_eq(mt_index_load(&b, log_path), 0);
    ck_assert_ptr_null(b);
    mt_analysis_free(a);
    unlink(idx_path);
    unlink(log_path);
}
END_TEST

START_TEST(unfinished_log_gets_none)
{
    paths();
    write_log(0);
    mt_analysis_t *a = load_log();
    ck_assert_int_eq(a->truncated, 1);
    ck_assert_int_eq(mt_index_save(a, log_path), -EINVAL);
    ck_assert_int_eq(access(idx_path, F_OK), -1);
    mt_analysis_free(a);
    unlink(log_path);
}
END_TEST

/* The window and thread filter of selection k (for the test below): k even a window, odd a
 * thread filter of one value, k itself (thread 1 for k = 1, else none: allowed); none equal. */
static void selection(unsigned k, mt_window_t *w, const char **spec, mt_thread_filter_t *f)
{
    static char names[2][8];
    *w = (mt_window_t){.on = !(k & 1), .from_us = 20 + k, .to_us = 460 + k};
    snprintf(names[k & 1], sizeof names[0], "%u", k);
    spec[0] = names[k & 1];
    *f = (mt_thread_filter_t){spec, k & 1, 1};
}

START_TEST(selections_kept_apart)
{
    paths();
    write_log(1);
    char err[256], sel_path[96];
    mt_window_t w, w2;
    const char *spec[1], *spec2[1];
    mt_thread_filter_t f, f2;
    mt_analysis_t *a, *b = NULL;
    selection(0, &w, spec, &f);
    ck_assert_int_eq(mt_analysis_load_window(&a, log_path, &f, &w, NULL, NULL, err, sizeof err), 0);
    ck_assert_int_eq(a->window_stopped, 1); /* stopped at 460 us: no EXIT seen, yet complete */
    ck_assert_int_eq(mt_index_load_sel(&b, log_path, &w, &f), 0);
    ck_assert_int_eq(mt_index_save_sel(a, log_path, &w, &f), 0);
    /* never the whole log's index, nor the whole log's from it */
    ck_assert_int_eq(access(idx_path, F_OK), -1);
    ck_assert_int_eq(mt_index_load(&b, log_path), 0);
    ck_assert_int_eq(mt_index_save(a, log_path), -EINVAL);
    ck_assert_int_eq(mt_index_load_sel(&b, log_path, &w, &f), 1);
    assert_same(a, b);
    ck_assert_int_eq(memcmp(&a->window, &b->window, sizeof a->window), 0);
    mt_analysis_free(b);
    /* 40 other selections, 5 of every 8 falling on some slot another one used: each is a
     * miss until it is saved, then a hit, and the first one's only while its slot holds it */
    for (unsigned k = 1; k <= 40; k++) {
        selection(k, &w2, spec2, &f2);
        ck_assert_int_eq(mt_index_load_sel(&b, log_path, &w2, &f2), 0);
        ck_assert_ptr_null(b);
        mt_analysis_t *c;
        ck_assert_int_eq(
            mt_analysis_load_window(&c, log_path, &f2, &w2, NULL, NULL, err, sizeof err), 0);
        ck_assert_int_eq(mt_index_save_sel(c, log_path, &w2, &f2), 0);
        ck_assert_int_eq(mt_index_load_sel(&b, log_path, &w2, &f2), 1);
        ck_assert_uint_eq(b->replay.allocations, c->replay.allocations);
        ck_assert_int_eq(b->thread_filter, c->thread_filter);
        mt_analysis_free(b);
        mt_analysis_free(c);
    }
    /* the log changed under a kept selection (one byte, its size and time as they were): a
     * miss, as for the whole log's index */
    selection(40, &w2, spec2, &f2);
    ck_assert_int_eq(mt_index_load_sel(&b, log_path, &w2, &f2), 1);
    mt_analysis_free(b);
    struct stat st;
    ck_assert_int_eq(stat(log_path, &st), 0);
    flip(log_path, -3);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    ck_assert_int_eq(utimensat(AT_FDCWD, log_path, times, 0), 0);
    ck_assert_int_eq(mt_index_load_sel(&b, log_path, &w2, &f2), 0);
    flip(log_path, -3);
    ck_assert_int_eq(utimensat(AT_FDCWD, log_path, times, 0), 0);
    ck_assert_int_eq(mt_index_load_sel(&b, log_path, &w2, &f2), 1);
    mt_analysis_free(b);
    /* a thread value split differently is another key: "1" then "" is not "1" */
    selection(1, &w2, spec2, &f2);
    const char *two[2] = {spec2[0], ""};
    mt_thread_filter_t f3 = {two, 2, 1};
    ck_assert_int_eq(mt_index_load_sel(&b, log_path, &w2, &f3), 0);
    mt_analysis_free(a);
    for (unsigned k = 0; k < 8; k++) {
        snprintf(sel_path, sizeof sel_path, "/tmp/.mt-test-index-%d.mtr.w%u.idx", (int)getpid(), k);
        unlink(sel_path);
    }
    unlink(log_path);
}
END_TEST

MT_SUITE(.name = "log_index", .tests = MT_TESTS(round_trip, damaged_or_stale_is_a_miss,
                                                unfinished_log_gets_none, selections_kept_apart));

// SPDX-License-Identifier: MIT
// Unit tests for the symbolizer and the sites built with it: a log that points into this test
// binary (built with -g) must symbolize to this file's functions and lines, inlined calls
// expand innermost first, equal stacks merge into one site (the frame filter:
// test_frame_filter.c).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "analysis.h"
#include "log_builder.h"
#include "sites.h"
#include "symbolizer.h"

static int line_a, line_b_inner, line_b_outer;

__attribute__((noinline)) static uint64_t here(void)
{
    uint64_t ip = (uint64_t)__builtin_return_address(0);
    __asm__ volatile("" ::: "memory");
    return ip;
}

__attribute__((noinline)) static uint64_t site_a(void)
{
    uint64_t ip = here();
    line_a = __LINE__ - 1; /* the call above */
    __asm__ volatile("" ::: "memory");
    return ip;
}

static inline __attribute__((always_inline)) uint64_t inner_b(void)
{
    uint64_t ip = here();
    line_b_inner = __LINE__ - 1;
    __asm__ volatile("" ::: "memory");
    return ip;
}

__attribute__((noinline)) static uint64_t site_b(void)
{
    uint64_t ip = inner_b();
    line_b_outer = __LINE__ - 1;
    __asm__ volatile("" ::: "memory");
    return ip;
}

static const char *base(const char *p)
{
    const char *s = p ? strrchr(p, '/') : NULL;
    return s ? s + 1 : p;
}

/* A log whose nodes are return addresses in this binary: 1 = site_a, 2 = site_b, and
 * 3 -> 1 (site_a's address as a parent of a leaf at site_b's). */
static mt_analysis_t *self_log(uint64_t ip_a, uint64_t ip_b)
{
    mt_lb_t b;
    mt_lb_init(&b, 1, 0);
    mt_lb_self_modules(&b, 1);
    mt_lb_node(&b, 1, 0, ip_a);
    mt_lb_node(&b, 2, 0, ip_b);
    mt_lb_node(&b, 3, 1, ip_b);
    mt_lb_node(&b, 4, 1, ip_b); /* same symbolized stack as 3: merges */
    mt_lb_thread(&b, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1, 100, 0x1000, 3);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 2, 50, 0x2000, 4);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 3, 7, 0x3000, 2);
    mt_lb_free_(&b, MT_TAG_FREE, 4, 0x2000);
    mt_lb_exit(&b, 5, MT_EXIT_NORMAL, 0);
    mt_lb_flush(&b);
    mt_analysis_t *a;
    char err[256];
    ck_assert_int_eq(mt_analysis_load_mem(&a, b.file, b.len, "self", err, sizeof err), 0);
    mt_lb_free(&b);
    return a;
}

START_TEST(symbolizes_own_functions_and_inlines)
{
    uint64_t ip_a = site_a(), ip_b = site_b();
    mt_analysis_t *a = self_log(ip_a, ip_b);
    mt_symbolizer_t *s;
    ck_assert_int_eq(mt_symbolizer_new(&s, a->modules), 0);
    const mt_frame_t *f;

    const mt_node_loc_t *n1 = mt_nodes_loc(&a->nodes, 1);
    ck_assert_uint_ne(n1->module, MT_NO_MODULE);
    int k = mt_symbolizer_lookup(s, n1->module, n1->rel, 1, &f);
    ck_assert_int_eq(k, 1);
    ck_assert_str_eq(f[0].function, "site_a");
    ck_assert_str_eq(base(f[0].file), "test_symbolizer.c");
    ck_assert_uint_eq(f[0].line, (uint32_t)line_a);
    ck_assert_int_eq(f[0].inlined, 0);
    ck_assert_uint_eq(f[0].address, n1->rel);

    const mt_node_loc_t *n2 = mt_nodes_loc(&a->nodes, 2);
    k = mt_symbolizer_lookup(s, n2->module, n2->rel, 1, &f);
    ck_assert_int_eq(k, 2);
    ck_assert_str_eq(f[0].function, "inner_b");
    ck_assert_int_eq(f[0].inlined, 1);
    ck_assert_uint_eq(f[0].line, (uint32_t)line_b_inner);
    ck_assert_str_eq(f[1].function, "site_b");
    ck_assert_int_eq(f[1].inlined, 0);
    ck_assert_uint_eq(f[1].line, (uint32_t)line_b_outer);
    ck_assert_str_eq(base(f[1].file), "test_symbolizer.c");

    /* cached: same pointers */
    const mt_frame_t *g;
    ck_assert_int_eq(mt_symbolizer_lookup(s, n2->module, n2->rel, 1, &g), 2);
    ck_assert_ptr_eq(g[0].function, f[0].function);
    ck_assert_uint_eq(mt_symbolizer_warning_count(s), 0);
    mt_symbolizer_free(s);
    mt_analysis_free(a);
}
END_TEST

START_TEST(sites_merge_identical_stacks)
{
    mt_analysis_t *a = self_log(site_a(), site_b());
    mt_symbolizer_t *s;
    ck_assert_int_eq(mt_symbolizer_new(&s, a->modules), 0);
    mt_sites_t sites;
    ck_assert_int_eq(mt_sites_build(&sites, a, s), 0);
    ck_assert_uint_eq(sites.n, 2);
    size_t idx[4];
    ck_assert_uint_eq(mt_sites_top(&sites, MT_COST_ALLOCATED, 4, idx), 2);
    const mt_site_t *top = &sites.v[idx[0]];
    ck_assert_uint_eq(top->bytes_allocated, 150);
    ck_assert_uint_eq(top->allocations, 2);
    ck_assert_uint_eq(top->leaked_bytes, 100);
    ck_assert_uint_eq(top->leaked_blocks, 1);
    ck_assert_uint_eq(top->peak_bytes, 150);
    ck_assert_uint_eq(top->nodes, 2);
    /* node 3's stack: site_b's return address (inner_b inlined in site_b), then site_a; its
     * frames are built when asked for, once */
    ck_assert_uint_eq(top->nframes, 3);
    ck_assert_ptr_null(top->frames);
    ck_assert_int_eq(mt_sites_load(&sites, idx[0]), 1);
    ck_assert_int_eq(mt_sites_load(&sites, idx[0]), 0);
    ck_assert_uint_eq(top->nframes, 3);
    ck_assert_str_eq(top->frames[0].function, "inner_b");
    ck_assert_str_eq(top->frames[2].function, "site_a");
    ck_assert_uint_eq(sites.v[idx[1]].bytes_allocated, 7);
    ck_assert_uint_eq(mt_sites_top(&sites, MT_COST_LEAKED, 4, idx), 2);
    mt_sites_destroy(&sites);
    mt_symbolizer_free(s);
    mt_analysis_free(a);
}
END_TEST

/* The module tests' log: one module at path (0x400000, one segment), node 1 at 0x400123 and
 * node 2 under it at 0x400456; loaded into a, with its symbolizer s. */
static mt_lb_t mb;
static mt_analysis_t *ma;
static mt_symbolizer_t *ms;

static void load_one_module(const char *path, const char *build_id, size_t build_id_len)
{
    static const uint64_t segs[1][3] = {{0, 0x10000, 5}};
    mt_lb_init(&mb, 1, 0);
    mt_lb_module(&mb, 1, 0x400000, path, build_id, build_id_len, 1, segs);
    mt_lb_node(&mb, 1, 0, 0x400123);
    mt_lb_node(&mb, 2, 1, 0x400456);
    mt_lb_flush(&mb);
    char err[128];
    ck_assert_int_eq(mt_analysis_load_mem(&ma, mb.file, mb.len, "x", err, sizeof err), 0);
    ck_assert_int_eq(mt_symbolizer_new(&ms, ma->modules), 0);
}

/* The one frame node's address gives (a module without symbols: module+offset). */
static const mt_frame_t *lookup_node(uint32_t node, int inlines)
{
    const mt_frame_t *f;
    ck_assert_int_eq(mt_symbolizer_lookup(ms, mt_nodes_loc(&ma->nodes, node)->module,
                                          mt_nodes_loc(&ma->nodes, node)->rel, inlines, &f),
                     1);
    return f;
}

static void unload_one_module(void)
{
    mt_symbolizer_free(ms);
    mt_analysis_free(ma);
    mt_lb_free(&mb);
}

START_TEST(missing_module_falls_back_once)
{
    load_one_module("/nonexistent/libgone.so", "\1\2\3\4", 4);
    const mt_frame_t *f = lookup_node(1, 0);
    ck_assert_ptr_null(f[0].function);
    ck_assert_uint_eq(f[0].address, 0x123);
    ck_assert_uint_eq(lookup_node(2, 1)[0].address, 0x456);
    ck_assert_uint_eq(mt_symbolizer_warning_count(ms), 1);
    ck_assert_str_eq(mt_symbolizer_warning(ms, 0),
                     "/nonexistent/libgone.so: file not found, shown as module+offset");
    unload_one_module();
}
END_TEST

/* A log names any path it likes: a FIFO there would block the report forever in open(). */
START_TEST(module_path_of_a_fifo_is_not_opened)
{
    char dir[] = "/tmp/mt_sym_fifo.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/lib.so", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    load_one_module(path, "", 0);
    ck_assert_ptr_null(lookup_node(1, 0)[0].function);
    ck_assert_uint_eq(mt_symbolizer_warning_count(ms), 1);
    char want[128];
    snprintf(want, sizeof want, "%s: not a regular file, shown as module+offset", path);
    ck_assert_str_eq(mt_symbolizer_warning(ms, 0), want);
    unload_one_module();
    unlink(path);
    rmdir(dir);
}
END_TEST

/* Offline: no file is opened, not even a readable one (this test binary). */
START_TEST(offline_symbolizer_opens_nothing)
{
    load_one_module("/proc/self/exe", "", 0);
    mt_symbolizer_set_offline(ms);
    const mt_frame_t *f = lookup_node(1, 0);
    ck_assert_ptr_null(f[0].function);
    ck_assert_uint_eq(f[0].address, 0x123);
    ck_assert_uint_eq(mt_symbolizer_warning_count(ms), 0);
    unload_one_module();
}
END_TEST

START_TEST(demangle)
{
    char *d = mt_demangle("_ZN3foo3barEi");
    ck_assert_str_eq(d, "foo::bar(int)");
    free(d);
    d = mt_demangle("_Znwm");
    ck_assert_str_eq(d, "operator new(unsigned long)");
    free(d);
    ck_assert_ptr_null(mt_demangle("main"));
    ck_assert_ptr_null(mt_demangle("_Zgarbage!"));
    ck_assert_ptr_null(mt_demangle(NULL));
}
END_TEST

MT_SUITE(.name = "symbolizer", .timeout = 60,
         .tests = MT_TESTS(symbolizes_own_functions_and_inlines, sites_merge_identical_stacks,
                           missing_module_falls_back_once, module_path_of_a_fifo_is_not_opened,
                           offline_symbolizer_opens_nothing, demangle));

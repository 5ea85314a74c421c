// SPDX-License-Identifier: MIT
// Unit tests of the HTML page's window series (window_series.c) on a log written to a file (the
// series reads it again): what each site had allocated at each bucket's end, and what it held
// then by the bucket each block was allocated in, from which a window's figures follow.
#include <stdio.h>
#include <unistd.h>

#include "analysis.h"
#include "check_main.h"
#include "log_builder.h"
#include "sites.h"
#include "symbolizer.h"
#include "window_series.h"

/* Site A (node 1) and site B (node 2) of one thread, times in microseconds; the log ends at
 * 640, so the 64 buckets are 10 us wide: A 100 B at 5 (bucket 0), B 200 B at 15 (bucket 1),
 * A's block freed at 25, A 300 B at 35 (bucket 3). */
START_TEST(series_by_bucket_of_allocation)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/mt-wseries-%d.mtr", (int)getpid());
    mt_lb_t b;
    mt_lb_init(&b, 100, 0);
    mt_lb_thread(&b, 1);
    mt_lb_node(&b, 1, 0, 0x1000);
    mt_lb_node(&b, 2, 0, 0x2000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 5, 100, 0xa000, 1);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 15, 200, 0xb000, 2);
    mt_lb_free_(&b, MT_TAG_FREE, 25, 0xa000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 35, 300, 0xc000, 1);
    mt_lb_exit(&b, 640, MT_EXIT_NORMAL, 0);
    mt_lb_write(&b, path);
    mt_lb_free(&b);

    char err[256];
    mt_analysis_t *a;
    mt_symbolizer_t *sym;
    mt_sites_t sites;
    ck_assert_int_eq(mt_analysis_load(&a, path, err, sizeof err), 0);
    ck_assert_int_eq(mt_symbolizer_new(&sym, a->modules), 0);
    ck_assert_int_eq(mt_sites_build(&sites, a, sym), 0);
    size_t top[4];
    size_t ntop = mt_sites_top(&sites, MT_COST_ALLOCATED, 4, top);
    ck_assert_uint_eq(ntop, 2);
    mt_wseries_t w;
    ck_assert_int_eq(mt_wseries_build(&w, a, &sites, top, ntop, NULL), 0);
    ck_assert_uint_eq(w.nb, 64);
    ck_assert_uint_eq(w.nk, 3); /* A (400 B allocated) first, B, then the other sites */
    ck_assert_uint_eq(sites.v[w.site[0]].node, 1);
    ck_assert_uint_eq(w.t_us[1], 10);
    ck_assert_uint_eq(w.t_us[64], 640);
    const size_t A = 0, B = 1, nk = w.nk, nb = w.nb;
#define HELD(j, k, bk) w.held[((size_t)(j)*nk + (k)) * nb + (bk)]
    ck_assert_uint_eq(w.allocs[0 * nk + A], 0);
    ck_assert_uint_eq(w.allocs[1 * nk + A], 1);
    ck_assert_uint_eq(w.bytes[4 * nk + A], 400);
    ck_assert_uint_eq(w.bytes[64 * nk + B], 200);
    ck_assert_uint_eq(HELD(2, A, 0), 100);
    ck_assert_uint_eq(HELD(3, A, 0), 0); /* freed at 25 */
    ck_assert_uint_eq(HELD(4, A, 3), 300);
    ck_assert_uint_eq(HELD(64, B, 1), 200);
    /* the window (10, 40]: A allocated 300 B in it and held all of it at its end */
    uint64_t held = 0;
    for (size_t bk = 1; bk < 4; bk++)
        held += HELD(4, A, bk);
    ck_assert_uint_eq(w.bytes[4 * nk + A] - w.bytes[1 * nk + A], 300);
    ck_assert_uint_eq(held, 300);
    for (size_t j = 0; j <= nb; j++)
        ck_assert_uint_eq(w.allocs[j * nk + 2], 0); /* no other site */
#undef HELD
    mt_wseries_destroy(&w);

    /* groups: A alone and B alone in one map, both together in the other */
    uint32_t one[2], both[2] = {2, 2};
    one[w.site[0] == 0 ? 0 : 1] = 0; /* site indices of A and B, whichever order */
    one[w.site[0] == 0 ? 1 : 0] = 1;
    mt_wgroups_spec_t spec = {.n = 3, .of = {one, both}};
    ck_assert_int_eq(mt_wseries_build(&w, a, &sites, top, ntop, &spec), 0);
    ck_assert_uint_eq(w.nspec, 3);
    ck_assert_uint_eq(w.g[0].calls[0], 1);
    ck_assert_uint_eq(w.g[0].bytes[0], 100);
    ck_assert_uint_eq(w.g[0].bytes[3], 300);
    ck_assert_uint_eq(w.g[1].bytes[1], 200);
    ck_assert_uint_eq(w.g[2].calls[0] + w.g[2].calls[1] + w.g[2].calls[3], 3);
    /* A's first block: alive at 10 and 20, gone by 30; its second and B's: alive at the end */
    ck_assert_uint_eq(w.g[0].nheld, 2);
    ck_assert(w.g[0].held[0].b == 0 && w.g[0].held[0].f == 3 && w.g[0].held[0].bytes == 100);
    ck_assert(w.g[0].held[1].b == 3 && w.g[0].held[1].f == 65 && w.g[0].held[1].bytes == 300);
    ck_assert_uint_eq(w.g[1].nheld, 1);
    ck_assert(w.g[1].held[0].b == 1 && w.g[1].held[0].f == 65 && w.g[1].held[0].bytes == 200);
    ck_assert_uint_eq(w.g[2].nheld, 3);
    /* the run's group: every call, the free in bucket 2, blocks counted beside bytes; then
     * the one thread's, the same blocks */
    ck_assert_uint_eq(w.ng, 5);
    ck_assert_uint_eq(w.nthr, 1);
    ck_assert_uint_eq(w.tid[0], 1);
    const mt_wgroup_t *run = &w.g[3], *thr = &w.g[4];
    ck_assert_uint_eq(run->calls[0] + run->calls[1] + run->calls[3], 3);
    ck_assert_uint_eq(run->bytes[3], 300);
    ck_assert(run->frees[2] == 1 && run->freed[2] == 100 && run->frees[0] == 0);
    ck_assert_uint_eq(run->nheld, 3);
    ck_assert(run->held[0].b == 0 && run->held[0].f == 3 && run->held[0].bytes == 100 &&
              run->held[0].blocks == 1);
    ck_assert_uint_eq(thr->bytes[1], 200);
    ck_assert_uint_eq(thr->nheld, 3);
    ck_assert(thr->frees == NULL && thr->held[2].f == 65 && thr->held[2].blocks == 1);
    /* the peak inside each bucket: the heap rose in 0, 1 and 3 (the free in 2 lowered it), to
     * 500 B at 35, of which 200 B allocated in bucket 1 and 300 B in bucket 3 */
    ck_assert(w.rose[0] && w.rose[1] && !w.rose[2] && w.rose[3] && !w.rose[4]);
    ck_assert(w.heap0[2] == 300 && w.heap0[3] == 200 && w.heap0[4] == 500);
    ck_assert(w.pk_bytes[3] == 500 && w.pk_us[3] == 35 && w.pk_bytes[1] == 300);
    const uint64_t *sp = w.pk_split + 3 * w.nb * 2;
    ck_assert(sp[0] == 0 && sp[2] == 200 && sp[3] == 1 && sp[6] == 300 && sp[7] == 1);
    mt_wseries_destroy(&w);
    mt_sites_destroy(&sites);
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
    unlink(path);
}
END_TEST

/* A log read from memory cannot be read again: no series, and no error. */
START_TEST(no_series_without_a_file)
{
    mt_lb_t b;
    mt_lb_init(&b, 100, 0);
    mt_lb_thread(&b, 1);
    mt_lb_node(&b, 1, 0, 0x1000);
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 5, 100, 0xa000, 1);
    mt_lb_exit(&b, 640, MT_EXIT_NORMAL, 0);
    mt_lb_flush(&b);
    char err[256];
    mt_analysis_t *a;
    ck_assert_int_eq(mt_analysis_load_mem(&a, b.file, b.len, "mem.mtr", err, sizeof err), 0);
    mt_lb_free(&b);
    mt_sites_t sites = {0};
    mt_wseries_t w;
    ck_assert_int_eq(mt_wseries_build(&w, a, &sites, NULL, 0, NULL), 0);
    ck_assert_uint_eq(w.nb, 0);
    mt_wseries_destroy(&w);
    mt_analysis_free(a);
}
END_TEST

MT_SUITE(.name = "window_series",
         .tests = MT_TESTS(series_by_bucket_of_allocation, no_series_without_a_file));

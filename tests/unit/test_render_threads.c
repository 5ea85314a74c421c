// SPDX-License-Identifier: MIT
// Unit tests of render_threads.c: the list of the threads --thread selected, as the text
// reports' header row and the page write it (every thread, or the first few and a count).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "analysis.h"
#include "check_main.h"
#include "log_builder.h"
#include "render_threads.h"
#include "text_escape.h"

/* Ten threads named "w" (tids 21 to 30), each allocating once, all selected by --thread w. */
static mt_analysis_t *load_ten_selected(void)
{
    mt_lb_t b;
    mt_lb_init(&b, 100, 0);
    mt_lb_thread(&b, 1);
    mt_lb_node(&b, 1, 0, 0x1000);
    for (uint64_t tid = 21; tid <= 30; tid++) {
        mt_lb_thread(&b, tid);
        mt_lb_thread_name(&b, tid, "w");
        mt_lb_alloc(&b, MT_ALLOC_MALLOC, tid, 16, 0x10000 + 16 * tid, 1);
    }
    mt_lb_exit(&b, 40, MT_EXIT_NORMAL, 0);
    char path[64];
    snprintf(path, sizeof path, "/tmp/mt-test-render-threads-%d.mtr", (int)getpid());
    mt_lb_write(&b, path);
    mt_lb_free(&b);
    const char *specs[] = {"w"};
    mt_thread_filter_t f = {specs, 1, 0};
    mt_analysis_t *a;
    char err[256];
    ck_assert_int_eq(mt_analysis_load_filtered(&a, path, &f, NULL, NULL, err, sizeof err), 0);
    unlink(path);
    ck_assert_uint_eq(a->replay.nsel, 10);
    return a;
}

static char *thread_list(const mt_analysis_t *a, size_t max)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    mt_render_thread_list(f, a, mt_text_put, max);
    fclose(f);
    return buf;
}

START_TEST(thread_list_whole_or_cut)
{
    mt_analysis_t *a = load_ten_selected();
    char *all = thread_list(a, SIZE_MAX);
    ck_assert_str_eq(all, "w (21), w (22), w (23), w (24), w (25), w (26), w (27), w (28), "
                          "w (29), w (30)");
    free(all);
    char *cut = thread_list(a, 8);
    ck_assert_str_eq(cut, "w (21), w (22), w (23), w (24), w (25), w (26), w (27), w (28), "
                          "... 2 more");
    free(cut);
    mt_analysis_free(a);
}
END_TEST

MT_SUITE(.name = "render_threads", .tests = MT_TESTS(thread_list_whole_or_cut));

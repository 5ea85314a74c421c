// SPDX-License-Identifier: MIT
// Unit tests of the frame filter (frame_filter.c), the one place that decides what a user
// frame is: allocator frames trimmed from the top only, and the first user frame of a stack.
#include <string.h>

#include "check_main.h"
#include "frame_filter.h"
#include "modules.h"

/* Modules 0..n-1 of these paths, module i loaded at 0x100000 * (i + 1). */
static mt_modules_t *modules_of(int n)
{
    static const char *const paths[] = {
        "/usr/lib/memtrace/libmemtrace_preload.so", "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libc.so.6", "/usr/bin/app", "/lib64/ld-linux-x86-64.so.2"};
    mt_modules_t *m;
    ck_assert_int_eq(mt_modules_new(&m), 0);
    for (int i = 0; i < n; i++) {
        mt_record_t rec;
        memset(&rec, 0, sizeof rec);
        rec.id = (uint64_t)i;
        rec.ip = 0x100000ull * (uint64_t)(i + 1);
        rec.str = (mt_str_t){paths[i], strlen(paths[i])};
        ck_assert_int_eq(mt_modules_load(m, &rec), 0);
    }
    return m;
}

START_TEST(filter_trims_allocator_frames_from_the_top)
{
    mt_modules_t *m = modules_of(4);
    mt_frame_t f[] = {
        {.function = "mt_hook_malloc", .module = 0},
        {.function = "operator new(unsigned long, std::nothrow_t const&)", .module = 1},
        {.function = "std::__new_allocator<int>::allocate(unsigned long, void const*)",
         .module = 3},
        {.function = "make_buffer", .module = 3},
        {.function = "malloc", .module = 3}, /* user code named malloc: not trimmed mid-stack */
        {.function = "main", .module = 3},
    };
    ck_assert_uint_eq(mt_filter_top(f, 6, m), 3);
    mt_frame_t g[] = {{.function = "malloc", .module = 2}, {.function = "leaf", .module = 3}};
    ck_assert_uint_eq(mt_filter_top(g, 2, m), 1);
    mt_frame_t h[] = {{.function = "malloc", .module = 3}, {.function = "leaf", .module = 3}};
    ck_assert_uint_eq(mt_filter_top(h, 2, m), 0); /* the app's own malloc */
    ck_assert_uint_eq(mt_filter_top(f, 2, m), 0); /* nothing but allocator: keep */
    mt_modules_free(m);
}
END_TEST

/* The one place that decides where a report says "allocated at" (frame_filter.h). */
START_TEST(filter_first_user_frame)
{
    mt_modules_t *m = modules_of(5);
    mt_frame_t f[] = {
        {.function = "mt_hook", .file = "preload/hooks.c", .line = 9, .module = 0},
        {.function = "strdup", .file = "string/strdup.c", .line = 42, .module = 2},
        {.function = "_dl_new_object", .file = "elf/dl-object.c", .line = 3, .module = 4},
        {.function = "std::vector<int>::push_back",
         .file = "/usr/include/c++/12/bits/stl_vector.h",
         .line = 1287,
         .module = 3},
        {.function = "inline_no_line", .file = "app.c", .line = 0, .module = 3},
        {.function = "helper", .file = NULL, .line = 0, .module = 3},
        {.function = "parse", .file = "/src/app/parse.c", .line = 12, .module = 3},
        {.function = "main", .file = "/src/app/main.c", .line = 5, .module = 3},
    };
    ck_assert_int_eq(mt_filter_first_user(f, 8, m), 6);
    ck_assert_int_eq(mt_filter_first_user(f, 6, m), -1);
    ck_assert(mt_filter_is_user_frame(&f[7], mt_modules_get(m, 3)));
    ck_assert(!mt_filter_is_user_frame(&f[1], mt_modules_get(m, 2)));
    mt_modules_free(m);
}
END_TEST

MT_SUITE(.name = "frame_filter",
         .tests = MT_TESTS(filter_trims_allocator_frames_from_the_top, filter_first_user_frame));

// SPDX-License-Identifier: MIT
// Unit tests of folded-stack export (export_folded.c): frame names, where the ';'
// separator and control characters can never split a frame.
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "export.h"
#include "modules.h"
#include "names.h"

static const char *folded(const mt_modules_t *m, const char *fn, uint32_t module, uint64_t address,
                          size_t cap)
{
    static char buf[256];
    mt_frame_t f = {.function = fn, .module = module, .address = address};
    size_t n = mt_export_folded_name(buf, cap, m, &f);
    ck_assert_uint_eq(n, strlen(buf));
    return buf;
}

START_TEST(folded_names)
{
    mt_modules_t *m;
    ck_assert_int_eq(mt_modules_new(&m), 0);
    static const mt_segment_t segs[1] = {{0, 0x1000, 5}};
    mt_record_t rec;
    memset(&rec, 0, sizeof rec);
    rec.tag = MT_TAG_MODULE_LOAD;
    rec.id = 1;
    rec.ip = 0x400000;
    rec.str = (mt_str_t){"/usr/lib/libfoo.so.1", 20};
    rec.segs = segs;
    rec.nsegs = 1;
    ck_assert_int_eq(mt_modules_load(m, &rec), 0);

    ck_assert_str_eq(folded(m, "main", 0, 0x10, 256), "main");
    /* the separator inside a name must not split the frame */
    ck_assert_str_eq(folded(m, "operator;weird", 0, 0, 256), "operator:weird");
    ck_assert_str_eq(folded(m, "a;b;c", 0, 0, 256), "a:b:c");
    /* a newline would end the line, a tab is whitespace to some readers */
    ck_assert_str_eq(folded(m, "x\ny\tz\x7f", 0, 0, 256), "x y z ");
    /* spaces and C++ stay as they are (readers split the count at the last space), with
     * template arguments shortened unless full names were asked for (names.h) */
    ck_assert_str_eq(folded(m, "std::vector<int, std::allocator<int> >::push_back", 0, 0, 256),
                     "std::vector<>::push_back");
    mt_names_set_full(1);
    ck_assert_str_eq(folded(m, "std::vector<int, std::allocator<int> >::push_back", 0, 0, 256),
                     "std::vector<int, std::allocator<int> >::push_back");
    mt_names_set_full(0);
    /* no symbol: module base name and offset, or the bare address */
    ck_assert_str_eq(folded(m, NULL, 0, 0x1a2b, 256), "libfoo.so.1+0x1a2b");
    ck_assert_str_eq(folded(m, NULL, MT_NO_MODULE, 0xdead, 256), "0xdead");
    /* truncation keeps a NUL-terminated string */
    ck_assert_str_eq(folded(m, "abcdef", 0, 0, 4), "abc");
    /* a Python frame is a line of its function, as py-spy folds them; ';' in a path too */
    char buf[256];
    mt_frame_t py = {.function = "<module>",
                     .file = "/work/a;b/app.py",
                     .line = 3,
                     .module = MT_NO_MODULE,
                     .python = 1};
    mt_export_folded_name(buf, sizeof buf, m, &py);
    ck_assert_str_eq(buf, "<module> (app.py:3)");
    py.file = "x;y.py";
    mt_export_folded_name(buf, sizeof buf, m, &py);
    ck_assert_str_eq(buf, "<module> (x:y.py:3)");
    mt_modules_free(m);
}
END_TEST

MT_SUITE(.name = "export_folded", .tests = MT_TESTS(folded_names));

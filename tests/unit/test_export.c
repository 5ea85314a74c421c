// SPDX-License-Identifier: MIT
// Unit tests of the export helpers: the protobuf encoder against bytes worked out from the
// protobuf encoding spec, folded-stack frame names (the ';' separator and control characters
// can never split a frame), and diff's --fail-above parser.
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "diff.h"
#include "export.h"
#include "modules.h"
#include "names.h"
#include "protobuf_writer.h"

static void expect_bytes(const mt_pb_t *pb, const uint8_t *want, size_t n)
{
    ck_assert_int_eq(mt_pb_error(pb), 0);
    ck_assert_uint_eq(pb->len, n);
    ck_assert_int_eq(memcmp(pb->buf, want, n), 0);
}

START_TEST(pb_varints)
{
    static const struct {
        uint64_t v;
        uint8_t bytes[10];
        size_t n;
    } cases[] = {
        {0, {0x00}, 1},
        {1, {0x01}, 1},
        {127, {0x7f}, 1},
        {128, {0x80, 0x01}, 2},
        {150, {0x96, 0x01}, 2}, /* the spec's example */
        {300, {0xac, 0x02}, 2},
        {16384, {0x80, 0x80, 0x01}, 3},
        {UINT32_MAX, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
        {UINT64_MAX, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mt_pb_t pb;
        mt_pb_init(&pb);
        mt_pb_raw_varint(&pb, cases[i].v);
        expect_bytes(&pb, cases[i].bytes, cases[i].n);
        ck_assert_uint_eq(mt_pb_varint_size(cases[i].v), cases[i].n);
        mt_pb_destroy(&pb);
    }
}
END_TEST

START_TEST(pb_fields)
{
    mt_pb_t pb, sub;
    mt_pb_init(&pb);
    mt_pb_init(&sub);
    mt_pb_varint(&pb, 1, 150);       /* 08 96 01 */
    mt_pb_string(&pb, 2, "testing"); /* 12 07 74 65 73 74 69 6e 67 */
    mt_pb_string(&pb, 6, "");        /* 32 00: an empty string is still a field */
    static const uint64_t packed[] = {3, 270, 86942};
    mt_pb_packed(&pb, 4, packed, 3); /* 22 06 03 8e 02 9e a7 05 */
    mt_pb_packed(&pb, 5, packed, 0); /* nothing */
    mt_pb_varint(&sub, 1, 150);
    mt_pb_message(&pb, 3, &sub);                 /* 1a 03 08 96 01 */
    mt_pb_varint(&pb, 16, 1);                    /* field 16: two-byte tag 80 01 */
    mt_pb_varint(&pb, 2, (uint64_t)(int64_t)-1); /* negative int64: 10 bytes */
    static const uint8_t want[] = {
        0x08, 0x96, 0x01, 0x12, 0x07, 't',  'e',  's',  't',  'i',  'n',  'g',  0x32, 0x00,
        0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05, 0x1a, 0x03, 0x08, 0x96, 0x01, 0x80,
        0x01, 0x01, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    };
    expect_bytes(&pb, want, sizeof want);
    mt_pb_reset(&pb);
    ck_assert_uint_eq(pb.len, 0);
    /* a long string makes the buffer grow several times */
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    mt_pb_string(&pb, 1, big);
    ck_assert_int_eq(mt_pb_error(&pb), 0);
    ck_assert_uint_eq(pb.len, 1 + 2 + 4999);
    ck_assert_uint_eq(pb.buf[1], 0x87); /* 4999 = 0x1387 -> 87 27 */
    ck_assert_uint_eq(pb.buf[2], 0x27);
    ck_assert_uint_eq(pb.buf[3 + 4998], 'x');
    /* a sub-message's error carries over */
    sub.err = -ENOMEM;
    mt_pb_message(&pb, 2, &sub);
    ck_assert_int_eq(mt_pb_error(&pb), -ENOMEM);
    mt_pb_destroy(&pb);
    mt_pb_destroy(&sub);
}
END_TEST

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

START_TEST(thresholds)
{
    mt_diff_threshold_t t;
    ck_assert_int_eq(mt_diff_threshold_parse("4096", &t), 0);
    ck_assert(!t.percent && t.value == 4096);
    ck_assert_int_eq(mt_diff_threshold_parse("10MiB", &t), 0);
    ck_assert(!t.percent && t.value == 10.0 * 1048576);
    ck_assert_int_eq(mt_diff_threshold_parse("64K", &t), 0);
    ck_assert(t.value == 65536);
    ck_assert_int_eq(mt_diff_threshold_parse("1.5 GB", &t), 0);
    ck_assert(t.value == 1.5 * 1073741824.0);
    ck_assert_int_eq(mt_diff_threshold_parse("12b", &t), 0);
    ck_assert(t.value == 12);
    ck_assert_int_eq(mt_diff_threshold_parse("5%", &t), 0);
    ck_assert(t.percent && t.value == 5);
    ck_assert_int_eq(mt_diff_threshold_parse("0.5%", &t), 0);
    ck_assert(t.percent && t.value == 0.5);
    ck_assert_int_eq(mt_diff_threshold_parse("", &t), -EINVAL);
    ck_assert_int_eq(mt_diff_threshold_parse("-1", &t), -EINVAL);
    ck_assert_int_eq(mt_diff_threshold_parse("ten", &t), -EINVAL);
    ck_assert_int_eq(mt_diff_threshold_parse("5 %%", &t), -EINVAL);
    ck_assert_int_eq(mt_diff_threshold_parse("10TB", &t), -EINVAL);
    ck_assert_int_eq(mt_diff_threshold_parse("inf", &t), -EINVAL);
    ck_assert_int_eq(mt_diff_threshold_parse("nan", &t), -EINVAL);
}
END_TEST

const mt_suite_t mt_suite = {
    .name = "export",
    .tcase = "core",
    .tests = MT_TESTS(pb_varints, pb_fields, folded_names, thresholds),
};

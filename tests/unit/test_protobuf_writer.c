// SPDX-License-Identifier: MIT
// Unit tests of the protobuf encoder (protobuf_writer.c) that pprof export writes with,
// against bytes worked out from the protobuf encoding spec.
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
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

MT_SUITE(.name = "protobuf_writer", .tests = MT_TESTS(pb_varints, pb_fields));

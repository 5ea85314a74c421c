// SPDX-License-Identifier: MIT
// Unit tests for the shared varint/zigzag codec in log_format.h: round trips at the edges and
// rejection of overlong or cut input. The decoder must never read past the end it is given.
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "log_format.h"

static const uint64_t edge[] = {0,
                                1,
                                127,
                                128,
                                255,
                                16383,
                                16384,
                                (1ull << 21) - 1,
                                1ull << 21,
                                (1ull << 35) + 3,
                                (1ull << 56) - 1,
                                1ull << 63,
                                UINT64_MAX - 1,
                                UINT64_MAX};

START_TEST(varint_round_trip)
{
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        uint8_t buf[MT_VARINT_MAX + 4];
        size_t n = mt_varint_put(buf, edge[i]);
        ck_assert_uint_ge(n, 1);
        ck_assert_uint_le(n, MT_VARINT_MAX);
        const uint8_t *p = buf;
        uint64_t v = 0;
        ck_assert_int_eq(mt_varint_get(&p, buf + n, &v), 0);
        ck_assert_uint_eq(v, edge[i]);
        ck_assert_ptr_eq(p, buf + n);
        /* every shorter input is cut inside the varint */
        for (size_t cut = 0; cut < n; cut++) {
            p = buf;
            ck_assert_int_eq(mt_varint_get(&p, buf + cut, &v), -1);
            ck_assert_ptr_eq(p, buf);
        }
    }
}
END_TEST

START_TEST(varint_sizes)
{
    uint8_t buf[MT_VARINT_MAX];
    ck_assert_uint_eq(mt_varint_put(buf, 127), 1);
    ck_assert_uint_eq(mt_varint_put(buf, 128), 2);
    ck_assert_uint_eq(mt_varint_put(buf, UINT64_MAX), 10);
    ck_assert_uint_eq(buf[9], 1);
}
END_TEST

START_TEST(varint_overlong_rejected)
{
    /* 11 continuation bytes: longer than any 64-bit varint */
    uint8_t buf[12];
    for (int i = 0; i < 11; i++)
        buf[i] = 0x80;
    buf[11] = 0;
    const uint8_t *p = buf;
    uint64_t v;
    ck_assert_int_eq(mt_varint_get(&p, buf + sizeof buf, &v), -1);
    /* 10th byte above 1 overflows 64 bits */
    for (int i = 0; i < 9; i++)
        buf[i] = 0xff;
    buf[9] = 0x02;
    p = buf;
    ck_assert_int_eq(mt_varint_get(&p, buf + 10, &v), -1);
    buf[9] = 0x01;
    p = buf;
    ck_assert_int_eq(mt_varint_get(&p, buf + 10, &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
}
END_TEST

START_TEST(zigzag_round_trip)
{
    const int64_t vals[] = {0, 1, -1, 2, -2, 63, -64, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    const uint64_t enc[] = {
        0, 2, 1, 4, 3, 126, 127, 4294967294ull, 4294967295ull, UINT64_MAX - 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        ck_assert_uint_eq(mt_zigzag(vals[i]), enc[i]);
        ck_assert_int_eq(mt_unzigzag(enc[i]), vals[i]);
    }
}
END_TEST

START_TEST(fixed_width_helpers)
{
    uint8_t b[8];
    mt_put_u64le(b, 0x0102030405060708ull);
    ck_assert_uint_eq(b[0], 8);
    ck_assert_uint_eq(mt_get_u64le(b), 0x0102030405060708ull);
    mt_put_u32le(b, 0xdeadbeef);
    ck_assert_uint_eq(mt_get_u32le(b), 0xdeadbeef);
    mt_put_u16le(b, 0xabcd);
    ck_assert_uint_eq(mt_get_u16le(b), 0xabcd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("varint");
    tcase_add_test(tc, varint_round_trip);
    tcase_add_test(tc, varint_sizes);
    tcase_add_test(tc, varint_overlong_rejected);
    tcase_add_test(tc, zigzag_round_trip);
    tcase_add_test(tc, fixed_width_helpers);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

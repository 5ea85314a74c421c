// SPDX-License-Identifier: MIT
// Unit tests for the human number formats (fmt.c): bytes, counts, times, rounded half up
// with three significant digits.

#include "check_main.h"
#include "fmt.h"

START_TEST(human_formats)
{
    char b[64];
    ck_assert_str_eq(mt_fmt_bytes(b, sizeof b, 0), "0 B");
    ck_assert_str_eq(mt_fmt_bytes(b, sizeof b, 1023), "1023 B");
    ck_assert_str_eq(mt_fmt_bytes(b, sizeof b, 1024), "1.00 KiB");
    ck_assert_str_eq(mt_fmt_bytes(b, sizeof b, 1536), "1.50 KiB");
    ck_assert_str_eq(mt_fmt_bytes(b, sizeof b, 13002342), "12.4 MiB");
    ck_assert_str_eq(mt_fmt_bytes(b, sizeof b, 1048575), "1.00 MiB");
    ck_assert_str_eq(mt_fmt_bytes(b, sizeof b, 3ull << 30), "3.00 GiB");
    ck_assert_str_eq(mt_fmt_bytes(b, sizeof b, UINT64_MAX), "16.0 EiB");
    ck_assert_str_eq(mt_fmt_count(b, sizeof b, 0), "0");
    ck_assert_str_eq(mt_fmt_count(b, sizeof b, 999), "999");
    ck_assert_str_eq(mt_fmt_count(b, sizeof b, 1000), "1,000");
    ck_assert_str_eq(mt_fmt_count(b, sizeof b, 1234567), "1,234,567");
    ck_assert_str_eq(mt_fmt_count(b, 4, 1234567), "1,2");
    ck_assert_str_eq(mt_fmt_clock(b, sizeof b, 12400000), "00:12.4");
    ck_assert_str_eq(mt_fmt_clock(b, sizeof b, 3723456789ull), "1:02:03.4");
    ck_assert_str_eq(mt_fmt_seconds(b, sizeof b, 512000), "0.512 s");
    ck_assert_str_eq(mt_fmt_seconds(b, sizeof b, 12345678), "12.3 s");
}
END_TEST

MT_SUITE(.name = "fmt", .tests = MT_TESTS(human_formats));

// SPDX-License-Identifier: MIT
// Unit tests of diff's --fail-above parser (diff.c): sizes, percentages and their errors.
#include <errno.h>

#include "check_main.h"
#include "diff.h"

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

MT_SUITE(.name = "diff", .tests = MT_TESTS(thresholds));

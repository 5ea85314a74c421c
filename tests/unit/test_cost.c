// SPDX-License-Identifier: MIT
// Unit tests of the cost names (cost.c) that --cost parses.

#include "check_main.h"
#include "cost.h"

START_TEST(cost_names)
{
    ck_assert_int_eq(mt_cost_parse("peak"), MT_COST_PEAK);
    ck_assert_int_eq(mt_cost_parse("leaked"), MT_COST_LEAKED);
    ck_assert_int_eq(mt_cost_parse("allocations"), MT_COST_ALLOCATIONS);
    ck_assert_int_eq(mt_cost_parse("temporary"), MT_COST_TEMPORARY);
    ck_assert_int_eq(mt_cost_parse("bytes"), -1);
    ck_assert_str_eq(mt_cost_name(MT_COST_TEMPORARY), "temporary");
}
END_TEST

MT_SUITE(.name = "cost", .tcase = "tree", .tests = MT_TESTS(cost_names));

// SPDX-License-Identifier: MIT
// Unit tests of the summary's compact block map (size_map.c): every block found again,
// sizes past 32 bits kept aside, and far fewer bytes per live block than the replay.
#include <stdint.h>

#include "check_main.h"
#include "size_map.h"

START_TEST(sizemap_round_trip)
{
    enum { N = 200000 };
    mt_sizemap_t m;
    ck_assert_int_eq(mt_sizemap_init(&m), 0);
    for (uint64_t i = 1; i <= N; i++)
        ck_assert_int_eq(mt_sizemap_put(&m, i * 48, i * 7), 0);
    /* sizes past 32 bits go to the side list */
    ck_assert_int_eq(mt_sizemap_put(&m, 0x7f0000000000, 5ull << 32), 0);
    ck_assert_int_eq(mt_sizemap_put(&m, 0x7f0000001000, UINT32_MAX), 0);
    ck_assert_uint_eq(m.count, N + 2);
    /* 12-byte slots at most 3/4 full and at least 3/8: 16 to 32 bytes a block */
    ck_assert_uint_le(mt_sizemap_bytes(&m), (size_t)(N + 2) * 32 + 4096);
    ck_assert_uint_ge(mt_sizemap_bytes(&m), (size_t)(N + 2) * 16);
    uint64_t size;
    for (uint64_t i = 1; i <= N; i += 2) {
        ck_assert(mt_sizemap_take(&m, i * 48, &size));
        ck_assert_uint_eq(size, i * 7);
        ck_assert(!mt_sizemap_take(&m, i * 48, &size));
    }
    for (uint64_t i = 2; i <= N; i += 2)
        ck_assert(mt_sizemap_has(&m, i * 48));
    ck_assert(!mt_sizemap_has(&m, 0));
    ck_assert(!mt_sizemap_take(&m, 0, &size));
    ck_assert(mt_sizemap_take(&m, 0x7f0000001000, &size));
    ck_assert_uint_eq(size, UINT32_MAX);
    ck_assert(mt_sizemap_take(&m, 0x7f0000000000, &size));
    ck_assert_uint_eq(size, 5ull << 32);
    for (uint64_t i = 2; i <= N; i += 2) {
        ck_assert(mt_sizemap_take(&m, i * 48, &size));
        ck_assert_uint_eq(size, i * 7);
    }
    ck_assert_uint_eq(m.count, 0);
    mt_sizemap_destroy(&m);
}
END_TEST

MT_SUITE(.name = "size_map", .timeout = 60, .tests = MT_TESTS(sizemap_round_trip));

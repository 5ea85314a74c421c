// SPDX-License-Identifier: MIT
// Unit tests for the shared codec in log_format.h: varint/zigzag round trips at the edges and
// rejection of overlong or cut input (the decoder must never read past the end it is given),
// and the version 2 record encoder's exact bytes (streams, TIME, FREE_BACK, ALLOC_REUSE).
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

/* An encoder over six 256-byte streams with an allocation table. */
typedef struct enc_fixture {
    uint8_t buf[MT_STREAMS * 256];
    uint8_t flat[MT_STREAMS * 256 + MT_STREAMS * MT_VARINT_MAX];
    mt_enc_t e;
    mt_enc_slot_t *map;
} enc_fixture_t;

static void enc_setup(enc_fixture_t *f)
{
    memset(&f->e, 0, sizeof f->e);
    f->map = calloc(MT_ENC_MAP_SLOTS, sizeof *f->map);
    ck_assert_ptr_nonnull(f->map);
    mt_enc_set_map(&f->e, f->map);
    mt_enc_reset(&f->e, f->buf, 256);
}

#define ASSERT_STREAM(f, k, ...)                                                                   \
    do {                                                                                           \
        static const uint8_t want_[] = {__VA_ARGS__};                                              \
        ck_assert_uint_eq(mt_enc_stream_len(&(f)->e, k), sizeof want_);                            \
        ck_assert(memcmp((f)->e.base[k], want_, sizeof want_) == 0);                               \
    } while (0)

/* The example of docs/log-format.md, byte for byte. */
START_TEST(encoder_doc_example)
{
    static enc_fixture_t f;
    enc_setup(&f);
    mt_enc_thread(&f.e, 4242);
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 5, 24, 0x5581a2c0, 7);
    mt_enc_free(&f.e, MT_TAG_FREE, 17, 0x5581a2c0);
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x04, 0x92, 0x21, 0x07, 0x10, 0x07, 0x23);
    ASSERT_STREAM(&f, MT_STREAM_SIZE, 0x18);
    ASSERT_STREAM(&f, MT_STREAM_ADDR, 0x80, 0x8b, 0x8d, 0xd8, 0x0a);
    ASSERT_STREAM(&f, MT_STREAM_NODE, 0x07);
    ASSERT_STREAM(&f, MT_STREAM_BACK, 0x00);
    ASSERT_STREAM(&f, MT_STREAM_TIME, 0x05, 0x0c);
    size_t n = mt_enc_copy_raw(&f.e, f.flat);
    static const uint8_t raw[] = {0x07, 0x01, 0x05, 0x01, 0x01, 0x02, 0x04, 0x92,
                                  0x21, 0x07, 0x10, 0x07, 0x23, 0x18, 0x80, 0x8b,
                                  0x8d, 0xd8, 0x0a, 0x07, 0x00, 0x05, 0x0c};
    ck_assert_uint_eq(n, sizeof raw);
    ck_assert(memcmp(f.flat, raw, sizeof raw) == 0);

    /* same size class, same address: ALLOC_REUSE without an address, and the stack is empty
     * afterwards, so the next one at that address carries it again */
    mt_enc_alloc(&f.e, MT_ALLOC_CALLOC, 17, 20, 0x5581a2c0, 9);
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 17, 20, 0x5581a2c0, 9);
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x04, 0x92, 0x21, 0x07, 0x10, 0x07, 0x23, 0x81, 0x10);
    ASSERT_STREAM(&f, MT_STREAM_ADDR, 0x80, 0x8b, 0x8d, 0xd8, 0x0a, 0x00);
    free(f.map);
}
END_TEST

/* FREE_BACK counts back over the chunk's allocations; frees of unknown blocks, realloc releases
 * and blocks after a reset carry addresses; colliding addresses survive deletions. */
START_TEST(encoder_back_references)
{
    static enc_fixture_t f;
    enc_setup(&f);
    /* Three addresses with the same home slot, found by search. */
    uint64_t same[3] = {0x1000, 0, 0};
    for (uint64_t x = 0x1010, n = 1; n < 3; x += 16)
        if (mt_enc_map_home(x) == mt_enc_map_home(same[0]))
            same[n++] = x;
    const uint64_t a = same[0], b = same[1], c = same[2];
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 5000, a, 1); /* number 0, no size class */
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 5000, b, 1); /* 1 */
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 5000, c, 1); /* 2 */
    mt_enc_free(&f.e, MT_TAG_FREE, 0, a);               /* back 2; b and c shift down */
    mt_enc_free(&f.e, MT_TAG_FREE, 0, c);               /* back 0 */
    mt_enc_free(&f.e, MT_TAG_FREE, 0, 0x9999);          /* unknown: by address */
    mt_enc_free(&f.e, MT_TAG_REALLOC_RELEASE, 0, b);    /* by address; b leaves the table */
    mt_enc_free(&f.e, MT_TAG_FREE, 0, b);               /* so this is by address too */
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 5000, b, 1); /* 3 */
    mt_enc_free(&f.e, MT_TAG_FREE, 0, b);               /* back 0 */
    mt_enc_free(&f.e, MT_TAG_FREE, 0, b);               /* taken already: by address */
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x10, 0x10, 0x10, 0x23, 0x23, 0x20, 0x21, 0x20, 0x10, 0x23,
                  0x20);
    ASSERT_STREAM(&f, MT_STREAM_BACK, 0x02, 0x00, 0x00);
    ck_assert_uint_eq(f.e.nallocs, 4);
    ck_assert_uint_eq(f.e.map_used, 0);
    mt_enc_reset(&f.e, f.buf, 256);
    mt_enc_free(&f.e, MT_TAG_FREE, 0, a);
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 16, a, 1);
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x20, 0x10);
    ck_assert(!mt_enc_full(&f.e));
    free(f.map);
}
END_TEST

/* The table holds at most MT_ENC_MAP_MAX_USED blocks: later ones are numbered but freed by
 * address; freeing makes room again. */
START_TEST(encoder_table_capacity)
{
    enum { STRIDE = 256 * 1024 };
    uint8_t *buf = malloc((size_t)STRIDE * MT_STREAMS);
    mt_enc_slot_t *map = calloc(MT_ENC_MAP_SLOTS, sizeof *map);
    ck_assert(buf && map);
    mt_enc_t e;
    memset(&e, 0, sizeof e);
    mt_enc_set_map(&e, map);
    mt_enc_reset(&e, buf, STRIDE);
    const uint32_t n = MT_ENC_MAP_MAX_USED + 10;
    for (uint32_t i = 0; i < n; i++)
        mt_enc_alloc(&e, MT_ALLOC_MALLOC, 0, 5000, 0x100000 + 16 * (uint64_t)i, 1);
    ck_assert_uint_eq(e.nallocs, n);
    ck_assert_uint_eq(e.map_used, MT_ENC_MAP_MAX_USED);
    uint8_t *tags = e.pos;
    mt_enc_free(&e, MT_TAG_FREE, 0, 0x100000 + 16 * (uint64_t)(n - 1)); /* not in the table */
    mt_enc_free(&e, MT_TAG_FREE, 0, 0x100000);                          /* number 0 */
    mt_enc_alloc(&e, MT_ALLOC_MALLOC, 0, 5000, 0x900000, 1);            /* fits again */
    mt_enc_free(&e, MT_TAG_FREE, 0, 0x900000);
    ck_assert_uint_eq(e.pos - tags, 4);
    ck_assert_uint_eq(tags[0], MT_TAG_FREE);
    ck_assert_uint_eq(tags[1], MT_TAG_FREE_BACK);
    ck_assert_uint_eq(tags[2], MT_TAG_ALLOC);
    ck_assert_uint_eq(tags[3], MT_TAG_FREE_BACK);
    free(map);
    free(buf);
}
END_TEST

/* Times: TIME only when the clock moves (by time_step_us when set), never backwards. */
START_TEST(encoder_time_steps)
{
    static enc_fixture_t f;
    enc_setup(&f);
    mt_enc_exit(&f.e, 0, MT_EXIT_NORMAL, 0);
    mt_enc_exit(&f.e, 3, MT_EXIT_NORMAL, 0);
    mt_enc_exit(&f.e, 2, MT_EXIT_NORMAL, 0);
    f.e.time_step_us = 16;
    mt_enc_exit(&f.e, 18, MT_EXIT_NORMAL, 0);
    mt_enc_exit(&f.e, 19, MT_EXIT_NORMAL, 0);
    /* 0: none; 3: +3; 2: none (never back); 18: 15 < 16, none; 19: +16 */
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x50, 0, 0, 0x07, 0x50, 0, 0, 0x50, 0, 0, 0x50, 0, 0, 0x07,
                  0x50, 0, 0);
    ASSERT_STREAM(&f, MT_STREAM_TIME, 0x03, 0x10);
    free(f.map);
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
    tcase_add_test(tc, encoder_doc_example);
    tcase_add_test(tc, encoder_back_references);
    tcase_add_test(tc, encoder_time_steps);
    tcase_add_test(tc, encoder_table_capacity);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

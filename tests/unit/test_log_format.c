// SPDX-License-Identifier: MIT
// Unit tests for the shared codec in log_format.h: varint/zigzag round trips at the edges and
// rejection of overlong or cut input (the decoder must never read past the end it is given),
// and the version 3 record encoder's exact bytes (streams, time pairs, back references, free
// runs, reuse and next predictions, trace nodes, samples).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
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

/* An encoder over nine 256-byte streams, with its tables, at the recorder's time unit. */
typedef struct enc_fixture {
    uint8_t buf[MT_STREAMS * 256];
    uint8_t flat[MT_STREAMS * 256 + MT_STREAMS * MT_VARINT_MAX];
    mt_enc_t e;
    mt_enc_tables_t *t;
} enc_fixture_t;

static void enc_setup(enc_fixture_t *f)
{
    f->t = calloc(1, sizeof *f->t);
    ck_assert_ptr_nonnull(f->t);
    mt_enc_init(&f->e, f->t, MT_TIME_UNIT_US);
    mt_enc_chunk(&f->e, f->buf, 256);
}

#define ASSERT_STREAM(f, k, ...)                                                                   \
    do {                                                                                           \
        static const uint8_t want_[] = {__VA_ARGS__};                                              \
        ck_assert_uint_eq(mt_enc_stream_len(&(f)->e, k), sizeof want_);                            \
        ck_assert(memcmp((f)->e.base[k], want_, sizeof want_) == 0);                               \
    } while (0)

#define ASSERT_EMPTY(f, k) ck_assert_uint_eq(mt_enc_stream_len(&(f)->e, k), 0)

/* The example of docs/log-format.md, byte for byte. */
START_TEST(encoder_doc_example)
{
    static enc_fixture_t f;
    enc_setup(&f);
    mt_enc_thread(&f.e, 4242);
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 5000, 24, 0x5581a2c0, 7);
    mt_enc_free(&f.e, MT_TAG_FREE, 17000, 0x5581a2c0);
    ck_assert_uint_eq(mt_enc_len(&f.e), 13 + MT_RUN_ENTRY_MAX); /* the free is held */
    size_t n = mt_enc_copy_raw(&f.e, f.flat);
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x04, 0x92, 0x21, 0x10, 0x23);
    ASSERT_STREAM(&f, MT_STREAM_SIZE, 0x19); /* size 24 + 1: node 7 allocated nothing yet */
    ASSERT_STREAM(&f, MT_STREAM_ADDR, 0x80, 0x8b, 0x8d, 0xd8, 0x0a);
    ASSERT_STREAM(&f, MT_STREAM_NODE, 0x09); /* node 7 + 2: no node followed the root yet */
    ASSERT_STREAM(&f, MT_STREAM_BACK, 0x00);
    ASSERT_STREAM(&f, MT_STREAM_TIME, 0x00, 0x05, 0x01, 0x0c, 0x01, 0x00);
    static const uint8_t raw[] = {0x05, 0x01, 0x05, 0x01, 0x01, 0x06, 0x00, 0x00, 0x00, 0x04,
                                  0x92, 0x21, 0x10, 0x23, 0x19, 0x80, 0x8b, 0x8d, 0xd8, 0x0a,
                                  0x09, 0x00, 0x00, 0x05, 0x01, 0x0c, 0x01, 0x00};
    ck_assert_uint_eq(n, sizeof raw);
    ck_assert(memcmp(f.flat, raw, sizeof raw) == 0);

    /* A new chunk, the model carries over: the same size class and address is ALLOC_REUSE
     * (no address); the block right after the first one is ALLOC_NEXT (no address either);
     * the stack is empty now, but allocation 0 had that address: ALLOC_PREV names it (version
     * 9), zigzag(0 - (0 + 1)) in R. */
    mt_enc_chunk(&f.e, f.buf, 256);
    mt_enc_alloc(&f.e, MT_ALLOC_CALLOC, 17000, 20, 0x5581a2c0, 9);
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 17000, 40, 0x5581a2e0, 9);
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 17000, 20, 0x5581a2c0, 9);
    mt_enc_close(&f.e);
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x81, 0x90, 0xb0);
    /* sizes + 1 (node 9 allocated 20, then 40, then 20 again), node 9 + 2 after node 7 and
     * after node 9 the first time, then 0: the node that followed node 9 last time */
    ASSERT_STREAM(&f, MT_STREAM_SIZE, 0x15, 0x29, 0x15);
    ASSERT_EMPTY(&f, MT_STREAM_ADDR);
    ASSERT_STREAM(&f, MT_STREAM_RUN, 0x01);
    ASSERT_STREAM(&f, MT_STREAM_NODE, 0x0b, 0x0b, 0x00);
    ASSERT_STREAM(&f, MT_STREAM_TIME, 0x03, 0x00);
    free(f.t);
}
END_TEST

/* Frees of recent blocks go back by number, in their order when they are few; unknown blocks
 * and realloc failures carry addresses; colliding addresses survive deletions. */
START_TEST(encoder_back_references)
{
    static enc_fixture_t f;
    enc_setup(&f);
    /* Three addresses with the same home slot, found by search. */
    uint64_t same[3] = {0x1000, 0, 0};
    for (uint64_t x = 0x1010, n = 1; n < 3; x += 16)
        if (mt_enc_index_home(x) == mt_enc_index_home(same[0]))
            same[n++] = x;
    const uint64_t a = same[0], b = same[1], c = same[2];
    ck_assert_uint_ne(b, a + mt_chunk_span(5000));      /* so that b is no ALLOC_NEXT */
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 5000, a, 1); /* number 0, no size class */
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 5000, b, 1); /* 1 */
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 5000, c, 1); /* 2 */
    mt_enc_free(&f.e, MT_TAG_FREE, 0, a);               /* back 2; b and c shift down */
    mt_enc_free(&f.e, MT_TAG_FREE, 0, c);               /* back 0 */
    mt_enc_free(&f.e, MT_TAG_FREE, 0, 0x9999);          /* unknown: by address */
    mt_enc_free(&f.e, MT_TAG_REALLOC_RELEASE, 0, b);    /* ends the run; back 1 */
    mt_enc_free(&f.e, MT_TAG_REALLOC_FAILED, 0, b);     /* always by address */
    mt_enc_free(&f.e, MT_TAG_FREE, 0, b);               /* left the table: by address */
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 5000, b, 1); /* 3: ALLOC_PREV, b was number 1 */
    mt_enc_free(&f.e, MT_TAG_FREE, 0, b);               /* back 0 */
    mt_enc_free(&f.e, MT_TAG_FREE, 0, b);               /* taken already: by address */
    mt_enc_close(&f.e);
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x10, 0x10, 0x10, 0x23, 0x23, 0x20, 0x24, 0x22, 0x20, 0xb0,
                  0x23, 0x20);
    ASSERT_STREAM(&f, MT_STREAM_BACK, 0x02, 0x00, 0x01, 0x00);
    ASSERT_STREAM(&f, MT_STREAM_RUN, 0x00); /* number 1 = 0 + 1 + unzigzag(0) */
    ck_assert_uint_eq(f.e.nallocs, 4);
    for (size_t i = 0; i < 2 * MT_BACK_WINDOW; i++)
        ck_assert_uint_eq(f.t->index[i], 0); /* nothing live is left in the table */
    free(f.t);
}
END_TEST

/* Version 10: ALLOC_PREV counts from the last one of the new allocation's own size class;
 * version 9 from the last one of any. Blocks of two classes freed, then allocated again in
 * turns: each class's numbers go up by one, the file's jump between the classes. */
static void prev_class_turns(enc_fixture_t *f, unsigned version)
{
    enc_setup(f);
    mt_enc_version(&f->e, version);
    f->e.rep_off = 1;
    for (uint64_t i = 0; i < 4; i++) /* A: numbers 0..3, no size class (no reuse stack) */
        mt_enc_alloc(&f->e, MT_ALLOC_MALLOC, 0, 5000, 0x100000 + 0x10000 * i, 1);
    for (uint64_t i = 0; i < 20; i++) /* B: numbers 4..23, class 250 */
        mt_enc_alloc(&f->e, MT_ALLOC_MALLOC, 0, 4000, 0x800000 + 0x10000 * i, 1);
    /* all freed at once: the run pushes B newest first, so class 250's 16-deep stack keeps
     * B0..B15 and B16..B19 fell off it */
    for (uint64_t i = 0; i < 4; i++)
        mt_enc_free(&f->e, MT_TAG_FREE, 0, 0x100000 + 0x10000 * i);
    for (uint64_t i = 0; i < 20; i++)
        mt_enc_free(&f->e, MT_TAG_FREE, 0, 0x800000 + 0x10000 * i);
    for (uint64_t i = 0; i < 4; i++) { /* A0, B16, A1, B17, ...: all ALLOC_PREV */
        mt_enc_alloc(&f->e, MT_ALLOC_MALLOC, 0, 5000, 0x100000 + 0x10000 * i, 1);
        mt_enc_alloc(&f->e, MT_ALLOC_MALLOC, 0, 4000, 0x800000 + 0x10000 * (16 + i), 1);
    }
    mt_enc_close(&f->e);
}

START_TEST(encoder_prev_class_bases)
{
    static enc_fixture_t f, g;
    prev_class_turns(&f, 10);
    /* A0: number 0, zigzag(0 - (0 + 1)); B16: 20 - (0 + 1) = 19; then every one the number
     * after its class's last: 0 */
    ASSERT_STREAM(&f, MT_STREAM_RUN, 0x01, 0x26, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
    prev_class_turns(&g, 9);
    /* one base for both: A1 is 1 - (20 + 1) = -20, B17 21 - (1 + 1) = 19, ... */
    ASSERT_STREAM(&g, MT_STREAM_RUN, 0x01, 0x26, 0x27, 0x26, 0x27, 0x26, 0x27, 0x26);
    /* everything else is the same */
    for (int k = 0; k < MT_STREAMS; k++)
        if (k != MT_STREAM_RUN) {
            ck_assert_uint_eq(mt_enc_stream_len(&f.e, k), mt_enc_stream_len(&g.e, k));
            ck_assert(memcmp(f.e.base[k], g.e.base[k], mt_enc_stream_len(&f.e, k)) == 0);
        }
    ck_assert_uint_eq(f.e.pos[-1], MT_TAG_ALLOC_PREV | MT_ALLOC_MALLOC);
    free(f.t);
    free(g.t);
}
END_TEST

/* Back references reach MT_BACK_WINDOW allocations back; older blocks go by address. */
START_TEST(encoder_back_window)
{
    enum { STRIDE = 1024 * 1024 };
    uint8_t *buf = malloc((size_t)STRIDE * MT_STREAMS);
    mt_enc_tables_t *t = calloc(1, sizeof *t);
    ck_assert(buf && t);
    mt_enc_t e;
    mt_enc_init(&e, t, 1);
    mt_enc_chunk(&e, buf, STRIDE);
    const uint64_t n = MT_BACK_WINDOW + 10;
    for (uint64_t i = 0; i < n; i++)
        mt_enc_alloc(&e, MT_ALLOC_MALLOC, 0, 5000, 0x100000 + 0x10000 * i, 1);
    ck_assert_uint_eq(e.nallocs, n);
    mt_enc_rep_end(&e); /* the allocations repeat each other: one REPEAT, written here */
    uint8_t *tags = e.pos, *backs = e.s[MT_STREAM_BACK];
    mt_enc_free(&e, MT_TAG_FREE, 0, 0x100000 + 0x10000 * 9);       /* left the window */
    mt_enc_free(&e, MT_TAG_FREE, 0, 0x100000 + 0x10000 * 10);      /* the oldest still in it */
    mt_enc_free(&e, MT_TAG_FREE, 0, 0x100000 + 0x10000 * (n - 1)); /* the newest */
    mt_enc_close(&e);
    ck_assert_uint_eq(e.pos - tags, 3);
    ck_assert_uint_eq(tags[0], MT_TAG_FREE);
    ck_assert_uint_eq(tags[1], MT_TAG_FREE_BACK);
    ck_assert_uint_eq(tags[2], MT_TAG_FREE_BACK);
    const uint8_t *p = backs;
    uint64_t v;
    ck_assert_int_eq(mt_varint_get(&p, e.s[MT_STREAM_BACK], &v), 0);
    ck_assert_uint_eq(v, MT_BACK_WINDOW - 1);
    ck_assert_int_eq(mt_varint_get(&p, e.s[MT_STREAM_BACK], &v), 0);
    ck_assert_uint_eq(v, 0);
    free(t);
    free(buf);
}
END_TEST

/* Four or more frees in a row: the first on its own, the others one FREE_RUN, back references
 * sorted, then addresses sorted; the reuse stacks take the blocks in that order. */
START_TEST(encoder_free_run)
{
    static enc_fixture_t f;
    enc_setup(&f);
    for (uint64_t i = 0; i < 4; i++) /* numbers 0..3, 48 bytes apart, size class 3 */
        mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 24, 0x1000 + 48 * i, 1);
    mt_enc_close(&f.e);
    mt_enc_chunk(&f.e, f.buf, 256);
    mt_enc_free(&f.e, MT_TAG_FREE, 1000, 0x1000 + 48 * 2);             /* back 1 */
    mt_enc_free(&f.e, MT_TAG_FREE, 1000, 0x9000);                      /* unknown */
    mt_enc_free(&f.e, MT_TAG_FREE, 1500, 0x1000);                      /* back 3 */
    mt_enc_free(&f.e, MT_TAG_FREE, 2000, 0x8000);                      /* unknown */
    mt_enc_free(&f.e, MT_TAG_FREE, 2000, 0x1000 + 48 * 3);             /* back 0 */
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 3000, 20, 0x1000 + 48 * 3, 1); /* at depth 1 */
    mt_enc_close(&f.e);
    /* the run keeps its first free's time (1 ms), the allocation is at 3 ms */
    /* two addresses, 16-byte aligned: na = 2 << 1 | 1 */
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x23, 0x25, 0x02, 0x05, 0xa0);
    /* back 1 first, then backs 0, 3 pushed in that order: block 3 is at depth 1 then */
    ASSERT_STREAM(&f, MT_STREAM_BACK, 0x01, 0x00, 0x02, 0x00);
    /* zigzag(0x8000 - 0x1090), the last explicit address; then (0x9000 - 0x8000) >> 4 */
    ASSERT_STREAM(&f, MT_STREAM_RUN, 0xe0, 0xbd, 0x03, 0x80, 0x02);
    ASSERT_STREAM(&f, MT_STREAM_TIME, 0x00, 0x01, 0x02, 0x02, 0x01, 0x00);
    ASSERT_EMPTY(&f, MT_STREAM_ADDR);
    free(f.t);
}
END_TEST

/* A run ends when the clock moved MT_RUN_SPAN_US since its first free. */
START_TEST(encoder_free_run_span)
{
    static enc_fixture_t f;
    enc_setup(&f);
    for (uint64_t i = 0; i < 6; i++)
        mt_enc_free(&f.e, MT_TAG_FREE, i * (MT_RUN_SPAN_US / 4), 0x1000 + 16 * i);
    mt_enc_close(&f.e);
    /* the first four fit in the span: a run; the fifth starts another, with the sixth */
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x20, 0x25, 0x00, 0x07, 0x20, 0x20);
    free(f.t);
}
END_TEST

/* mt_enc_len counts the held frees at no less than they take when written: the recorder's
 * buffers rely on it. Random 47-bit addresses (gaps of 5 to 7 bytes), unaligned and aligned,
 * and dense ones, with back references and held samples. */
START_TEST(encoder_run_bound)
{
    enum { N = 60000, CAP = 1 << 20 };
    uint8_t *buf = malloc((size_t)CAP * MT_STREAMS);
    mt_enc_tables_t *t = calloc(1, sizeof *t);
    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(t);
    uint64_t rng = 7;
    for (int pass = 0; pass < 4; pass++) {
        mt_enc_t e;
        mt_enc_init(&e, t, MT_TIME_UNIT_US);
        mt_enc_chunk(&e, buf, CAP);
        for (uint64_t i = 0; i < 1000; i++) /* back references for pass 3 */
            mt_enc_alloc(&e, MT_ALLOC_MALLOC, 0, 24, 0x10000 + 32 * i, 1);
        mt_enc_close(&e);
        mt_enc_chunk(&e, buf, CAP);
        for (uint64_t i = 0; i < N; i++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t a = pass == 0   ? rng >> 17
                         : pass == 1 ? (rng >> 17) & ~15ull
                                     : 0x7f0000000000ull + 48 * i;
            if (pass == 3 && i < 1000)
                a = 0x10000 + 32 * i;
            mt_enc_free(&e, MT_TAG_FREE, 5, a);
            if (i % 10000 == 0) {
                mt_sample_t smp = {.rss = rng, .arena = ~rng, .hblkhd = rng >> 3};
                mt_enc_sample_tick(&e, 5 + i, &smp);
            }
        }
        size_t bound = mt_enc_len(&e);
        mt_enc_close(&e);
        size_t n = 0;
        for (int k = 0; k < MT_STREAMS; k++)
            n += mt_enc_stream_len(&e, k);
        ck_assert_msg(n <= bound, "pass %d: %zu bytes written, %zu counted", pass, n, bound);
        if (pass == 2) /* dense and aligned: about a byte a free, as written */
            ck_assert_msg(bound <= n + n / 8, "%zu bytes written, %zu counted", n, bound);
        memset(t, 0, sizeof *t);
    }
    free(t);
    free(buf);
}
END_TEST

/* Trace nodes: ids implicit when they follow each other, parents as differences, ips
 * predicted from the parent's. */
START_TEST(encoder_trace_nodes)
{
    static enc_fixture_t f;
    enc_setup(&f);
    mt_enc_trace_node(&f.e, 1, 0, 0x400100); /* root child: context 0 */
    mt_enc_trace_node(&f.e, 2, 1, 0x400200); /* context 0x400100 */
    mt_enc_trace_node(&f.e, 3, 2, 0x400100); /* context 0x400200 */
    mt_enc_trace_node(&f.e, 4, 3, 0x400200); /* 0x400100 -> 0x400200 again: predicted */
    mt_enc_trace_node(&f.e, 9, 1, 0x400200); /* explicit id; predicted too */
    mt_enc_trace_node(&f.e, 10, 9, 0x400300);
    mt_enc_close(&f.e);
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x05, 0x05, 0x05, 0x05, 0x0a, 0x09, 0x05);
    ASSERT_STREAM(&f, MT_STREAM_PARENT, 0x02, 0x02, 0x02, 0x02, 0x10, 0x02);
    /* 2 + zigzag(0x400100) = 0x800202; 2 + zigzag(0x100) = 0x202; 2 + zigzag(-0x100) = 0x201;
     * then 0, 0, and 2 + zigzag(0x100) */
    ASSERT_STREAM(&f, MT_STREAM_IP, 0x82, 0x84, 0x80, 0x04, 0x82, 0x04, 0x81, 0x04, 0x00, 0x00,
                  0x82, 0x04);
    free(f.t);
}
END_TEST

/* Times: T pairs (records at the clock, advance), in units, never backwards. */
START_TEST(encoder_time_steps)
{
    static enc_fixture_t f;
    enc_setup(&f);
    mt_enc_exit(&f.e, 0, MT_EXIT_NORMAL, 0);
    mt_enc_exit(&f.e, 3000, MT_EXIT_NORMAL, 0);
    mt_enc_exit(&f.e, 2000, MT_EXIT_NORMAL, 0);
    mt_enc_exit(&f.e, 18999, MT_EXIT_NORMAL, 0);
    mt_enc_exit(&f.e, 19000, MT_EXIT_NORMAL, 0);
    mt_enc_close(&f.e);
    /* 0 ms: at 0; 3: +3; 2: stays (never back); 18.999: +15; 19: +1; the chunk's end */
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x50, 0, 0, 0x50, 0, 0, 0x50, 0, 0, 0x50, 0, 0, 0x50, 0, 0);
    ASSERT_STREAM(&f, MT_STREAM_TIME, 0x01, 0x03, 0x02, 0x0f, 0x01, 0x01, 0x01, 0x00);
    free(f.t);
}
END_TEST

/* Samples: only the fields that changed, as differences; a tick that changed nothing is
 * recognised. */
START_TEST(encoder_samples)
{
    static enc_fixture_t f;
    enc_setup(&f);
    mt_sample_t s = {.rss = 8192, .arena = 135168, .uordblks = 100};
    ck_assert(!mt_enc_sample_same(&f.e, &s));
    mt_enc_sample(&f.e, 0, &s);
    ck_assert(mt_enc_sample_same(&f.e, &s));
    s.uordblks = 40;
    mt_enc_sample(&f.e, 0, &s);
    mt_enc_sample(&f.e, 0, &s);
    mt_enc_close(&f.e);
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x40, 0x23, 0x80, 0x80, 0x01, 0x80, 0xc0, 0x10, 0xc8, 0x01,
                  0x40, 0x20, 0x77, 0x40, 0x00);
    free(f.t);
}
END_TEST

START_TEST(sort_u64)
{
    uint64_t a[300];
    for (size_t n = 0; n < 300; n += 37) {
        for (size_t i = 0; i < n; i++)
            a[i] = (i * 7919) % 113; /* duplicates too */
        mt_sort_u64(a, n);
        for (size_t i = 1; i < n; i++)
            ck_assert_uint_le(a[i - 1], a[i]);
    }
}
END_TEST

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* The radix sort of free runs gives what qsort gives: sizes on both sides of the heapsort
 * cut, spans of one byte to the whole 64 bits, duplicates, keys already in order. */
START_TEST(sort_run_radix)
{
    enum { N = 5000 };
    uint64_t *a = malloc(N * sizeof *a), *want = malloc(N * sizeof *a), *tmp = malloc(N * 8);
    static const uint64_t spans[] = {1, 255, 256, 65536, 1ull << 24, 1ull << 40, 0};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t s = 0; s < sizeof spans / sizeof spans[0]; s++) {
        for (size_t n = 0; n <= N; n = n < 70 ? n + 7 : n * 3 + 1) {
            for (size_t i = 0; i < n; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                a[i] = 0x7f0000000000ull + (spans[s] ? x % spans[s] : x);
            }
            if (s == 3 && n > 2)
                a[n / 2] = a[0]; /* a duplicate */
            memcpy(want, a, n * sizeof *a);
            qsort(want, n, sizeof *want, cmp_u64);
            mt_sort_run(a, tmp, n);
            ck_assert_mem_eq(a, want, n * sizeof *a);
            mt_sort_run(a, tmp, n); /* sorted input stays */
            ck_assert_mem_eq(a, want, n * sizeof *a);
        }
    }
    free(a);
    free(want);
    free(tmp);
}
END_TEST

/*
 * REPEAT, byte by byte: a loop that allocates 24 bytes and frees them, 10 times. Its records
 * are ALLOC, FREE_BACK 0, then (ALLOC_REUSE, FREE_BACK 0) again and again. The pair of
 * records 2 and 3 comes back as records 6 and 7 (pairs are looked up at every fourth record):
 * distance 4, so from record 8 on every record is the one 4 back, and records 8 to 19 are one
 * REPEAT. The streams keep records 0 to 7 only, and the clock counts all 20.
 */
START_TEST(encoder_repeat)
{
    static enc_fixture_t f;
    enc_setup(&f);
    mt_enc_version(&f.e, 6); /* the bytes of docs/log-format.md (version 7: encoder_site_codes) */
    for (int i = 0; i < 10; i++) {
        mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 24, 0x1000, 1);
        mt_enc_free(&f.e, MT_TAG_FREE, 0, 0x1000);
    }
    mt_enc_close(&f.e);
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x10, 0x23, 0x80, 0x23, 0x80, 0x23, 0x80, 0x23, 0x27, 0x04,
                  0x0c);
    ASSERT_STREAM(&f, MT_STREAM_SIZE, 0x18, 0x18, 0x18, 0x18);
    ASSERT_STREAM(&f, MT_STREAM_ADDR, 0x80, 0x40);
    ASSERT_STREAM(&f, MT_STREAM_NODE, 0x01, 0x01, 0x01, 0x01);
    ASSERT_STREAM(&f, MT_STREAM_BACK, 0x00, 0x00, 0x00, 0x00);
    ASSERT_STREAM(&f, MT_STREAM_TIME, 0x14, 0x00);
    ck_assert_uint_eq(f.e.rep_n, 0); /* the next chunk starts with no history */

    /* Without repeats (MEMTRACE_LOG_REPEAT=0), the same loop is 20 records. */
    static enc_fixture_t g;
    enc_setup(&g);
    mt_enc_version(&g.e, 6);
    g.e.rep_off = 1;
    for (int i = 0; i < 10; i++) {
        mt_enc_alloc(&g.e, MT_ALLOC_MALLOC, 0, 24, 0x1000, 1);
        mt_enc_free(&g.e, MT_TAG_FREE, 0, 0x1000);
    }
    mt_enc_close(&g.e);
    ck_assert_uint_eq(mt_enc_stream_len(&g.e, MT_STREAM_MAIN), 20);
    ck_assert_uint_eq(mt_enc_stream_len(&g.e, MT_STREAM_BACK), 10);
    free(f.t);
    free(g.t);
}
END_TEST

/* A match that ends at a record unlike the one before it: the REPEAT goes before that record,
 * whose fields stay in their streams; a short match stays as its records. */
START_TEST(encoder_repeat_cut)
{
    static enc_fixture_t f;
    enc_setup(&f);
    mt_enc_version(&f.e, 6); /* version 7 needs a turn more to repeat: encoder_site_codes */
    for (int i = 0; i < 6; i++) {
        mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 24, 0x1000, 1);
        mt_enc_free(&f.e, MT_TAG_FREE, 0, 0x1000);
    }
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 24, 0x1000, 2); /* another stack: the match ends */
    mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, 24, 0x1020, 1); /* next: no match begins */
    mt_enc_close(&f.e);
    ASSERT_STREAM(&f, MT_STREAM_MAIN, 0x10, 0x23, 0x80, 0x23, 0x80, 0x23, 0x80, 0x23, 0x27, 0x04,
                  0x04, 0x80, 0x90);
    ASSERT_STREAM(&f, MT_STREAM_SIZE, 0x18, 0x18, 0x18, 0x18, 0x18, 0x18);
    ASSERT_STREAM(&f, MT_STREAM_ADDR, 0x80, 0x40);
    ASSERT_STREAM(&f, MT_STREAM_NODE, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01);
    ASSERT_STREAM(&f, MT_STREAM_TIME, 0x0e, 0x00);
    free(f.t);
}
END_TEST

/*
 * Version 7's site codes, byte by byte. Node 5 allocates 24 bytes, then node 6 48 bytes, then
 * node 5 again, 24 bytes, then node 7 and node 5 again. Each node code is 0 or 1 when the node
 * followed the previous allocation's node before (the most recent such node first), else the
 * node + 2; each size code is 0 when the node allocated that size last time, else the size + 1.
 * The loop of encoder_repeat (malloc(24) and free, 10 times) then repeats from its third turn:
 * its first two turns' codes differ (node 1 had never followed node 1 yet).
 */
START_TEST(encoder_site_codes)
{
    static enc_fixture_t f;
    enc_setup(&f);
    f.e.rep_off = 1;
    static const struct {
        uint32_t node;
        uint64_t size;
    } a[] = {{5, 24}, {6, 48}, {5, 24}, {6, 48}, {5, 40}, {7, 24}, {5, 40}, {6, 48}, {5, 24}};
    for (unsigned i = 0; i < sizeof a / sizeof a[0]; i++)
        mt_enc_alloc(&f.e, MT_ALLOC_MALLOC, 0, a[i].size, 0x10000 + 0x1000 * i, a[i].node);
    mt_enc_close(&f.e);
    /* after 5: 6 new; after 6: 5 new; after 5: 6 (0); after 6: 5 (0), 40 not 5's last size;
     * after 5: 7 new, 6 moves to second; after 7: 5 new; after 5: 6 is second (1); after 6:
     * 5 (0) */
    ASSERT_STREAM(&f, MT_STREAM_NODE, 0x07, 0x08, 0x07, 0x00, 0x00, 0x09, 0x07, 0x01, 0x00);
    ASSERT_STREAM(&f, MT_STREAM_SIZE, 0x19, 0x31, 0x00, 0x00, 0x29, 0x19, 0x00, 0x00, 0x19);
    free(f.t);

    static enc_fixture_t g;
    enc_setup(&g);
    for (int i = 0; i < 10; i++) {
        mt_enc_alloc(&g.e, MT_ALLOC_MALLOC, 0, 24, 0x1000, 1);
        mt_enc_free(&g.e, MT_TAG_FREE, 0, 0x1000);
    }
    mt_enc_close(&g.e);
    ASSERT_STREAM(&g, MT_STREAM_MAIN, 0x10, 0x23, 0x80, 0x23, 0x80, 0x23, 0x80, 0x23, 0x80, 0x23,
                  0x80, 0x23, 0x27, 0x04, 0x08);
    ASSERT_STREAM(&g, MT_STREAM_SIZE, 0x19, 0x00, 0x00, 0x00, 0x00, 0x00);
    ASSERT_STREAM(&g, MT_STREAM_NODE, 0x03, 0x03, 0x00, 0x00, 0x00, 0x00);
    ASSERT_STREAM(&g, MT_STREAM_TIME, 0x14, 0x00);
    free(g.t);
}
END_TEST

/* The codes' edges: the largest node id, and a size no code but 0 could say. */
START_TEST(site_code_edges)
{
    mt_site_model_t *m = calloc(1, sizeof *m);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(mt_site_node_code(m, UINT32_MAX), (uint64_t)UINT32_MAX + 2);
    uint32_t node = 0;
    ck_assert_int_eq(mt_site_node_decode(m, (uint64_t)UINT32_MAX + 2, &node), 0);
    ck_assert_uint_eq(node, UINT32_MAX);
    ck_assert_int_eq(mt_site_node_decode(m, (uint64_t)UINT32_MAX + 3, &node), -1);
    ck_assert_int_eq(mt_site_node_decode(m, UINT64_MAX, &node), -1);
    /* node 3 and node 3 + 2^16 share a slot: each one's size is its own only while it holds it */
    mt_site_learn(m, 3, 100);
    ck_assert_uint_eq(mt_site_size_code(m, 3, 100), 0);
    ck_assert_uint_eq(mt_site_size_code(m, 3 + MT_SITE_SLOTS, 100), 101);
    mt_site_learn(m, 3 + MT_SITE_SLOTS, 100);
    ck_assert_uint_eq(mt_site_size_code(m, 3, 100), 101);
    free(m);

    /* memtrace_alloc(p, SIZE_MAX): the one size with no code of its own is written one less */
    static enc_fixture_t f;
    enc_setup(&f);
    mt_enc_alloc(&f.e, MT_ALLOC_CUSTOM, 0, UINT64_MAX, 0x1000, 1);
    mt_enc_close(&f.e);
    static const uint8_t want[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    ck_assert_uint_eq(mt_enc_stream_len(&f.e, MT_STREAM_SIZE), sizeof want);
    ck_assert_mem_eq(f.e.base[MT_STREAM_SIZE], want, sizeof want);
    free(f.t);
}
END_TEST

MT_SUITE(.name = "log_format", .tcase = "varint",
         .tests = MT_TESTS(varint_round_trip, varint_sizes, varint_overlong_rejected,
                           zigzag_round_trip, fixed_width_helpers, encoder_doc_example,
                           encoder_back_references, encoder_prev_class_bases, encoder_back_window,
                           encoder_free_run, encoder_free_run_span, encoder_run_bound,
                           encoder_trace_nodes, encoder_time_steps, encoder_samples, encoder_repeat,
                           encoder_repeat_cut, encoder_site_codes, site_code_edges, sort_u64,
                           sort_run_radix));

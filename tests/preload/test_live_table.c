// SPDX-License-Identifier: MIT
// The leak check's block table (preload/record/live_table.c), sharded with a lock per shard:
// threads adding and removing blocks at once, each other's too, leave exactly the blocks that
// are live, with their sizes and nodes; a table grown under contention loses none.
#include <check.h>

#include "check_main.h"
#include <pthread.h>
#include <stdlib.h>

#include "record/live_table.h"

#define LT_THREADS 4
#define LT_BLOCKS 50000 /* per thread: the shards grow several times */

static void *lt_run(void *arg)
{
    uintptr_t base = (uintptr_t)arg << 32;
    for (uint32_t i = 0; i < LT_BLOCKS; i++)
        mt_live_add(base + (uintptr_t)i * 16, i + 1, i);
    /* every other block goes again */
    uint32_t node;
    for (uint32_t i = 0; i < LT_BLOCKS; i += 2)
        if (mt_live_remove(base + (uintptr_t)i * 16, &node) != i + 1 || node != i)
            return (void *)1;
    return NULL;
}

typedef struct lt_sum {
    size_t n;
    uint64_t bytes;
    int bad;
} lt_sum_t;

static void lt_each(uintptr_t addr, uint64_t size, uint32_t node, void *ctx)
{
    lt_sum_t *s = ctx;
    uint32_t i = (uint32_t)((addr & 0xffffffffu) / 16);
    s->n++;
    s->bytes += size;
    s->bad += i % 2 == 0 || size != i + 1 || node != i;
}

START_TEST(threads_keep_exact_blocks)
{
    ck_assert_int_eq(mt_live_init(), 0);
    pthread_t t[LT_THREADS];
    for (uintptr_t k = 0; k < LT_THREADS; k++)
        ck_assert_int_eq(pthread_create(&t[k], NULL, lt_run, (void *)(k + 1)), 0);
    for (int k = 0; k < LT_THREADS; k++) {
        void *rc;
        pthread_join(t[k], &rc);
        ck_assert_ptr_null(rc);
    }
    ck_assert(mt_live_ok());
    mt_live_lock_all();
    size_t n = mt_live_count();
    mt_live_unlock_all();
    ck_assert_uint_eq(n, (size_t)LT_THREADS * LT_BLOCKS / 2);
    lt_sum_t s = {0};
    mt_live_each(lt_each, &s);
    ck_assert_uint_eq(s.n, n);
    ck_assert_int_eq(s.bad, 0);
    /* the odd i: sizes 2, 4, ..., LT_BLOCKS per thread */
    uint64_t per = (uint64_t)(LT_BLOCKS / 2) * (LT_BLOCKS / 2 + 1);
    ck_assert_uint_eq(s.bytes, per * LT_THREADS);
    uint32_t node;
    ck_assert_uint_eq(mt_live_remove((uintptr_t)1 << 32, &node), 0); /* removed already */
}
END_TEST

MT_SUITE(.name = "live_table", .tests = MT_TESTS(threads_keep_exact_blocks));

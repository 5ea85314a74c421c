// SPDX-License-Identifier: MIT
// Unit tests of the module table (modules.h): an address resolves to the module loaded there,
// a module loaded again is one module, and lookups agree with a brute-force search.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "module_record.h"
#include "modules.h"
#include "nodes.h"

START_TEST(module_lookup)
{
    mt_modules_t *m;
    ck_assert_int_eq(mt_modules_new(&m), 0);
    ck_assert_int_eq(load(m, 1, 0x400000, "/bin/app"), 0);
    ck_assert_int_eq(load(m, 2, 0x7f0000000000, "/lib/libc.so.6"), 0);
    ck_assert_int_eq(load(m, 2, 0x1000, "/again"), -EEXIST);
    ck_assert_uint_eq(mt_modules_find(m, 0x400000), 0);
    ck_assert_uint_eq(mt_modules_find(m, 0x400fff), 0);
    ck_assert_uint_eq(mt_modules_find(m, 0x401000), MT_NO_MODULE); /* gap between segments */
    ck_assert_uint_eq(mt_modules_find(m, 0x4037ff), 0);
    ck_assert_uint_eq(mt_modules_find(m, 0x403800), MT_NO_MODULE);
    ck_assert_uint_eq(mt_modules_find(m, 0x7f0000000010), 1);
    ck_assert_uint_eq(mt_modules_find(m, 0x3fffff), MT_NO_MODULE);
    ck_assert_str_eq(mt_modules_get(m, 1)->basename, "libc.so.6");
    ck_assert_uint_eq(mt_modules_get(m, 1)->build_id_len, 2);
    ck_assert_int_eq(mt_modules_unload(m, 2), 0);
    ck_assert_int_eq(mt_modules_unload(m, 2), -ENOENT);
    ck_assert_int_eq(mt_modules_unload(m, 99), -ENOENT);
    ck_assert_uint_eq(mt_modules_find(m, 0x7f0000000010), MT_NO_MODULE);
    ck_assert_uint_eq(mt_modules_count(m), 2);
    mt_modules_free(m);
}
END_TEST

static int load_bid(mt_modules_t *m, uint64_t id, uint64_t bias, const char *path, const char *bid)
{
    static const mt_segment_t segs[2] = {{0, 0x1000, 5}, {0x3000, 0x800, 6}};
    mt_record_t rec;
    memset(&rec, 0, sizeof rec);
    rec.id = id;
    rec.ip = bias;
    rec.str = (mt_str_t){path, strlen(path)};
    rec.build_id = (mt_str_t){bid, strlen(bid)};
    rec.segs = segs;
    rec.nsegs = 2;
    return mt_modules_load(m, &rec);
}

/* A library loaded again from the same file (path, build-id, segments), at the same address or
 * another, is the first load for reports: its nodes name the first load's index. */
START_TEST(module_reload_is_one_module)
{
    mt_modules_t *m;
    mt_nodes_t t;
    ck_assert_int_eq(mt_modules_new(&m), 0);
    ck_assert_int_eq(mt_nodes_init(&t), 0);
    ck_assert_int_eq(load_bid(m, 1, 0x7f0000000000, "/lib/a.so", "\x01\x02"), 0);
    ck_assert_int_eq(mt_nodes_define(&t, m, 1, 0, 0x7f0000000123), 0);
    ck_assert_int_eq(mt_modules_unload(m, 1), 0);
    ck_assert_int_eq(load_bid(m, 2, 0x7f1000000000, "/lib/a.so", "\x01\x02"), 0);
    ck_assert_int_eq(mt_nodes_define(&t, m, 2, 0, 0x7f1000000123), 0);
    ck_assert_int_eq(load_bid(m, 3, 0x7f2000000000, "/lib/a.so", "\x01\x03"), 0); /* rebuilt */
    ck_assert_int_eq(load_bid(m, 4, 0x7f3000000000, "/lib/b.so", "\x01\x02"), 0);
    ck_assert_uint_eq(mt_modules_get(m, 0)->canonical, 0);
    ck_assert_uint_eq(mt_modules_get(m, 1)->canonical, 0);
    ck_assert_uint_eq(mt_modules_get(m, 2)->canonical, 2);
    ck_assert_uint_eq(mt_modules_get(m, 3)->canonical, 3);
    ck_assert_uint_eq(mt_modules_find(m, 0x7f1000000123), 1); /* the instance loaded now */
    ck_assert_uint_eq(mt_nodes_loc(&t, 1)->module, 0);
    ck_assert_uint_eq(mt_nodes_loc(&t, 2)->module, 0);
    ck_assert_uint_eq(mt_nodes_loc(&t, 1)->rel, 0x123);
    ck_assert_uint_eq(mt_nodes_loc(&t, 2)->rel, 0x123);
    mt_nodes_destroy(&t);
    mt_modules_free(m);
}
END_TEST

/* The range index against a brute-force search, over thousands of loads and unloads where
 * dead ranges overlap live ones (a library unloaded, another loaded over it, half a slot
 * off). */
START_TEST(module_lookup_matches_brute_force)
{
    enum { SLOTS = 512, OPS = 6000 };
    mt_modules_t *m;
    ck_assert_int_eq(mt_modules_new(&m), 0);
    static uint32_t owner[SLOTS + 1]; /* module index + 1 holding the slot, 0 = free */
    static uint64_t bias_of[OPS];
    static int live[OPS];
    memset(owner, 0, sizeof owner);
    unsigned seed = 12345;
    uint32_t n = 0;
    for (int op = 0; op < OPS; op++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t k = (seed >> 8) % SLOTS, half = (seed >> 20) & 1;
        if (owner[k] && live[owner[k] - 1]) {
            uint32_t idx = owner[k] - 1;
            ck_assert_int_eq(mt_modules_unload(m, 100 + idx), 0);
            live[idx] = 0;
            for (uint32_t j = 0; j <= SLOTS; j++)
                if (owner[j] == idx + 1)
                    owner[j] = 0;
        } else if (!owner[k] && !(half && owner[k + 1]) && k + half < SLOTS) {
            uint64_t bias = 0x10000000ull + (uint64_t)k * 0x4000 + half * 0x2000;
            ck_assert_int_eq(load_bid(m, 100 + n, bias, "/lib/x.so", "\x07"), 0);
            bias_of[n] = bias;
            live[n] = 1;
            owner[k] = n + 1;
            if (half)
                owner[k + 1] = n + 1;
            n++;
        }
        for (int q = 0; q < 8; q++) {
            seed = seed * 1103515245u + 12345u;
            uint64_t addr = 0x10000000ull + (seed >> 4) % ((uint64_t)SLOTS * 0x4000 + 0x4000);
            uint32_t want = MT_NO_MODULE;
            for (uint32_t i = 0; i < n; i++)
                if (live[i] && ((addr >= bias_of[i] && addr < bias_of[i] + 0x1000) ||
                                (addr >= bias_of[i] + 0x3000 && addr < bias_of[i] + 0x3800)))
                    want = i;
            ck_assert_uint_eq(mt_modules_find(m, addr), want);
        }
    }
    ck_assert_uint_gt(n, 1000);
    mt_modules_free(m);
}
END_TEST

MT_SUITE(.name = "modules", .tests = MT_TESTS(module_lookup, module_reload_is_one_module,
                                              module_lookup_matches_brute_force));

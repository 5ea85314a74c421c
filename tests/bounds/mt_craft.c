// SPDX-License-Identifier: MIT
// Writes hostile but valid memtrace logs for the analyzer-bounds tests (issue 19): a very deep
// chain of frames with many leaves, thousands of dlopen/dlclose cycles, a million distinct
// stacks, and names full of terminal control characters. Test-only: aborts on failure.
//
// usage: mt_craft deep|deep-python|modules|modules-loaded|wide|names|phases OUT.mtr [N]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_builder.h"

#define MT_CRAFT_TID 1000

static void mt_craft_start(mt_lb_t *b, const char *what)
{
    mt_lb_init(b, 4242, 0);
    const char *argv[] = {"/usr/bin/crafted", what};
    mt_lb_process(b, 4242, 1, "/usr/bin/crafted", 2, argv);
    mt_lb_thread(b, MT_CRAFT_TID);
}

/* A chain of n frames (no module: every frame is a distinct raw address) and n leaves hanging
 * off its innermost frame, each leaking one 16-byte block: n distinct stacks n + 1 deep. */
static void mt_craft_deep(mt_lb_t *b, uint32_t n, int python)
{
    uint32_t id = 1;
    if (python) /* a Python script with no Python frame: leaks walk each stack for one */
        mt_lb_py_interp(b, 3, 11, MT_PY_FRAMES, 0x900000, 0x901000);
    for (uint32_t i = 0; i < n; i++, id++)
        mt_lb_node(b, id, id - 1, 0x10000000ull + (uint64_t)i * 16);
    uint32_t bottom = n;
    for (uint32_t i = 0; i < n; i++, id++) {
        mt_lb_node(b, id, bottom, 0x20000000ull + (uint64_t)i * 16);
        mt_lb_alloc(b, MT_ALLOC_MALLOC, 10 + i, 16, 0x7f0000000000ull + (uint64_t)i * 32, id);
    }
    if (python)
        mt_lb_py_script_end(b, 10 + n);
    mt_lb_exit(b, 10 + n, MT_EXIT_NORMAL, 0);
}

/* n dlopen/dlclose cycles of the same library (same path and build-id), each at a new address
 * (so each gets a new trace node, as the recorder's tree is keyed by address), allocating
 * once from the same place in it and leaking: all n leaks are one site. The library file does
 * not exist, so frames stay module+offset. */
static void mt_craft_modules(mt_lb_t *b, uint32_t n, int keep_loaded)
{
    static const uint8_t bid[20] = {0xde, 0xad, 0xbe, 0xef, 1,  2,  3,  4,  5,  6,
                                    7,    8,    9,    10,   11, 12, 13, 14, 15, 16};
    const uint64_t seg[1][3] = {{0, 0x10000, 5}};
    const uint64_t exe_seg[1][3] = {{0x400000, 0x10000, 5}};
    mt_lb_module(b, 1, 0, "/usr/bin/crafted", NULL, 0, 1, exe_seg);
    mt_lb_node(b, 1, 0, 0x401000); /* main, in the executable */
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bias = 0x7f0000000000ull + (uint64_t)i * 0x20000;
        mt_lb_module(b, 2 + i, bias, "/nonexistent/libreloaded.so", bid, sizeof bid, 1, seg);
        mt_lb_node(b, 2 + i, 1, bias + 0x1234);
        mt_lb_alloc(b, MT_ALLOC_MALLOC, 10 + i, 24, 0x7e0000000000ull + (uint64_t)i * 32, 2 + i);
        if (!keep_loaded)
            mt_lb_unload(b, 2 + i);
    }
    mt_lb_exit(b, 10 + n, MT_EXIT_NORMAL, 0);
}

/* n distinct stacks, 4 frames deep: main -> one of 1024 callers -> leaf; every stack allocates
 * once and frees every other block. */
static void mt_craft_wide(mt_lb_t *b, uint32_t n)
{
    mt_lb_node(b, 1, 0, 0x401000);
    mt_lb_node(b, 2, 1, 0x402000);
    uint32_t mids = 1024, id = 3;
    for (uint32_t m = 0; m < mids; m++, id++)
        mt_lb_node(b, id, 2, 0x500000ull + (uint64_t)m * 64);
    uint64_t t = 10;
    for (uint32_t i = 0; i < n; i++, id++) {
        mt_lb_node(b, id, 3 + i % mids, 0x900000ull + (uint64_t)i * 8);
        uint64_t addr = 0x7f0000000000ull + (uint64_t)i * 64;
        mt_lb_alloc(b, MT_ALLOC_MALLOC, t, 32 + (i & 7) * 16, addr, id);
        if (i & 1)
            mt_lb_free_(b, MT_TAG_FREE, t, addr);
        t += (i & 255) == 0;
    }
    mt_lb_exit(b, t + 1, MT_EXIT_NORMAL, 0);
}

/* The program's names carry terminal escapes: argv, the executable, a module path, a thread
 * name, and a Python function and file. One 100-byte leak from a native frame in the module,
 * one 200-byte leak from the Python frame. */
static void mt_craft_names(mt_lb_t *b)
{
    const char *evil = "\x1b]0;PWNED\a\x1b[2J\nmemtrace: 0 leaks";
    mt_lb_init(b, 4242, 0);
    const char *av[] = {"/usr/bin/crafted", evil,
                        "\x9b"
                        "31m\x7f\r\xc2\x9b"};
    mt_lb_process(b, 4242, 1, "/usr/bin/crafted\x1b[2J", 3, av);
    const uint64_t seg[1][3] = {{0, 0x10000, 5}};
    mt_lb_module(b, 1, 0x400000, "/tmp/\x1b[31mevil\a.so", NULL, 0, 1, seg);
    mt_lb_thread(b, MT_CRAFT_TID);
    mt_lb_thread_name(b, MT_CRAFT_TID, "thr\x1b[2J");
    mt_lb_py_interp(b, 3, 11, MT_PY_FRAMES, 0x900000, 0x901000);
    mt_lb_py_code(b, 1, 7, "fn\x1b]0;PWNED\a\nmemtrace: forged\xc2\x9b", "/tmp/\x1b[2Jscript.py");
    mt_lb_py_location(b, 1, 1, 8);
    mt_lb_node(b, 1, 0, 0x401000);
    mt_lb_node(b, 2, 1, MT_PY_IP_BIT | 1);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 10, 100, 0x7f0000000000ull, 1);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 11, 200, 0x7f0000001000ull, 2);
    mt_lb_exit(b, 20, MT_EXIT_NORMAL, 0);
}

/* Three phases on a clock of microseconds that ends at 6400 (the HTML page's 64 buckets are 100
 * us wide): 10 kept blocks of 1000 B; 20 of 2000 B freed some buckets later, and then half of
 * the kept ones (blocks allocated before a window and freed inside it); a second thread's 5
 * blocks of 3000 B at exactly the buckets' bounds, two of them grown by realloc (one right after a
 * bound). Every
 * window of the page must give what `memtrace report --from --to` gives. */
static void mt_craft_phases(mt_lb_t *b)
{
    for (uint32_t i = 1; i <= 3; i++)
        mt_lb_node(b, i, 0, 0x1000u * i);
    for (uint64_t i = 0; i < 10; i++)
        mt_lb_alloc(b, MT_ALLOC_MALLOC, 50 + 10 * i, 1000, 0x100000 + 0x1000 * i, 1);
    for (uint64_t i = 0; i < 20; i++)
        mt_lb_alloc(b, MT_ALLOC_MALLOC, 2000 + 20 * i, 2000, 0x200000 + 0x1000 * i, 2);
    /* the last one right after the heap's peak, in the same bucket */
    mt_lb_free_(b, MT_TAG_FREE, 2390, 0x200000 + 0x1000 * 19);
    for (uint64_t i = 0; i < 19; i++)
        mt_lb_free_(b, MT_TAG_FREE, 2900 + 20 * i, 0x200000 + 0x1000 * i);
    for (uint64_t i = 0; i < 5; i++)
        mt_lb_free_(b, MT_TAG_FREE, 3100 + i, 0x100000 + 0x1000 * i);
    mt_lb_thread(b, MT_CRAFT_TID + 1);
    for (uint64_t i = 0; i < 5; i++)
        mt_lb_alloc(b, MT_ALLOC_MALLOC, 4500 + 100 * i, 3000, 0x300000 + 0x1000 * i, 3);
    mt_lb_free_(b, MT_TAG_REALLOC_RELEASE, 5000, 0x300000);
    mt_lb_alloc(b, MT_ALLOC_REALLOC, 5000, 6000, 0x400000, 3);
    /* the first event after the bound 5200: a window that ends there holds the old block */
    mt_lb_free_(b, MT_TAG_REALLOC_RELEASE, 5201, 0x301000);
    mt_lb_alloc(b, MT_ALLOC_REALLOC, 5201, 4000, 0x401000, 3);
    mt_lb_exit(b, 6400, MT_EXIT_NORMAL, 0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr,
                "usage: mt_craft deep|deep-python|modules|modules-loaded|wide|names|phases OUT.mtr "
                "[N]\n");
        return 2;
    }
    uint32_t n = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 0;
    mt_lb_t b;
    if (strcmp(argv[1], "names") == 0) {
        mt_craft_names(&b);
    } else {
        mt_craft_start(&b, argv[1]);
        if (strcmp(argv[1], "deep") == 0)
            mt_craft_deep(&b, n ? n : 20000, 0);
        else if (strcmp(argv[1], "deep-python") == 0)
            mt_craft_deep(&b, n ? n : 20000, 1);
        else if (strcmp(argv[1], "modules") == 0)
            mt_craft_modules(&b, n ? n : 80000, 0);
        else if (strcmp(argv[1], "modules-loaded") == 0) /* n libraries loaded at once */
            mt_craft_modules(&b, n ? n : 80000, 1);
        else if (strcmp(argv[1], "wide") == 0)
            mt_craft_wide(&b, n ? n : 1000000);
        else if (strcmp(argv[1], "phases") == 0)
            mt_craft_phases(&b);
        else {
            fprintf(stderr, "mt_craft: unknown log kind %s\n", argv[1]);
            return 2;
        }
    }
    size_t len = mt_lb_write(&b, argv[2]);
    mt_lb_free(&b);
    printf("%zu\n", len);
    return 0;
}

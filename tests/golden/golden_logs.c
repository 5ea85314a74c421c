// SPDX-License-Identifier: MIT
// Writes the golden test's two logs (old.mtr, new.mtr) with the real encoder: one made-up run
// of a program whose code is golden_fixture.so, with every input fixed (times, pids, threads,
// addresses, sizes), so the reports on them are a pure function of the analyzer's code.
// new.mtr is old.mtr with a few sites changed, for `memtrace diff`.
//
//   golden_logs FIXTURE.so OUTDIR
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_builder.h"

/* The fixture's functions, in golden_fixture.S's order: 64 bytes each from .text at 0x10000. */
enum fn {
    F_START,
    F_MAIN,
    F_LOAD_CONFIG,
    F_LEAK_BUFFER,
    F_BUILD_LIST,
    F_MAKE_NODE,
    F_MAYBE_KEEP,
    F_GROW_BUFFER,
    F_SCRATCH,
    F_WORKER_MAIN,
    F_TABLE_INSERT,
    F_TABLE_REHASH,
    F_POOL_GROW,
    F_PY_EVAL,
    F_PYOBJECT_MALLOC,
    F_MAP_REGION,
    F_MALLOC,
};

#define BIAS 0x7f3a00000000ull
#define AT(fn, off) (BIAS + 0x10000u + 64u * (fn) + (off))
#define PID 4242
#define TID_MAIN 4242
#define TID_W1 4243
#define TID_W2 4244
#define HEAP 0x5555a0000000ull

/* The fixture's PT_LOAD segments and build-id, as the recorder would take them from memory. */
typedef struct fixture {
    uint64_t segs[16][3];
    size_t nsegs;
    uint8_t build_id[64];
    size_t build_id_len;
} fixture_t;

static void die(const char *what)
{
    fprintf(stderr, "golden_logs: %s\n", what);
    exit(1);
}

static void read_fixture(const char *path, fixture_t *fx)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open the fixture");
    static uint8_t img[1 << 20];
    size_t n = fread(img, 1, sizeof img, f);
    fclose(f);
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    if (n < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_phoff + (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > n)
        die("the fixture is not a 64-bit ELF file");
    memset(fx, 0, sizeof *fx);
    for (size_t i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff) + i;
        if (ph->p_type == PT_LOAD && fx->nsegs < 16) {
            fx->segs[fx->nsegs][0] = ph->p_vaddr;
            fx->segs[fx->nsegs][1] = ph->p_memsz;
            fx->segs[fx->nsegs][2] = ph->p_flags;
            fx->nsegs++;
        } else if (ph->p_type == PT_NOTE && ph->p_offset + ph->p_filesz <= n) {
            const uint8_t *p = img + ph->p_offset, *end = p + ph->p_filesz;
            while (p + sizeof(Elf64_Nhdr) <= end) {
                const Elf64_Nhdr *nh = (const Elf64_Nhdr *)p;
                size_t name = (nh->n_namesz + 3) & ~3u, desc = (nh->n_descsz + 3) & ~3u;
                if (nh->n_type == NT_GNU_BUILD_ID && nh->n_descsz <= sizeof fx->build_id) {
                    memcpy(fx->build_id, p + sizeof *nh + name, nh->n_descsz);
                    fx->build_id_len = nh->n_descsz;
                }
                p += sizeof *nh + name + desc;
            }
        }
    }
    if (fx->nsegs == 0 || fx->build_id_len == 0)
        die("the fixture has no PT_LOAD segment or no build-id");
}

/* Trace nodes: native frames outermost first, Python frames (MT_PY_IP_BIT | location) placed
 * between the interpreter's eval frames as the recorder's merge places them. */
enum node {
    N_START = 1,
    N_MAIN_CONFIG,
    N_MAIN_LEAK,
    N_MAIN_LIST,
    N_MAIN_MAYBE,
    N_MAIN_PY,
    N_CONFIG,
    N_CONFIG_MALLOC,
    N_LEAK,
    N_LEAK_MALLOC,
    N_LIST,
    N_LIST_MALLOC,
    N_NODE,
    N_NODE_MALLOC,
    N_MAYBE,
    N_MAYBE_MALLOC,
    N_GROW,
    N_GROW_MALLOC,
    N_SCRATCH,
    N_SCRATCH_MALLOC,
    N_MAP,
    N_WORKER,
    N_INSERT,
    N_INSERT_MALLOC,
    N_REHASH,
    N_POOL,
    N_POOL_MALLOC,
    N_EVAL1,
    N_PY_MODULE,
    N_EVAL2,
    N_PY_LOAD_ROWS,
    N_EVAL3,
    N_PY_ROW_INIT,
    N_PYOBJ_MALLOC,
    N_PY_MODULE_END,
    N_PYMEM_MALLOC,
};

static void trace_tree(mt_lb_t *b)
{
    static const struct {
        uint32_t id, parent;
        uint64_t ip;
    } nodes[] = {
        {N_START, 0, AT(F_START, 0x10)},
        {N_MAIN_CONFIG, N_START, AT(F_MAIN, 0x08)},
        {N_MAIN_LEAK, N_START, AT(F_MAIN, 0x18)},
        {N_MAIN_LIST, N_START, AT(F_MAIN, 0x28)},
        {N_MAIN_MAYBE, N_START, AT(F_MAIN, 0x38)},
        {N_MAIN_PY, N_START, AT(F_MAIN, 0x3c)},
        {N_CONFIG, N_MAIN_CONFIG, AT(F_LOAD_CONFIG, 0x14)},
        {N_CONFIG_MALLOC, N_CONFIG, AT(F_MALLOC, 0x04)},
        {N_LEAK, N_MAIN_LEAK, AT(F_LEAK_BUFFER, 0x24)},
        {N_LEAK_MALLOC, N_LEAK, AT(F_MALLOC, 0x04)},
        {N_LIST, N_MAIN_LIST, AT(F_BUILD_LIST, 0x08)},
        {N_LIST_MALLOC, N_LIST, AT(F_MALLOC, 0x04)},
        {N_NODE, N_LIST, AT(F_MAKE_NODE, 0x18)},
        {N_NODE_MALLOC, N_NODE, AT(F_MALLOC, 0x04)},
        {N_MAYBE, N_MAIN_MAYBE, AT(F_MAYBE_KEEP, 0x30)},
        {N_MAYBE_MALLOC, N_MAYBE, AT(F_MALLOC, 0x14)},
        {N_GROW, N_MAIN_LEAK, AT(F_GROW_BUFFER, 0x10)},
        {N_GROW_MALLOC, N_GROW, AT(F_MALLOC, 0x24)},
        {N_SCRATCH, N_MAIN_LIST, AT(F_SCRATCH, 0x20)},
        {N_SCRATCH_MALLOC, N_SCRATCH, AT(F_MALLOC, 0x04)},
        {N_MAP, N_MAIN_MAYBE, AT(F_MAP_REGION, 0x08)},
        {N_WORKER, 0, AT(F_WORKER_MAIN, 0x08)},
        {N_INSERT, N_WORKER, AT(F_TABLE_INSERT, 0x14)},
        {N_INSERT_MALLOC, N_INSERT, AT(F_MALLOC, 0x04)},
        {N_REHASH, N_INSERT, AT(F_TABLE_REHASH, 0x28)},
        {N_POOL, N_REHASH, AT(F_POOL_GROW, 0x08)},
        {N_POOL_MALLOC, N_POOL, AT(F_MALLOC, 0x04)},
        {N_EVAL1, N_MAIN_PY, AT(F_PY_EVAL, 0x10)},
        {N_PY_MODULE, N_EVAL1, MT_PY_IP_BIT | 1},
        {N_EVAL2, N_PY_MODULE, AT(F_PY_EVAL, 0x20)},
        {N_PY_LOAD_ROWS, N_EVAL2, MT_PY_IP_BIT | 2},
        {N_EVAL3, N_PY_LOAD_ROWS, AT(F_PY_EVAL, 0x30)},
        {N_PY_ROW_INIT, N_EVAL3, MT_PY_IP_BIT | 3},
        {N_PYOBJ_MALLOC, N_PY_ROW_INIT, AT(F_PYOBJECT_MALLOC, 0x08)},
        {N_PY_MODULE_END, N_EVAL1, MT_PY_IP_BIT | 4},
        {N_PYMEM_MALLOC, N_PY_MODULE_END, AT(F_PYOBJECT_MALLOC, 0x18)},
    };
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
        mt_lb_node(b, nodes[i].id, nodes[i].parent, nodes[i].ip);
}

/* Block addresses: named places in one heap, 16-byte aligned like glibc's. */
enum {
    A_CONFIG = 0x010,
    A_LEAK = 0x110,
    A_LIST = 0x190,
    A_NODE1 = 0x210,
    A_NODE2 = 0x250,
    A_MAYBE = 0x290,
    A_TEMP = 0x400,
    A_GROW = 0x1000,
    A_GROWN = 0x30000,
    A_HOLES = 0x60000,
    A_W1 = 0x80000,
    A_W2 = 0x90000,
    A_PYOBJ = 0xa0000,
    A_PYMEM = 0xb0000,
};
#define H(off) (HEAP + (off))

static void sample(mt_lb_t *b, uint64_t t, uint64_t rss, uint64_t arena, uint64_t used)
{
    mt_sample_t s = {.rss = rss,
                     .arena = arena,
                     .ordblks = 5,
                     .hblks = 1,
                     .hblkhd = 1 << 20,
                     .uordblks = used,
                     .fordblks = arena - used,
                     .keepcost = 4096};
    mt_lb_sample(b, t, &s);
}

/* variant 0: old.mtr; 1: new.mtr (config grows, the leak_buffer leak is fixed, worker-1 leaks
 * two more entries, Python keeps more rows). */
static void write_log(const fixture_t *fx, const char *fixture_path, const char *path, int variant)
{
    static const char *const argv[] = {"/golden/bin/app", "--rows", "10"};
    mt_lb_t lb, *b = &lb;
    mt_lb_init(b, PID, 0);
    mt_lb_process(b, PID, 4000, "/golden/bin/app", 3, argv);
    mt_lb_module(b, 1, BIAS, fixture_path, fx->build_id, fx->build_id_len, fx->nsegs,
                 (const uint64_t(*)[3])fx->segs);
    mt_lb_py_interp(b, 3, 11, MT_PY_FRAMES, AT(F_PY_EVAL, 0), AT(F_PY_EVAL, 64));
    mt_lb_py_code(b, 1, 1, "<module>", "/golden/py/job.py");
    mt_lb_py_code(b, 2, 10, "load_rows", "/golden/py/job.py");
    mt_lb_py_code(b, 3, 5, "Row.__init__", "/golden/py/rows.py");
    mt_lb_py_location(b, 1, 1, 30);
    mt_lb_py_location(b, 2, 2, 14);
    mt_lb_py_location(b, 3, 3, 8);
    mt_lb_py_location(b, 4, 1, 31);
    trace_tree(b);
    mt_lb_thread(b, TID_MAIN);
    mt_lb_thread_name(b, TID_MAIN, "app");
    mt_lb_thread_name(b, TID_W1, "worker-1");
    mt_lb_thread_name(b, TID_W2, "worker-2");

    /* main: what stays (config: reachable), what is lost (one buffer: definite; a list head
     * owning two nodes: definite and indirect; a block only pointed into: possible) */
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 100, variant ? 320 : 200, H(A_CONFIG), N_CONFIG_MALLOC);
    for (uint64_t i = 0; i < 6; i++) { /* temporaries: freed right away */
        mt_lb_alloc(b, MT_ALLOC_MALLOC, 110 + 2 * i, 32 + 16 * i, H(A_TEMP), N_SCRATCH_MALLOC);
        mt_lb_free_(b, MT_TAG_FREE, 111 + 2 * i, H(A_TEMP));
    }
    if (!variant)
        mt_lb_alloc(b, MT_ALLOC_MALLOC, 200, 100, H(A_LEAK), N_LEAK_MALLOC);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 210, 96, H(A_LIST), N_LIST_MALLOC);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 220, 48, H(A_NODE1), N_NODE_MALLOC);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 230, 48, H(A_NODE2), N_NODE_MALLOC);
    mt_lb_alloc(b, MT_ALLOC_CALLOC, 240, 64, H(A_MAYBE), N_MAYBE_MALLOC);
    sample(b, 300, 4u << 20, 135168, 600);

    /* the workers: a hash table that keeps some entries and loses others */
    mt_lb_thread(b, TID_W1);
    unsigned inserts = variant ? 10 : 8, kept = variant ? 4 : 2;
    for (unsigned i = 0; i < inserts; i++)
        mt_lb_alloc(b, MT_ALLOC_MALLOC, 400 + i, 256, H(A_W1 + 0x200 * i), N_INSERT_MALLOC);
    for (unsigned i = kept; i < inserts; i++)
        mt_lb_free_(b, MT_TAG_FREE, 900 + i, H(A_W1 + 0x200 * i));
    mt_lb_thread(b, TID_W2);
    for (unsigned i = 0; i < 3; i++)
        mt_lb_alloc(b, MT_ALLOC_POSIX_MEMALIGN, 450 + i, 1024, H(A_W2 + 0x800 * i), N_POOL_MALLOC);
    mt_lb_free_(b, MT_TAG_FREE, 950, H(A_W2));
    mt_lb_free_(b, MT_TAG_FREE, 951, H(A_W2 + 0x800));

    /* main: a buffer grown by realloc to the peak, then released; a mapping partly unmapped;
     * three 1000-byte blocks in adjacent chunks and one further on: one hole of 2016 bytes */
    mt_lb_thread(b, TID_MAIN);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 1000, 65536, H(A_GROW), N_GROW_MALLOC);
    mt_lb_free_(b, MT_TAG_REALLOC_RELEASE, 1100, H(A_GROW));
    mt_lb_alloc(b, MT_ALLOC_REALLOC, 1100, 131072, H(A_GROWN), N_GROW_MALLOC);
    for (unsigned i = 0; i < 3; i++)
        mt_lb_alloc(b, MT_ALLOC_MALLOC, 1200 + i, 1000, H(A_HOLES + 1008 * i), N_SCRATCH_MALLOC);
    mt_lb_alloc(b, MT_ALLOC_MALLOC, 1203, 1000, H(A_HOLES + 5040), N_SCRATCH_MALLOC);
    mt_lb_mmap(b, 1300, 1u << 20, 0x7f3b00000000ull, N_MAP, MT_MAP_MMAP);
    sample(b, 1500, 6u << 20, 270336, 137000);
    mt_lb_free_(b, MT_TAG_FREE, 2000, H(A_GROWN));
    mt_lb_munmap(b, 2500, 256u << 10, 0x7f3b00000000ull);
    sample(b, 2600, 5u << 20, 270336, 5800);

    /* Python: rows made by Row.__init__ (object domain), two buffers made by <module>; arenas */
    mt_lb_py_arena(b, MT_TAG_PY_ARENA_ALLOC, 2990, 262144, 0x7f3c00000000ull);
    mt_lb_py_arena(b, MT_TAG_PY_ARENA_ALLOC, 2991, 262144, 0x7f3c00040000ull);
    unsigned rows = variant ? 12 : 10, freed_rows = variant ? 6 : 7;
    for (unsigned i = 0; i < rows; i++)
        mt_lb_alloc(b, MT_ALLOC_PYOBJECT, 3000 + i, 56, H(A_PYOBJ + 64 * i), N_PYOBJ_MALLOC);
    for (unsigned i = 0; i < freed_rows; i++)
        mt_lb_free_(b, MT_TAG_FREE, 3500 + i, H(A_PYOBJ + 64 * i));
    mt_lb_alloc(b, MT_ALLOC_PYMEM, 3600, 512, H(A_PYMEM), N_PYMEM_MALLOC);
    mt_lb_alloc(b, MT_ALLOC_PYMEM, 3601, 512, H(A_PYMEM + 0x400), N_PYMEM_MALLOC);
    mt_lb_py_arena(b, MT_TAG_PY_ARENA_FREE, 3900, 262144, 0x7f3c00040000ull);
    mt_lb_py_script_end(b, 4000);
    mt_lb_free_(b, MT_TAG_FREE, 4100, H(A_PYMEM + 0x400)); /* finalization */

    /* the leak check at exit: what no root reaches */
    uint64_t lost = 0,
             live = (variant ? 0 : 1) + 1 + 2 + 1 + 1 + kept + 1 + 4 + (rows - freed_rows) + 1;
    mt_lb_leak_scan(b, 5000, live, 2, 0, 16384);
    if (!variant) {
        mt_lb_leak_block(b, H(A_LEAK), 0, 0);
        lost++;
    }
    mt_lb_leak_block(b, H(A_LIST), 0, 96);
    mt_lb_leak_block(b, H(A_NODE1), 1, H(A_LIST));
    mt_lb_leak_block(b, H(A_NODE2), 1, H(A_LIST));
    mt_lb_leak_block(b, H(A_MAYBE), 2, 0);
    lost += 4;
    for (unsigned i = 1; i < kept; i++, lost++)
        mt_lb_leak_block(b, H(A_W1 + 0x200 * i), 0, 0);
    mt_lb_leak_block(b, H(A_W2 + 0x1000), 0, 0);
    lost++;
    for (unsigned i = freed_rows; i < rows; i += 2, lost++)
        mt_lb_leak_block(b, H(A_PYOBJ + 64 * i), i % 4 == 0 ? 0 : 2, 0);
    mt_lb_leak_scan_end(b, lost);
    mt_lb_exit(b, 6000, MT_EXIT_NORMAL, 0);
    mt_lb_write(b, path);
    mt_lb_free(b);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: golden_logs FIXTURE.so OUTDIR\n");
        return 2;
    }
    fixture_t fx;
    read_fixture(argv[1], &fx);
    char path[4096];
    snprintf(path, sizeof path, "%s/old.mtr", argv[2]);
    write_log(&fx, argv[1], path, 0);
    snprintf(path, sizeof path, "%s/new.mtr", argv[2]);
    write_log(&fx, argv[1], path, 1);
    return 0;
}

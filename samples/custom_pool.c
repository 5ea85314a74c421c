// SPDX-License-Identifier: MIT
// A pool allocator that carves fixed-size objects from one malloc'd slab and reports them
// through include/memtrace.h; it leaks LEAKED of them, and marks its phases. Runs the same
// with and without memtrace (the calls are no-ops then). Known answer, last line:
//   default   the pool is destroyed (slab freed) at the end: every leak is a pool object
//   "keep"    the slab stays referenced by the global pool until exit (still reachable)
//   "lose"    every pointer to the slab is dropped without freeing it (the pool leaks whole)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memtrace.h"

#define OBJ_SIZE 48 /* bytes of a pool object */
#define SLOTS 64    /* objects the slab holds */
#define TAKEN 40    /* objects allocated */
#define LEAKED 10   /* of them never freed: their pointers are dropped */
/* The slab starts with the pool's header, then the objects (so that no object has the slab's
 * own address: see README, "Custom allocators and marks"). */
#define HEADER 64

static struct pool {
    unsigned char *slab;
    void *free_list;
    size_t next;
} pool;

static __attribute__((noinline)) void pool_create(void)
{
    pool.slab = malloc(HEADER + SLOTS * OBJ_SIZE);
    memset(pool.slab, 0, HEADER);
}

static __attribute__((noinline)) void *pool_alloc(void)
{
    void *p;
    if (pool.free_list) {
        p = pool.free_list;
        pool.free_list = *(void **)p;
    } else if (pool.next < SLOTS) {
        p = pool.slab + HEADER + pool.next++ * OBJ_SIZE;
    } else {
        return NULL;
    }
    memtrace_alloc(p, OBJ_SIZE);
    return p;
}

static __attribute__((noinline)) void pool_free(void *p)
{
    memtrace_free(p);
    *(void **)p = pool.free_list;
    pool.free_list = p;
}

static __attribute__((noinline)) void pool_destroy(void)
{
    free(pool.slab);
    pool.slab = NULL;
}

/* The objects that are kept, then freed. */
static void *kept[TAKEN - LEAKED];

/* LEAKED objects whose pointers die with this frame (their bytes are no pointers). */
static __attribute__((noinline)) void leak_objects(void)
{
    for (int i = 0; i < LEAKED; i++) {
        unsigned char *p = pool_alloc();
        memset(p, 0xab, OBJ_SIZE);
    }
}

int main(int argc, char **argv)
{
    int lose = argc > 1 && strcmp(argv[1], "lose") == 0;
    int keep = lose || (argc > 1 && strcmp(argv[1], "keep") == 0); /* the slab is not freed */
    memtrace_mark("start");
    pool_create();
    for (int i = 0; i < TAKEN - LEAKED; i++) {
        kept[i] = pool_alloc();
        memset(kept[i], 0x11, OBJ_SIZE);
    }
    leak_objects();
    usleep(20000); /* phases apart on the timeline (the log's clock ticks in milliseconds) */
    memtrace_mark("allocated");
    for (int i = 0; i < TAKEN - LEAKED; i++)
        pool_free(kept[i]);
    usleep(20000);
    memtrace_mark("freed");
    if (!keep)
        pool_destroy();
    if (lose) {
        memset(&pool, 0, sizeof pool);
        memset(kept, 0, sizeof kept);
    }
    memtrace_mark("end");
    /* malloc calls: the slab; frees: the objects freed, and the slab unless kept */
    int slab_bytes = HEADER + SLOTS * OBJ_SIZE;
    char line[200];
    int n = snprintf(line, sizeof line,
                     "memtrace-sample: allocations=%d frees=%d leaked_bytes=%d leaked_blocks=%d\n",
                     1 + TAKEN, TAKEN - LEAKED + !keep, LEAKED * OBJ_SIZE + keep * slab_bytes,
                     LEAKED + keep);
    return write(1, line, (size_t)n) == n ? 0 : 1;
}

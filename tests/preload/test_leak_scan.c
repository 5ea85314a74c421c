// SPDX-License-Identifier: MIT
// Tests the in-process leak scan (preload/leak/leak_scan.c) in a real process: blocks from the real
// malloc with leaks of every kind, a second thread that holds a block only on its stack, and a
// global interior pointer. The block list lives in mmap'd memory so it is not itself a root.
#include <check.h>

#include "check_main.h"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/own_ranges.h"
#include "leak/leak_scan.h"

#define MAX_TRACKED 64

static mt_leak_block_t *tracked;
static uint32_t *mark_stack;
static size_t ntracked;

/* The program's "globals": the scanner is linked into this test, so the test's own .data is
 * memtrace's and excluded; a separate writable mapping plays the program's data segment. */
static void *volatile *globals;
#define global_root globals[0]                           /* reachable */
#define global_interior (*(char *volatile *)&globals[1]) /* an interior pointer: possible */

struct node {
    struct node *next;
    char payload[40];
};

static void *track(size_t size)
{
    void *p = malloc(size);
    memset(p, 0, size);
    tracked[ntracked++] = (mt_leak_block_t){.addr = (uintptr_t)p, .size = size};
    return p;
}

/* Hides a pointer from the conservative scan: an XOR'd copy is no pointer. */
static uintptr_t hidden_holder_addr;

/* The addresses the test checks, kept in memory excluded from the roots: at -O0 a local
 * copy on the stack would (rightly) make the block reachable. */
enum { ROOT, REACHED, HEAD, INTERIOR, ON_STACK, NEXPECT };
static uintptr_t expect[NEXPECT];

__attribute__((noinline)) static void make_leaks(void)
{
    global_root = track(100);
    ((void **)global_root)[0] = track(30); /* reachable through a reachable block */
    struct node *head = track(sizeof(struct node));
    head->next = track(sizeof(struct node));
    head->next->next = track(sizeof(struct node));
    (void)track(200); /* definite, alone */
    global_interior = (char *)track(64) + 10;
    hidden_holder_addr = (uintptr_t)head ^ 0x5555;
}

__attribute__((noinline)) static void clobber_stack(void)
{
    volatile char buf[32768];
    memset((char *)buf, 0, sizeof buf);
}

static int thread_ready;

static void *holder_thread(void *arg)
{
    (void)arg;
    void *volatile only_here = track(72); /* reachable only from this thread's stack */
    __atomic_store_n(&thread_ready, 1, __ATOMIC_RELEASE);
    for (;;)
        pause();
    return (void *)only_here;
}

static const mt_leak_block_t *find(uintptr_t addr)
{
    for (size_t i = 0; i < ntracked; i++)
        if (tracked[i].addr == addr)
            return &tracked[i];
    return NULL;
}

START_TEST(classifies_a_live_process)
{
    tracked = mmap(NULL, MAX_TRACKED * sizeof *tracked, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mark_stack = mmap(NULL, 2 * MAX_TRACKED * sizeof *mark_stack, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    globals = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(tracked, MAP_FAILED);
    ck_assert_ptr_ne((void *)globals, MAP_FAILED);
    mt_leakscan_init();
    mt_own_add((uintptr_t)&hidden_holder_addr, (uintptr_t)(&hidden_holder_addr + 1));
    mt_own_add((uintptr_t)expect, (uintptr_t)(expect + NEXPECT));

    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, holder_thread, NULL), 0);
    while (!__atomic_load_n(&thread_ready, __ATOMIC_ACQUIRE))
        usleep(1000);
    make_leaks();
    clobber_stack();

    expect[ROOT] = (uintptr_t)global_root;
    expect[REACHED] = (uintptr_t)((void **)global_root)[0];
    expect[HEAD] = hidden_holder_addr ^ 0x5555;
    expect[INTERIOR] = (uintptr_t)global_interior - 10;
    expect[ON_STACK] = tracked[0].addr; /* the thread tracked first */

    mt_leakscan_stats_t stats;
    ck_assert_int_eq(mt_leakscan_run(tracked, ntracked, mark_stack, &stats), 0);

    ck_assert_uint_eq(stats.threads_stopped, 1);
    ck_assert_uint_eq(stats.threads_missed, 0);
    ck_assert_int_eq(find(expect[ROOT])->state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(find(expect[REACHED])->state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(find(expect[ON_STACK])->state, MT_LEAK_REACHABLE);
    ck_assert_int_eq(find(expect[INTERIOR])->state, MT_LEAK_POSSIBLE);
    ck_assert_int_eq(find(expect[HEAD])->state, MT_LEAK_DEFINITE);
    ck_assert_uint_eq(find(expect[HEAD])->indirect_bytes, 2 * sizeof(struct node));

    uint64_t definite = 0, indirect = 0;
    for (size_t i = 0; i < ntracked; i++) {
        if (tracked[i].state == MT_LEAK_DEFINITE)
            definite += tracked[i].size;
        if (tracked[i].state == MT_LEAK_INDIRECT)
            indirect += tracked[i].size;
    }
    ck_assert_uint_eq(definite, sizeof(struct node) + 200);
    ck_assert_uint_eq(indirect, 2 * sizeof(struct node));
    /* The stopped thread was released and the process goes on normally. */
    ck_assert_int_eq(pthread_kill(t, 0), 0);
}
END_TEST

/* No fork: the scan must see this process's own threads and memory. */
MT_SUITE(.name = "leak_scan", .timeout = 20, .nofork = 1,
         .tests = MT_TESTS(classifies_a_live_process));

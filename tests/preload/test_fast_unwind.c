// SPDX-License-Identifier: MIT
// The cached-CFI walker (preload/stack/fast_unwind.c) against libunwind on real code: every stack
// it returns must be exactly unw_backtrace's, and it must handle the common frames itself (deep
// recursion, alloca frames with an rbp-based CFA, libc callbacks, other threads) instead of
// always falling back. Signal frames may fall back but must never be wrong. Built with -O2
// -fomit-frame-pointer so frames really need the CFI.
#define UNW_LOCAL_ONLY
#include <alloca.h>
#include <check.h>

#include "check_main.h"
#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "stack/fast_unwind.h"
#include "base/thread_slots.h"

/* fast_unwind.c's only outside need (thread_slots.c would pull in the whole recorder): a slot
 * per thread holding the rule cache, never freed here. */
static __thread mt_slot_t test_slot;
__thread mt_slot_t *mt_slot_tls;

mt_slot_t *mt_slot_take_self(void)
{
    void *p =
        mmap(NULL, MT_SLOT_FU_CACHE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    test_slot.fu_cache = p;
    mt_slot_tls = &test_slot;
    return mt_slot_tls;
}

#define MAXF 256

static uintptr_t unw_lo, unw_hi;

static int range_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uintptr_t a = (uintptr_t)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && a >= lo && a < lo + ph->p_memsz) {
            unw_lo = lo;
            unw_hi = lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

typedef struct result {
    int fast_n; /* -1: fell back */
    int slow_n;
    int equal;
} result_t;

static volatile int sink;

/* Both walkers from the same frame; libunwind's own leading frames are dropped, and the first
 * entry (two different call sites in this function) is not compared. */
__attribute__((noinline)) static void capture_both(result_t *res)
{
    uintptr_t fast[MAXF], slow[MAXF];
    int fn = mt_fastunw_capture(fast, MAXF);
    int sn = unw_backtrace((void **)slow, MAXF);
    int skip = 0;
    while (skip < sn && slow[skip] >= unw_lo && slow[skip] < unw_hi)
        skip++;
    res->fast_n = fn;
    res->slow_n = sn - skip;
    res->equal = fn == sn - skip && fn > 1 &&
                 memcmp(fast + 1, slow + skip + 1, (size_t)(fn - 1) * sizeof *fast) == 0;
    sink++;
}

__attribute__((noinline)) static void recurse(int d, result_t *res)
{
    if (d == 0)
        capture_both(res);
    else
        recurse(d - 1, res);
    sink++; /* not a tail call */
}

/* A frame whose size is only known at run time: GCC keeps the CFA on rbp here. */
__attribute__((noinline)) static void with_alloca(size_t n, result_t *res)
{
    volatile char *p = alloca(n);
    p[0] = 1;
    p[n - 1] = 2;
    if (n > 64)
        with_alloca(n / 2, res);
    else
        recurse(3, res);
    sink += p[0];
}

static result_t cmp_result;
static int cmp_done;

static int compare_ints(const void *a, const void *b)
{
    if (!cmp_done) {
        cmp_done = 1;
        recurse(2, &cmp_result); /* inside libc's qsort */
    }
    return *(const int *)a - *(const int *)b;
}

static result_t sig_result;

static void on_signal(int sig)
{
    (void)sig;
    recurse(2, &sig_result);
}

static void *thread_main(void *arg)
{
    recurse(20, arg);
    return NULL;
}

static void check_fast(const result_t *r, const char *what)
{
    ck_assert_msg(r->fast_n >= 0, "%s: fell back to libunwind", what);
    ck_assert_msg(r->equal, "%s: fast %d frames, libunwind %d, or different", what, r->fast_n,
                  r->slow_n);
    ck_assert_msg(r->slow_n > 3, "%s: only %d frames", what, r->slow_n);
}

/* ---- the split walk of nested Python stacks (mt_fastunw_until + mt_fastunw_record) ---- */

typedef struct split_result {
    int full_n, in_n, tail_n, nwords, words_hold, bp_used;
    int equal;
} split_result_t;

static uintptr_t split_lo, split_hi; /* stands for the interpreter loop's text */

/* Walks the same stack whole and split at the first frame in [split_lo, split_hi). */
__attribute__((noinline)) static void split_capture(split_result_t *res)
{
    uintptr_t full[MAXF], in[MAXF], tail[MAXF];
    mt_fu_word_t words[2 * MAXF];
    uint64_t pc, sp, bp;
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                     : "=r"(pc), "=r"(sp), "=r"(bp));
    /* a return address stands for the instruction before it: pc + 1 stands for pc */
    res->full_n = mt_fastunw_capture_from(pc + 1, sp, bp, full, MAXF);
    mt_fu_pos_t next;
    res->in_n = mt_fastunw_until(pc + 1, sp, bp, split_lo, split_hi, in, MAXF, &next);
    res->tail_n = -1;
    if (res->in_n > 0) {
        uintptr_t cfa_max = 0;
        bool bp_used = false;
        res->tail_n = mt_fastunw_record(&next, sp, tail, MAXF - res->in_n, words, 2 * MAXF,
                                        &res->nwords, &cfa_max, &bp_used);
        res->bp_used = bp_used;
    }
    res->words_hold = 1;
    for (int i = 0; i < res->nwords; i++)
        res->words_hold &= *(const uintptr_t *)words[i].addr == words[i].value;
    res->equal = res->full_n > 0 && res->in_n > 0 && res->tail_n >= 0 &&
                 res->in_n + res->tail_n == res->full_n &&
                 memcmp(in, full, (size_t)res->in_n * sizeof *full) == 0 &&
                 memcmp(tail, full + res->in_n, (size_t)res->tail_n * sizeof *full) == 0;
    sink++;
}

__attribute__((noinline)) static void split_inner(int d, split_result_t *res)
{
    if (d == 0)
        split_capture(res);
    else
        split_inner(d - 1, res);
    sink++;
}

__attribute__((noinline)) static void split_loop(int d, split_result_t *res)
{
    split_inner(d, res);
    sink++;
}

__attribute__((noinline)) static void split_outer(int d, int inner, split_result_t *res)
{
    if (d == 0)
        split_loop(inner, res);
    else
        split_outer(d - 1, inner, res);
    sink++;
}

START_TEST(split_walk_matches_whole)
{
    /* split_loop's first bytes: its call of split_inner returns inside them */
    split_lo = (uintptr_t)split_loop;
    split_hi = split_lo + 64;
    for (int inner = 0; inner < 30; inner += 7)
        for (int outer = 0; outer < 120; outer += 29) {
            split_result_t r;
            memset(&r, 0, sizeof r);
            split_outer(outer, inner, &r);
            ck_assert_msg(r.full_n > outer + inner, "whole walk: %d frames", r.full_n);
            ck_assert_msg(r.in_n == inner + 3, "inner part: %d frames for %d", r.in_n, inner);
            ck_assert_msg(r.equal, "split %d + %d frames, whole %d, or different", r.in_n, r.tail_n,
                          r.full_n);
            /* a return address per frame, saved rbps too, all still in place */
            ck_assert_int_ge(r.nwords, r.tail_n);
            ck_assert(r.words_hold);
        }
}
END_TEST

START_TEST(recursion_matches)
{
    for (int d = 0; d < 200; d += 13) {
        result_t r;
        recurse(d, &r);
        check_fast(&r, "recursion");
        ck_assert_int_ge(r.fast_n, d);
    }
}
END_TEST

START_TEST(alloca_frames_match)
{
    result_t r;
    with_alloca(4096, &r);
    check_fast(&r, "alloca");
}
END_TEST

START_TEST(libc_callback_matches)
{
    int v[64];
    for (int i = 0; i < 64; i++)
        v[i] = (i * 37) % 64;
    cmp_done = 0;
    qsort(v, 64, sizeof v[0], compare_ints);
    check_fast(&cmp_result, "qsort callback");
}
END_TEST

START_TEST(thread_matches)
{
    result_t r;
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, thread_main, &r), 0);
    pthread_join(t, NULL);
    check_fast(&r, "thread");
}
END_TEST

START_TEST(signal_frame_falls_back_or_matches)
{
    signal(SIGUSR1, on_signal);
    sig_result.fast_n = -2;
    raise(SIGUSR1);
    ck_assert_int_ne(sig_result.fast_n, -2);
    /* through the kernel's signal frame: libunwind, or an identical stack */
    ck_assert(sig_result.fast_n == -1 || sig_result.equal);
    signal(SIGUSR1, SIG_DFL);
}
END_TEST

START_TEST(flush_keeps_results)
{
    result_t r;
    recurse(5, &r);
    mt_fastunw_flush();
    recurse(5, &r);
    check_fast(&r, "after flush");
}
END_TEST

/* A thread-specific destructor, the last code a thread runs, may still allocate, and so unwind:
 * it must get a working cache. (The walker once kept its cache under a key of its own, whose
 * destructor unmapped it before later ones ran.) */
static pthread_key_t late_key;
static result_t late_result;

static void late_destructor(void *arg)
{
    (void)arg;
    recurse(3, &late_result);
}

static void *late_thread(void *arg)
{
    (void)arg;
    result_t r;
    recurse(2, &r); /* this thread's cache */
    pthread_setspecific(late_key, (void *)1);
    return NULL;
}

START_TEST(capture_after_thread_cache_freed)
{
    result_t r;
    recurse(1, &r);
    ck_assert_int_eq(pthread_key_create(&late_key, late_destructor), 0);
    late_result.fast_n = -2;
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, late_thread, NULL), 0);
    pthread_join(t, NULL);
    ck_assert_int_ge(late_result.fast_n, 0);
    ck_assert(late_result.equal);
}
END_TEST

static void *capture_thread(void *arg)
{
    recurse(2, arg);
    return NULL;
}

/* The walker takes no pthread key (issue 13.2): keys are the program's, and glibc callocs the
 * second-level array of keys 32 and up inside whichever call sets one first. */
START_TEST(takes_no_pthread_key)
{
    pthread_key_t before, after;
    ck_assert_int_eq(pthread_key_create(&before, NULL), 0);
    result_t r, rt;
    recurse(1, &r);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, capture_thread, &rt), 0);
    pthread_join(t, NULL);
    ck_assert_int_ge(rt.fast_n, 0);
    ck_assert_int_eq(pthread_key_create(&after, NULL), 0);
    ck_assert_uint_eq(after, before + 1);
}
END_TEST

/* ---- the whole-stack cache of mt_fastunw_capture_from (what the recorder calls) ---- */

typedef struct from_result {
    int fast_n, slow_n, equal;
    uint64_t sp;
} from_result_t;

/* From this frame's registers, as the recorder's capture, and libunwind from the same frame. */
__attribute__((noinline)) static void capture_from_both(from_result_t *res)
{
    uintptr_t fast[MAXF], slow[MAXF];
    uint64_t pc, sp, bp;
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                     : "=r"(pc), "=r"(sp), "=r"(bp));
    int fn = mt_fastunw_capture_from(pc + 1, sp, bp, fast, MAXF);
    int sn = unw_backtrace((void **)slow, MAXF);
    int skip = 0;
    while (skip < sn && slow[skip] >= unw_lo && slow[skip] < unw_hi)
        skip++;
    /* libunwind's first entry is the call site in this function, ours its caller's */
    res->fast_n = fn;
    res->slow_n = sn - skip - 1;
    res->equal = fn == res->slow_n && fn > 1 &&
                 memcmp(fast, slow + skip + 1, (size_t)fn * sizeof *fast) == 0;
    res->sp = sp;
    sink++;
}

__attribute__((noinline)) static void from_middle(from_result_t *res)
{
    capture_from_both(res);
    sink++;
}

/* Six callers alike of one function: each reaches capture_from_both at the same stack pointer
 * through from_middle, so the walks start from the same frame and rsp, read the same first
 * return address, and differ only in the next one. */
#define CALLER(name, k)                                                                            \
    __attribute__((noinline)) static void name(from_result_t *res)                                 \
    {                                                                                              \
        from_middle(res);                                                                          \
        sink += k; /* not a tail call, and not the same code as the others */                      \
    }
CALLER(via_a, 1)
CALLER(via_b, 2)
CALLER(via_c, 3)
CALLER(via_d, 4)
CALLER(via_e, 5)
CALLER(via_f, 6)

__attribute__((noinline)) static void from_recurse(int d, void (*via)(from_result_t *),
                                                   from_result_t *res)
{
    if (d == 0)
        via(res);
    else
        from_recurse(d - 1, via, res);
    sink++;
}

/* The second and later walks of a stack come from the cache: each must still be libunwind's,
 * with paths that share their start (more of them than a start has entries), at depths that
 * share none, deeper than an entry holds, and after a flush. */
START_TEST(cached_stacks_match)
{
    void (*const via[])(from_result_t *) = {via_a, via_b, via_c, via_d, via_e, via_f};
    static const int depths[] = {0, 3, 40};
    uint64_t sp0 = 0;
    for (int round = 0; round < 4; round++) {
        if (round == 3)
            mt_fastunw_flush();
        for (size_t d = 0; d < sizeof depths / sizeof depths[0]; d++)
            for (size_t v = 0; v < sizeof via / sizeof via[0]; v++) {
                for (int again = 0; again < 3; again++) {
                    from_result_t r;
                    memset(&r, 0, sizeof r);
                    from_recurse(depths[d], via[v], &r);
                    ck_assert_msg(r.fast_n >= 0, "path %zu depth %d: fell back", v, depths[d]);
                    ck_assert_msg(r.equal, "path %zu depth %d (round %d): %d frames, libunwind %d",
                                  v, depths[d], round, r.fast_n, r.slow_n);
                    ck_assert_int_ge(r.fast_n, depths[d] + 3);
                    if (d == 0 && v == 0)
                        sp0 = r.sp;
                    /* or the paths would not share a start, and the cache never be tried */
                    if (d == 0)
                        ck_assert_uint_eq(r.sp, sp0);
                }
            }
    }
}
END_TEST

/* The libunwind text range the frames are checked against, found once before the tests. */
static void find_unw_range(void)
{
    dl_iterate_phdr(range_cb, (void *)(uintptr_t)&unw_backtrace);
}

MT_SUITE(.name = "fast_unwind", .setup_once = find_unw_range, .nofork = 1,
         .tests = MT_TESTS(recursion_matches, split_walk_matches_whole, alloca_frames_match,
                           libc_callback_matches, thread_matches, takes_no_pthread_key,
                           signal_frame_falls_back_or_matches, flush_keeps_results,
                           capture_after_thread_cache_freed, cached_stacks_match));

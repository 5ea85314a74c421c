// SPDX-License-Identifier: MIT
// Unit tests for the recorder's per-thread slots (preload/base/thread_slots.c): one slot per live
// thread, reused after the thread is gone, the alternate signal stack set from it, the stack
// switch, and the program's stack pointer handed to the leak scan.
#include <check.h>

#include "check_main.h"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/stack_call.h"
#include "base/thread_slots.h"

static void *slot_of_thread(void *arg)
{
    (void)arg;
    return mt_slot_self();
}

START_TEST(the_first_chunk_holds_four_slots)
{
    /* A slot is 380 KiB of address space: a program under `ulimit -v` keeps all but a few of
     * its own MiB while it has few threads (slots come in chunks of 4, 8, ... 128). Runs
     * first: no slot is taken before it in this process. */
    ck_assert_uint_eq(mt_slot_count(), 0);
    ck_assert_ptr_nonnull(mt_slot_self());
    ck_assert_uint_eq(mt_slot_count(), 4);
}
END_TEST

START_TEST(one_slot_per_thread_and_the_same_each_time)
{
    mt_slot_t *a = mt_slot_self();
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(mt_slot_self(), a);
    ck_assert_ptr_eq(mt_slot_peek(), a);
    pthread_t t;
    void *b;
    ck_assert_int_eq(pthread_create(&t, NULL, slot_of_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(t, &b), 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(b, a);
}
END_TEST

START_TEST(slots_of_ended_threads_are_reused)
{
    /* 600 threads one after another: without reuse they would need 600 slots; a slot is
     * taken back once its thread is gone, so far fewer distinct ones. */
    enum { N = 600 };
    static void *seen[N];
    size_t distinct = 0;
    for (int i = 0; i < N; i++) {
        pthread_t t;
        void *s;
        ck_assert_int_eq(pthread_create(&t, NULL, slot_of_thread, NULL), 0);
        ck_assert_int_eq(pthread_join(t, &s), 0);
        ck_assert_ptr_nonnull(s);
        size_t j = 0;
        while (j < distinct && seen[j] != s)
            j++;
        if (j == distinct)
            seen[distinct++] = s;
    }
    ck_assert_uint_le(distinct, 2 * 128);
}
END_TEST

static pthread_barrier_t all_alive;

static void *slot_of_thread_held(void *arg)
{
    (void)arg;
    mt_slot_t *s = mt_slot_self();
    pthread_barrier_wait(&all_alive);
    return s;
}

START_TEST(slots_of_threads_alive_at_once_span_growing_chunks)
{
    /* 300 threads at once need chunks of 4, 8, 16, 32, 64, 128 and 128 slots: each gets a
     * slot of its own, found again by its index. */
    enum { N = 300 };
    static pthread_t t[N];
    static mt_slot_t *slot[N];
    ck_assert_int_eq(pthread_barrier_init(&all_alive, NULL, N + 1), 0);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, slot_of_thread_held, NULL), 0);
    pthread_barrier_wait(&all_alive);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(pthread_join(t[i], (void **)&slot[i]), 0);
    pthread_barrier_destroy(&all_alive);
    unsigned count = mt_slot_count();
    ck_assert_uint_ge(count, N + 1);
    ck_assert_uint_le(count, 124 + 2 * 128);
    for (int i = 0; i < N; i++) {
        ck_assert_ptr_nonnull(slot[i]);
        ck_assert_uint_lt(slot[i]->index, count);
        ck_assert_ptr_eq(mt_slot_at(slot[i]->index), slot[i]);
        ck_assert_ptr_ne(slot[i], mt_slot_self());
        for (int j = 0; j < i; j++) {
            ck_assert_ptr_ne(slot[i], slot[j]);
            ck_assert_uint_ne(slot[i]->index, slot[j]->index);
            ck_assert_ptr_ne(slot[i]->rec_stack, slot[j]->rec_stack);
            ck_assert_ptr_ne(slot[i]->ring, slot[j]->ring);
        }
    }
}
END_TEST

static void *alt_stack_of_thread(void *arg)
{
    (void)arg;
    /* Without one: a sanitizer's runtime may have given the thread its own. */
    stack_t off = {.ss_flags = SS_DISABLE};
    if (sigaltstack(&off, NULL) != 0)
        return NULL;
    mt_slot_t *s = mt_slot_self();
    /* the kernel's answer: signals.c's sigaltstack, when linked in, tells the program it has
     * none where the slot's is the one set (tests/hostile/alt_stack.c) */
    stack_t cur;
    if (!s || syscall(SYS_sigaltstack, NULL, &cur) != 0 || (cur.ss_flags & SS_DISABLE))
        return NULL;
    return cur.ss_sp == s->alt_stack && cur.ss_size == MT_SLOT_ALT_STACK ? s : NULL;
}

START_TEST(a_thread_without_one_gets_the_slot_s_alternate_stack)
{
    pthread_t t;
    void *ok;
    ck_assert_int_eq(pthread_create(&t, NULL, alt_stack_of_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(t, &ok), 0);
    ck_assert_ptr_nonnull(ok);
}
END_TEST

typedef struct call_probe {
    uintptr_t frame;
    int called;
} call_probe_t;

static void record_frame(void *arg)
{
    call_probe_t *p = arg;
    volatile char here = 0;
    p->frame = (uintptr_t)&here;
    p->called = 1;
}

START_TEST(stack_call_runs_on_the_given_stack_and_returns)
{
    mt_slot_t *s = mt_slot_self();
    ck_assert_ptr_nonnull(s);
    call_probe_t p = {0, 0};
    uint8_t *top = s->rec_stack + MT_SLOT_REC_STACK;
    mt_stack_call(top, record_frame, &p);
    ck_assert_int_eq(p.called, 1);
    ck_assert(p.frame < (uintptr_t)top);
    ck_assert(p.frame >= (uintptr_t)top - 4096);
    /* and this frame is whole after the switch back */
    volatile int still = 42;
    ck_assert_int_eq(still, 42);
}
END_TEST

START_TEST(the_leak_scan_gets_the_program_s_stack_pointer)
{
    mt_slot_t *s = mt_slot_self();
    ck_assert_ptr_nonnull(s);
    uintptr_t on_rec = (uintptr_t)s->rec_stack + MT_SLOT_REC_STACK - 256;
    s->program_sp = 0x7ffc12345678;
    ck_assert_uint_eq(mt_slot_program_sp(on_rec), 0x7ffc12345678);
    ck_assert_uint_eq(mt_slot_program_sp(0x1000), 0x1000); /* elsewhere: unchanged */
    s->program_sp = 0;
    ck_assert_uint_eq(mt_slot_program_sp(on_rec), on_rec); /* not inside a hook */
}
END_TEST

MT_SUITE(.name = "thread_slots", .nofork = 1,
         .tests = MT_TESTS(the_first_chunk_holds_four_slots,
                           one_slot_per_thread_and_the_same_each_time,
                           slots_of_ended_threads_are_reused,
                           slots_of_threads_alive_at_once_span_growing_chunks,
                           a_thread_without_one_gets_the_slot_s_alternate_stack,
                           stack_call_runs_on_the_given_stack_and_returns,
                           the_leak_scan_gets_the_program_s_stack_pointer));

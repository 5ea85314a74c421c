// SPDX-License-Identifier: MIT
// The recorder's lock order (preload/base/lock_order.h), as debug builds check it: the real
// locks taken in order leave nothing held behind; taken out of order, the process aborts
// before it could deadlock. Meaningless with NDEBUG (the check is compiled out).
#include <check.h>

#include "check_main.h"
#include <signal.h>
#include <stdlib.h>

#include "base/lock_order.h"
#include "base/mt_libc.h"
#include "io/log_writer.h"
#include "record/modules.h"

#ifndef NDEBUG
START_TEST(in_order_leaves_nothing_held)
{
    ck_assert_uint_eq(mt_lock_held, 0);
    mt_rec_modules_lock();
    ck_assert_uint_eq(mt_lock_held, 1u << MT_LOCK_MODULES);
    mt_writer_lock();
    ck_assert_uint_eq(mt_lock_held, (1u << MT_LOCK_MODULES) | (1u << MT_LOCK_WRITER));
    void *p = mt_map(4096); /* the own-ranges spin lock, under both */
    ck_assert_ptr_nonnull(p);
    mt_unmap(p, 4096);
    mt_writer_unlock();
    mt_rec_modules_unlock();
    ck_assert_uint_eq(mt_lock_held, 0);
}
END_TEST

/* fork's prepare handler order, reversed: the writer thread's tick could wait for the modules
 * lock while this thread waits for the writer's. */
START_TEST(writer_then_modules_aborts)
{
    mt_writer_lock();
    mt_rec_modules_lock();
}
END_TEST

START_TEST(same_lock_twice_aborts)
{
    mt_writer_lock();
    mt_writer_lock();
}
END_TEST

/* A trylock never waits: the fatal-signal handler may try the writer lock its own thread
 * holds (it fails, and the handler goes on), which is no inversion. */
START_TEST(trylock_is_not_checked)
{
    mt_writer_lock();
    ck_assert(!mt_writer_trylock());
    mt_writer_unlock();
    ck_assert_uint_eq(mt_lock_held, 0);
}
END_TEST
#endif

#ifndef NDEBUG
MT_SUITE(.name = "lock_order",
         .tests = MT_TESTS(in_order_leaves_nothing_held, trylock_is_not_checked),
         .raising = MT_TESTS(writer_then_modules_aborts, same_lock_twice_aborts),
         .raise_signal = SIGABRT);
#else
MT_SUITE(.name = "lock_order");
#endif

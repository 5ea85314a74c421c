// SPDX-License-Identifier: MIT
// TSC-based CLOCK_MONOTONIC approximation for event times. Only used when CPUID reports an
// invariant TSC and reading it is cheap (it traps on some hypervisors); otherwise every read
// goes to clock_gettime. Never allocates, never blocks.
#include "base/clock.h"

#include <cpuid.h>

mt_clock_t mt_clock;

static int mt_clock_tsc_invariant(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
        return 0;
    __get_cpuid(0x80000007u, &a, &b, &c, &d);
    return (d >> 8) & 1;
}

static uint64_t mt_clock_rate(uint64_t tsc, uint64_t us)
{
    uint64_t dt = tsc - mt_clock.tsc0;
    return dt ? (uint64_t)(((mt_u128)(us - mt_clock.us0) << 32) / dt) : 0;
}

void mt_clock_init(void)
{
    mt_clock.mult = 0;
    if (!mt_clock_tsc_invariant())
        return;
    /* A trapping RDTSC costs microseconds: measure before trusting it. */
    uint64_t t0 = mt_now_us();
    for (int i = 0; i < 256; i++)
        (void)__builtin_ia32_rdtsc();
    if (mt_now_us() - t0 > 20)
        return;
    mt_clock.us0 = mt_now_us();
    mt_clock.tsc0 = __builtin_ia32_rdtsc();
    /* 200 us first estimate (0.5% at worst); the writer thread refines it at every tick. */
    uint64_t us;
    do
        us = mt_now_us();
    while (us - mt_clock.us0 < 200);
    __atomic_store_n(&mt_clock.mult, mt_clock_rate(__builtin_ia32_rdtsc(), us), __ATOMIC_RELAXED);
}

void mt_clock_recalibrate(void)
{
    if (!__atomic_load_n(&mt_clock.mult, __ATOMIC_RELAXED))
        return;
    uint64_t us = mt_now_us();
    uint64_t tsc = __builtin_ia32_rdtsc();
    __atomic_store_n(&mt_clock.mult, mt_clock_rate(tsc, us), __ATOMIC_RELAXED);
}

// SPDX-License-Identifier: MIT
// Event timestamps: CLOCK_MONOTONIC microseconds, read through the invariant TSC when the CPU
// has one (about 10 ns instead of 27 ns for the vDSO on a KVM clock; 8M reads on churn.c).
// Lock-free, allocation-free; calibrated against CLOCK_MONOTONIC by the writer thread.
#ifndef MT_CLOCK_H
#define MT_CLOCK_H

#include <stdint.h>

#include "base/mt_libc.h"

__extension__ typedef unsigned __int128 mt_u128;

typedef struct mt_clock {
    uint64_t tsc0, us0; /* reference point; fixed after init */
    uint64_t mult;      /* microseconds per TSC tick, 32.32 fixed point; 0: no TSC */
} mt_clock_t;

extern mt_clock_t mt_clock;

/* Decides whether the TSC is usable and takes a first short calibration. */
void mt_clock_init(void);
/* Refines the rate over the whole time since init (writer thread, every tick). */
void mt_clock_recalibrate(void);

static inline uint64_t mt_clock_us(void)
{
    uint64_t mult = __atomic_load_n(&mt_clock.mult, __ATOMIC_RELAXED);
    if (MT_UNLIKELY(mult == 0))
        return mt_now_us();
    uint64_t d = __builtin_ia32_rdtsc() - mt_clock.tsc0;
    return mt_clock.us0 + (uint64_t)(((mt_u128)d * mult) >> 32);
}

#endif

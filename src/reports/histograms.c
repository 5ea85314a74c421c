// SPDX-License-Identifier: MIT
// The histograms of `memtrace report` (see histograms.h): the replay's lifetimes by decimal
// digits folded into decades of milliseconds, its sizes by bit length as they are.
#include "histograms.h"

#include <string.h>

void mt_histograms_build(mt_histograms_t *h, const mt_replay_t *r)
{
    memset(h, 0, sizeof *h);
    /* digits of the lifetime in us: up to 3 is under 1 ms, 4 under 10 ms, ..., 7 or more 1 s */
    for (unsigned d = 0; d < MT_REPLAY_LIFETIME_DIGITS; d++) {
        unsigned i = d <= 3 ? 0 : d - 3 < MT_LIFETIME_BUCKETS ? d - 3 : MT_LIFETIME_BUCKETS - 1;
        h->lifetimes[i] += r->frees_by_lifetime_digits[d];
    }
    h->never_freed = r->heap_blocks;
    memcpy(h->sizes, r->allocs_by_size_bits, sizeof h->sizes);
}

const char *mt_histograms_lifetime_label(unsigned i)
{
    static const char *const l[MT_LIFETIME_BUCKETS] = {"<1ms", "<10ms", "<100ms", "<1s", ">=1s"};
    return i < MT_LIFETIME_BUCKETS ? l[i] : "?";
}

uint64_t mt_histograms_size_lo(unsigned i)
{
    return i ? 1ull << (i - 1) : 0;
}

uint64_t mt_histograms_size_hi(unsigned i)
{
    return i == 0 ? 0 : i == 64 ? UINT64_MAX : (1ull << i) - 1;
}

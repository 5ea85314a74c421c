// SPDX-License-Identifier: MIT
// Periodic SAMPLE records: RSS from /proc/self/statm and the allocator's view (mallinfo2).
// Runs on the writer thread only, outside the recorder lock. No allocation, no stdio.
#ifndef MT_SAMPLER_H
#define MT_SAMPLER_H

#include "log_format.h"

/* Fills s; fields it cannot read are 0. */
void mt_sampler_read(mt_sample_t *s);

#endif

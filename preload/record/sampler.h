// SPDX-License-Identifier: MIT
// Periodic SAMPLE records: RSS from /proc/self/statm and the allocator's view (mallinfo2).
// Runs on the writer thread only, outside the recorder lock. No allocation, no stdio.
#ifndef MT_SAMPLER_H
#define MT_SAMPLER_H

#include "log_format.h"

/* Fills s; fields it cannot read are 0. */
void mt_sampler_read(mt_sample_t *s);

/* The timer's sample (writer thread only): like mt_sampler_read, but the allocator's view is
 * read again only once the time since its last read is MT_SAMPLER_BUDGET times what that read
 * took; in between, s keeps its last values (RSS is read every time). */
void mt_sampler_read_tick(mt_sample_t *s);

#endif

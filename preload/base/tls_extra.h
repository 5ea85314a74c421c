// SPDX-License-Identifier: MIT
// The DTV glibc allocates for each new thread has one entry per module with thread-local
// storage: memtrace's own (and libunwind's, when only memtrace needs it) make it 32 bytes
// larger than without memtrace. Recording it at the size it has without memtrace keeps
// reports identical to the plain run's (issue 13.2). No allocation; read-only after init.
#ifndef MT_TLS_EXTRA_H
#define MT_TLS_EXTRA_H

#include <stddef.h>

/* Counts the TLS modules that are there only because of memtrace, and finds the loader. */
void mt_tls_init(void);

/* Entries memtrace added to every DTV (0 when none, or unknown). */
extern size_t mt_tls_extra;

/* For calloc(n, 16) returning to ret: the number of entries to record. A DTV (calloc'd by
 * the loader with 16-byte entries) is recorded without memtrace's entries; anything else as n. */
size_t mt_tls_dtv_entries(size_t n, const void *ret);

#endif

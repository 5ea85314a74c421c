// SPDX-License-Identifier: MIT
// Number formatting for people: binary units (12.4 MiB), thousands separators (1,234,567),
// times (00:12.4). Locale-independent on purpose: reports must read the same everywhere and
// tests compare them byte for byte. Writes into caller buffers, never allocates.
#ifndef MT_FMT_H
#define MT_FMT_H

#include <stddef.h>
#include <stdint.h>

/* "0 B", "999 B", "1.0 KiB", "12.4 MiB", "3.00 GiB" (3 significant digits from KiB on). */
const char *mt_fmt_bytes(char *buf, size_t len, uint64_t bytes);
/* "1,234,567" */
const char *mt_fmt_count(char *buf, size_t len, uint64_t n);
/* "12.4 MiB (13,002,342 B)"; below 1 KiB just "812 B". Returns buf. */
const char *mt_fmt_bytes_exact(char *buf, size_t len, uint64_t v);
/* "mm:ss.t" (tenths), or "h:mm:ss.t" from one hour on. */
const char *mt_fmt_clock(char *buf, size_t len, uint64_t us);
/* "0.512 s", "12.3 s", "1234 s" */
const char *mt_fmt_seconds(char *buf, size_t len, uint64_t us);

#endif

// SPDX-License-Identifier: MIT
// The index of a log (docs/index.md): the whole analysis of a finished log, saved by the
// first command that reads it, beside the log (.LOG.idx, hidden) or in the cache directory, so that
// later commands load it instead of replaying every event. Only a cache: any doubt about it
// (other log size, time or bytes, other build, bad checksum) is a miss, never an error.
#ifndef MT_LOG_INDEX_H
#define MT_LOG_INDEX_H

#include "analysis.h"

/* Version of the index file; bump when what it holds changes meaning (a change of the
 * structures it copies already changes MT_INDEX_LAYOUT, a hash of their headers). */
#define MT_INDEX_VERSION 4u

/* False when MEMTRACE_INDEX is set to 0 (or "no", "off"): no index is read or written. */
int mt_index_enabled(void);

/* The whole-log analysis of path (as mt_analysis_load gives it) from its index: 1 with *out
 * set, 0 when there is no usable index (none, stale, corrupt, other build, no memory). */
int mt_index_load(mt_analysis_t **out, const char *path) MT_WUR;

/* Saves a, the whole-log analysis of path (no window, no thread filter, not followed), as
 * path's index: beside the log (DIR/.NAME.idx) when its directory is writable, else in the cache
 * directory
 * ($MEMTRACE_INDEX_DIR, else $XDG_CACHE_HOME/memtrace/index, else ~/.cache/memtrace/index).
 * A log without its end (EXIT record) or cut is not indexed: it may still grow. Written to a
 * temporary file and renamed, so a reader never sees half an index. 0 or a negative errno,
 * which callers may ignore. */
int mt_index_save(const mt_analysis_t *a, const char *path) MT_WUR;

/* The same for a selection of the log (a --from/--to window, --thread values; w NULL or not
 * on and f NULL or empty: the whole log, as above), as mt_analysis_load_window gives it: kept
 * in one of a few slots per log (.LOG.wK.idx), so that the next command over the same window
 * and threads loads it instead of reading the log. A window that stopped at its end is saved
 * even when the log goes on without an EXIT record: it read no further. */
int mt_index_load_sel(mt_analysis_t **out, const char *path, const mt_window_t *w,
                      const mt_thread_filter_t *f) MT_WUR;
int mt_index_save_sel(const mt_analysis_t *a, const char *path, const mt_window_t *w,
                      const mt_thread_filter_t *f) MT_WUR;

/* Where path's index is read from (beside the log, then the cache directory): 0 with the
 * file's name in buf, -ENOENT when there is none. For tests and `memtrace logstats`. */
int mt_index_find(const char *path, char *buf, size_t len) MT_WUR;

#endif

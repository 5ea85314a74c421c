// SPDX-License-Identifier: MIT
// Loaded-module tracking: MODULE_LOAD for every object dl_iterate_phdr reports (path, bias,
// build-id, PT_LOAD segments) and MODULE_UNLOAD when one disappears; ids are never reused
// within a log. Never encodes while the loader lock is held (copies first, then emits).
#ifndef MT_MODULES_H
#define MT_MODULES_H

#include <stdbool.h>

#include "base/mt_libc.h"

MT_WUR int mt_rec_modules_init(void);
/* Scans and emits the differences; returns true when a module went away (the caller must
 * then forget trace-tree mappings and libunwind caches). */
bool mt_rec_modules_rescan(void);
/* Cheap: rescans only when the loader's add/remove counters moved since the last scan. */
bool mt_rec_modules_poll(void);
/* Forked child (new log): re-emits every module with fresh ids, without dl_iterate_phdr. */
void mt_rec_modules_child_reemit(void);
/* fork prepare/parent handlers: the module lock is taken before the recorder lock. */
void mt_rec_modules_lock(void);
void mt_rec_modules_unlock(void);
/* In a child that no fork handler prepared (a raw clone): whoever held the lock is gone. */
void mt_rec_modules_lock_reset(void);

#endif

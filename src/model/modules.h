// SPDX-License-Identifier: MIT
// The table of modules (executable and shared objects) the log says were loaded, and the
// lookup of an address in the modules loaded at one moment. Module ids are never reused, so a
// module stays in the table after it is unloaded (old stacks still refer to it).
// It never touches the files themselves: that is the symbolizer's job.
#ifndef MT_MODULES_H
#define MT_MODULES_H

#include <stddef.h>
#include <stdint.h>

#include "log_reader.h"

#define MT_NO_MODULE UINT32_MAX

typedef struct mt_module {
    uint64_t id; /* the log's module id */
    char *path;
    const char *basename; /* points into path */
    uint64_t bias;        /* load bias (l_addr): runtime address = bias + p_vaddr */
    uint8_t *build_id;
    size_t build_id_len;
    mt_segment_t *segs;
    size_t nsegs;
    int loaded;
    /* memtrace's own preload library (libmemtrace_preload*): its frames are the recorder's.
     * Said once here, not by a string compare at every frame of every stack walked (clang's
     * log: 5.8 million compares in one report, as stacks go from one library to another). */
    int memtrace_own;
    /* Index of the first module of the same file (same path, build-id and segments): a
     * library loaded again after dlclose, maybe at another address, is the same code, so its
     * frames symbolize and merge as the first load's. Its own index when it is the first. */
    uint32_t canonical;
    size_t nranges; /* internal: address ranges it added (segments that are not empty) */
} mt_module_t;

typedef struct mt_modules mt_modules_t;

int mt_modules_new(mt_modules_t **out) MT_WUR;
void mt_modules_free(mt_modules_t *m);

/* MODULE_LOAD. -EEXIST when the id was already loaded (corrupt log), -ENOMEM. */
int mt_modules_load(mt_modules_t *m, const mt_record_t *rec) MT_WUR;
/* MODULE_UNLOAD. -ENOENT for an unknown id. */
int mt_modules_unload(mt_modules_t *m, uint64_t id) MT_WUR;

/* Index (0..count-1) of the loaded module whose PT_LOAD segment holds addr, or MT_NO_MODULE.
 * This is the instance loaded now (its bias turns addr into a file offset); reports use its
 * ->canonical index. */
uint32_t mt_modules_find(mt_modules_t *m, uint64_t addr);

size_t mt_modules_count(const mt_modules_t *m);
/* By index, 0..count-1 (indices are stable). */
const mt_module_t *mt_modules_get(const mt_modules_t *m, uint32_t index);

#endif

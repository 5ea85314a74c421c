// SPDX-License-Identifier: MIT
// A module record of two segments (r-x at 0, rw- at 0x3000), loaded into a module table: the
// input of the module and trace-node tables' unit tests.
#ifndef MT_TEST_MODULE_RECORD_H
#define MT_TEST_MODULE_RECORD_H

#include <string.h>

#include "modules.h"

static inline int load(mt_modules_t *m, uint64_t id, uint64_t bias, const char *path)
{
    static const mt_segment_t segs[2] = {{0, 0x1000, 5}, {0x3000, 0x800, 6}};
    mt_record_t rec;
    memset(&rec, 0, sizeof rec);
    rec.tag = MT_TAG_MODULE_LOAD;
    rec.id = id;
    rec.ip = bias;
    rec.str = (mt_str_t){path, strlen(path)};
    rec.build_id = (mt_str_t){"\xab\xcd", 2};
    rec.segs = segs;
    rec.nsegs = 2;
    return mt_modules_load(m, &rec);
}

#endif

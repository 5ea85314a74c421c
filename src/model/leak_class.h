// SPDX-License-Identifier: MIT
// The leak check's verdict as the log carries it (LEAK_SCAN, LEAK_BLOCK..., LEAK_SCAN_END):
// replayed against the live-block map and frozen at LEAK_SCAN_END into per (stack, kind)
// aggregates. Bad input (a block that is not live, listed twice, a wrong count) is counted as
// an inconsistency and skipped, never trusted and never fatal.
#ifndef MT_LEAK_CLASS_H
#define MT_LEAK_CLASS_H

#include <stddef.h>
#include <stdint.h>

#include "log_reader.h"
#include "replay.h"

/* Same numbers as the LEAK_BLOCK kind field; reachable is "not listed". */
enum mt_leaks_kind {
    MT_LEAKS_DEFINITE = 0,
    MT_LEAKS_INDIRECT = 1,
    MT_LEAKS_POSSIBLE = 2,
    MT_LEAKS_REACHABLE = 3,
    MT_LEAKS_UNCLASSIFIED = 4, /* the log has no (complete) leak scan */
    MT_LEAKS_NKINDS = 5,
};

/* Live blocks of one trace node and one kind at the end of the scan. */
typedef struct mt_leak_group {
    uint32_t node;
    uint32_t kind;
    uint64_t bytes, blocks;
    uint64_t indirect_bytes; /* definite only: bytes of the indirect blocks they own */
} mt_leak_group_t;

typedef struct mt_leakclass_entry {
    uint64_t addr; /* 0 = empty */
    uint64_t extra;
    uint32_t kind;
} mt_leakclass_entry_t;

typedef struct mt_leakclass {
    int complete; /* a scan ended with LEAK_SCAN_END: the fields below describe it */
    int in_scan;  /* between LEAK_SCAN and LEAK_SCAN_END */
    uint64_t scans;
    uint64_t scan_time_us, scan_blocks, threads_stopped, threads_missed, root_bytes;
    uint64_t replay_blocks;   /* live blocks in the replay at LEAK_SCAN */
    uint64_t listed;          /* LEAK_BLOCK records of the current scan */
    uint64_t inconsistencies; /* records that disagree with the replay or with each other */
    uint64_t bytes[MT_LEAKS_NKINDS], blocks[MT_LEAKS_NKINDS];
    mt_leak_group_t *groups; /* sorted by node, then kind */
    size_t ngroups;

    mt_leakclass_entry_t *tab; /* during a scan: addr -> verdict, open addressing */
    uint64_t tab_mask;
    size_t tab_n;
} mt_leakclass_t;

void mt_leakclass_init(mt_leakclass_t *c);
void mt_leakclass_destroy(mt_leakclass_t *c);

/* Record handlers; 0 or -ENOMEM. */
int mt_leakclass_scan(mt_leakclass_t *c, const mt_replay_t *r, const mt_record_t *rec) MT_WUR;
int mt_leakclass_block(mt_leakclass_t *c, const mt_replay_t *r, const mt_record_t *rec) MT_WUR;
int mt_leakclass_end(mt_leakclass_t *c, const mt_replay_t *r, const mt_record_t *rec) MT_WUR;

/* "definite", "indirect", "possible", "reachable", "unclassified" (NULL past the end). */
const char *mt_leakclass_kind_name(unsigned kind);
/* Parses one kind name (also "all" is not a kind: see mt_leakclass_parse_kinds). -1 if unknown. */
int mt_leakclass_kind_parse(const char *s, size_t len);
/* "definite,possible" or "all" or "none" -> bit mask (1u << kind). 0 or -EINVAL, with the bad
 * word copied to bad (NUL-terminated, truncated to badlen). */
int mt_leakclass_parse_kinds(const char *list, unsigned *mask, char *bad, size_t badlen) MT_WUR;

#endif

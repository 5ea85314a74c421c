// SPDX-License-Identifier: MIT
// What a log says about a Python interpreter in the traced process: its version, the code
// objects and locations behind the Python frames of trace nodes, the end-of-script marker (with
// what was live at that moment, per node) and the pymalloc arenas. Filled during the analysis
// pass; read by sites (frames) and by the leak and fragmentation reports. No terminal I/O.
#ifndef MT_PYTHON_INFO_H
#define MT_PYTHON_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "log_reader.h"
#include "modules.h"
#include "replay.h"

typedef struct mt_pycode_info {
    char *qualname, *file; /* NULL for ids never defined */
    uint32_t firstlineno;
} mt_pycode_info_t;

typedef struct mt_pyloc_info {
    uint32_t code; /* 0: undefined */
    uint32_t line;
} mt_pyloc_info_t;

typedef struct mt_pyarena {
    uint64_t addr, size;
} mt_pyarena_t;

/* How full the pymalloc arenas are: live requested bytes of small PyMem/PyObject blocks
 * (mt_pyinfo_in_arena, replay.h) inside each arena, over the arena's size. */
typedef struct mt_pyarena_usage {
    int valid;
    uint64_t time_us;
    uint64_t arenas, arena_bytes;
    uint64_t used_bytes, blocks; /* live small blocks inside the arenas */
    uint64_t fullness[4];        /* arenas by used share: <25%, <50%, <75%, >=75% */
} mt_pyarena_usage_t;

typedef struct mt_pyinfo {
    int present; /* a PY_INTERP record was seen */
    unsigned major, minor, flags;
    uint64_t eval_lo, eval_hi;
    uint32_t interp_module;  /* module holding the interpreter loop, or MT_NO_MODULE */
    mt_pycode_info_t *codes; /* by id */
    uint32_t ncodes;
    mt_pyloc_info_t *locs; /* by id */
    uint32_t nlocs;
    /* end of the script (PY_SCRIPT_END): live heap per node at that moment */
    int script_end;
    uint64_t script_end_us;
    uint64_t end_heap_bytes, end_heap_blocks;
    uint64_t *end_bytes, *end_blocks; /* by node id, nend entries */
    uint32_t nend;
    /* pymalloc arenas, live now (sorted by address when read through mt_pyinfo_arenas) */
    mt_pyarena_t *arenas;
    size_t narenas, arenas_cap;
    uint64_t arena_allocs, arena_frees;
    uint64_t arena_bytes, arena_peak_bytes, arena_peak_count;
    mt_pyarena_usage_t end_arenas; /* at the end of the script, when the log has it */
    /* The allocator's view at the end of the script: the SAMPLE the recorder writes just
     * before the marker (or the last one before it, in older logs); valid when sampled. */
    int end_sampled;
    mt_sample_point_t end_sample;
    /* The small blocks in glibc's heap (not in pymalloc's arenas) live at the end of the
     * script, copied, so that holes and pinning can be told at that moment. */
    mt_block_t *end_heap_v;
    size_t end_heap_n;
} mt_pyinfo_t;

void mt_pyinfo_init(mt_pyinfo_t *p);
void mt_pyinfo_destroy(mt_pyinfo_t *p);

/* A PY_* record. -EINVAL for a corrupt one (an id far beyond the ones seen), -ENOMEM. */
int mt_pyinfo_record(mt_pyinfo_t *p, const mt_record_t *rec, mt_modules_t *mods,
                     const mt_replay_t *r) MT_WUR;

/* The Python frame of a trace-node ip with MT_PY_IP_BIT: 0 and the fields, or -ENOENT when the
 * location or its code was never defined (a log cut between them). */
int mt_pyinfo_frame(const mt_pyinfo_t *p, uint64_t ip, const char **qualname, const char **file,
                    uint32_t *line);

/* Arena usage now (the replay's live blocks against the live arenas). 0 or -ENOMEM. */
int mt_pyinfo_arena_usage(const mt_pyinfo_t *p, const mt_replay_t *r, uint64_t time_us,
                          mt_pyarena_usage_t *out) MT_WUR;

#endif

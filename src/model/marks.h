// SPDX-License-Identifier: MIT
// Marks: the named points in time a program set with memtrace_mark (include/memtrace.h),
// recorded as NOTICE records of code MARK. Kept in log order; names are copies. No I/O here.
#ifndef MT_MARKS_H
#define MT_MARKS_H

#include <stddef.h>
#include <stdint.h>

#ifndef MT_WUR
#define MT_WUR __attribute__((warn_unused_result))
#endif

typedef struct mt_mark {
    char *name;       /* NUL-terminated copy (a name may repeat: each call is a mark) */
    uint64_t time_us; /* since the log's start */
} mt_mark_t;

typedef struct mt_marks {
    mt_mark_t *v; /* in log order, which is time order */
    size_t n, cap;
} mt_marks_t;

/* Appends a mark (name: len bytes, no NUL needed). 0 or -ENOMEM. */
int mt_marks_add(mt_marks_t *m, const char *name, size_t len, uint64_t time_us) MT_WUR;
void mt_marks_free(mt_marks_t *m);

/* The place in m->v of the first mark called name, or -ENOENT. For --from/--to windows that
 * name a mark (the window can end right after that mark's record). */
long mt_marks_find(const mt_marks_t *m, const char *name) MT_WUR;

#endif

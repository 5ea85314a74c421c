// SPDX-License-Identifier: MIT
// The names of a log's threads, from its THREAD_NAME records: the last name each thread was
// given is its name (a thread renamed twice is listed under the second). Memory is bounded by
// the number of threads. No terminal I/O.
#ifndef MT_THREAD_NAMES_H
#define MT_THREAD_NAMES_H

#include <stddef.h>
#include <stdint.h>

#ifndef MT_WUR
#define MT_WUR __attribute__((warn_unused_result))
#endif

typedef struct mt_tname {
    uint64_t tid;
    char *name; /* NUL-terminated copy; NULL: empty slot */
} mt_tname_t;

typedef struct mt_thread_names {
    mt_tname_t *v; /* open addressing by tid */
    size_t mask, n;
} mt_thread_names_t;

/* Thread tid is called name (len bytes, cut at the first NUL) from now on. 0 or -ENOMEM. */
int mt_tnames_set(mt_thread_names_t *t, uint64_t tid, const char *name, size_t len) MT_WUR;
/* The last name of tid, NULL when it was never named. */
const char *mt_tnames_get(const mt_thread_names_t *t, uint64_t tid);
void mt_tnames_destroy(mt_thread_names_t *t);

/* True when s is a thread id as --thread takes one: decimal digits only, at most 10. */
int mt_tnames_is_tid(const char *s, uint64_t *tid);

#endif

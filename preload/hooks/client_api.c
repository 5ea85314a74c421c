// SPDX-License-Identifier: MIT
// The client API of include/memtrace.h: the program reports the blocks of its own allocator
// (kind CUSTOM) and marks moments of its run. The program calls these directly (weak symbols
// in the header), from any thread, at any time, so each behaves like a hook: reentrancy
// guard, errno kept, nothing recorded before the recorder started or after it stopped. No
// allocation, no stdio here.
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "base/mt_libc.h"
#include "base/signal_defer.h"
#include "record/recorder.h"

/* Marks longer than this are cut: a name, not a payload. */
#define MT_MARK_MAX 255

/* True when this call may record: the recorder runs and this thread is not inside memtrace. */
static inline int mt_api_wanted(void)
{
    return !mt_guard && mt_rec.inited && mt_rec_active();
}

MT_EXPORT void memtrace_api_alloc(void *p, size_t size);
MT_EXPORT void memtrace_api_free(void *p);
MT_EXPORT void memtrace_api_mark(const char *name);

/* The stack recorded is the caller's: the unwinder drops memtrace's own frames, so it starts
 * in the program's allocator, the function that called memtrace_alloc. */
MT_EXPORT void memtrace_api_alloc(void *p, size_t size)
{
    if (!p || !mt_api_wanted())
        return;
    int saved = errno;
    mt_guard = 1;
    /* mt_rec_alloc reads no allocator metadata for this kind (it is no glibc chunk). */
    mt_rec_alloc(MT_ALLOC_CUSTOM, p, size);
    mt_guard_leave();
    errno = saved;
}

MT_EXPORT void memtrace_api_free(void *p)
{
    if (!p || !mt_api_wanted())
        return;
    int saved = errno;
    mt_guard = 1;
    /* usable 0: custom blocks are not in the glibc heap total (recorder.h) */
    mt_rec_free(MT_TAG_CUSTOM_FREE, p, 0);
    mt_guard_leave();
    errno = saved;
}

/* A NOTICE of code MARK: a timed record with a text, which is all a mark is. */
MT_EXPORT void memtrace_api_mark(const char *name)
{
    if (!name || !mt_api_wanted())
        return;
    int saved = errno;
    mt_guard = 1;
    char buf[MT_MARK_MAX + 1];
    size_t len = strnlen(name, MT_MARK_MAX);
    memcpy(buf, name, len);
    buf[len] = '\0';
    mt_rec_notice(MT_NOTICE_MARK, buf);
    mt_guard_leave();
    errno = saved;
}

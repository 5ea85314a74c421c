// SPDX-License-Identifier: MIT
// Which frames at the top of an allocation stack belong to memtrace or to the allocator
// (operator new, std::allocator internals, glibc malloc) and are hidden from reports, so the
// innermost frame shown is the user's code that asked for memory. Pure string matching.
#ifndef MT_FRAME_FILTER_H
#define MT_FRAME_FILTER_H

#include "modules.h"
#include "symbolizer.h"

/* True when m (may be NULL) is memtrace's own recorder library. */
int mt_filter_is_memtrace_module(const mt_module_t *m);

/* True when f (with its module m, may be NULL) is memtrace's own or an allocator frame. */
int mt_filter_is_allocator_frame(const mt_frame_t *f, const mt_module_t *m);

/* Number of frames to drop from the top (innermost end) of frames[0..n). */
size_t mt_filter_top(const mt_frame_t *frames, size_t n, const mt_modules_t *mods);

/* True when f (module m, may be NULL) is in the user's own source: it has a file and line,
 * outside the system headers and the C++ library, in a module that is not the C library, the
 * C++ library, the dynamic loader or memtrace. Where a report says "allocated at". */
int mt_filter_is_user_frame(const mt_frame_t *f, const mt_module_t *m);

/* Index of the innermost user frame of frames[0..n), or -1 when there is none. */
long mt_filter_first_user(const mt_frame_t *frames, size_t n, const mt_modules_t *mods);

#endif

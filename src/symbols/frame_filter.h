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

/*
 * A stack walked from its innermost node out: memtrace's own frames on top go with the
 * allocator's (mt_filter_top); under the program's first frame they are the recorder's main()
 * wrapper and never shown. The module test is made once per run of frames of one module.
 */
typedef struct mt_filter_walk {
    uint32_t module;
    int known, ours;
    int below_top; /* a frame of the program has been met */
} mt_filter_walk_t;

/* True when the walk skips the next frame, of module; zero-initialise w before the walk. */
static inline int mt_filter_walk_skip(mt_filter_walk_t *w, const mt_modules_t *mods,
                                      uint32_t module)
{
    if (!w->known || module != w->module) {
        w->known = 1;
        w->module = module;
        w->ours = mt_filter_is_memtrace_module(mt_modules_get(mods, module));
    }
    if (w->ours && w->below_top)
        return 1;
    w->below_top |= !w->ours;
    return 0;
}

/* Number of frames to drop from the top (innermost end) of frames[0..n). */
size_t mt_filter_top(const mt_frame_t *frames, size_t n, const mt_modules_t *mods);

/* True when f (module m, may be NULL) is in the user's own source: it has a file and line,
 * outside the system headers and the C++ library, in a module that is not the C library, the
 * C++ library, the dynamic loader or memtrace. Where a report says "allocated at". */
int mt_filter_is_user_frame(const mt_frame_t *f, const mt_module_t *m);

/* Index of the innermost user frame of frames[0..n), or -1 when there is none. */
long mt_filter_first_user(const mt_frame_t *frames, size_t n, const mt_modules_t *mods);

#endif

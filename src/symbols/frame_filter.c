// SPDX-License-Identifier: MIT
// Allocator-frame filter (see frame_filter.h). Only the top of a stack is trimmed: an
// allocator function called from the middle of user code is real information and stays.
// Names are matched on their demangled prefix, which covers the nothrow/aligned variants.
#include "frame_filter.h"

#include <string.h>

static int mt_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Anywhere: C++ allocation entry points and the standard allocator plumbing. */
static const char *const mt_cxx_prefixes[] = {
    "operator new", /* new, new[], nothrow, align_val_t variants */
    "__gnu_cxx::new_allocator<",
    "std::__new_allocator<", /* GCC 12+ */
    "std::allocator<",
    "std::allocator_traits<",
    "__gnu_cxx::__alloc_traits<",
    "std::__allocate_guarded",
    NULL,
};

/* Only inside the C library: its malloc family and internals. A program's own function called
 * "malloc_wrapper" or even "malloc" in its own module is user code. */
static const char *const mt_libc_names[] = {
    "malloc",
    "calloc",
    "realloc",
    "reallocarray",
    "free",
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "valloc",
    "pvalloc",
    "__libc_malloc",
    "__libc_calloc",
    "__libc_realloc",
    "__libc_memalign",
    "__libc_valloc",
    "__libc_pvalloc",
    "__posix_memalign",
    "_int_malloc",
    "_int_realloc",
    "_int_memalign",
    "_mid_memalign",
    "sysmalloc",
    "tcache_init",
    "mmap",
    "mmap64",
    "__mmap",
    "mremap",
    "__mremap",
    "munmap",
    "__munmap",
    NULL,
};

/* Anywhere: the inline wrappers of include/memtrace.h (a frame of their own at -O0, an
 * inlined one otherwise). A custom block's stack starts at the program's allocator. */
static const char *const mt_api_names[] = {
    "memtrace_alloc",
    "memtrace_realloc",
    NULL,
};

int mt_filter_is_memtrace_module(const mt_module_t *m)
{
    return m && m->memtrace_own;
}

int mt_filter_is_allocator_frame(const mt_frame_t *f, const mt_module_t *m)
{
    if (mt_filter_is_memtrace_module(m))
        return 1;
    if (!f->function)
        return 0;
    for (size_t i = 0; mt_cxx_prefixes[i]; i++)
        if (mt_starts(f->function, mt_cxx_prefixes[i]))
            return 1;
    for (size_t i = 0; mt_api_names[i]; i++)
        if (strcmp(f->function, mt_api_names[i]) == 0)
            return 1;
    if (m && (mt_starts(m->basename, "libc.so") || mt_starts(m->basename, "libc-"))) {
        for (size_t i = 0; mt_libc_names[i]; i++)
            if (strcmp(f->function, mt_libc_names[i]) == 0)
                return 1;
    }
    return 0;
}

int mt_filter_is_user_frame(const mt_frame_t *f, const mt_module_t *m)
{
    if (!f->file || !f->line || mt_starts(f->file, "/usr/include/") ||
        strstr(f->file, "/libstdc++") || strstr(f->file, "/c++/"))
        return 0;
    const char *b = m ? m->basename : "";
    return !(mt_starts(b, "libc.so") || mt_starts(b, "libc-") || mt_starts(b, "libstdc++") ||
             mt_starts(b, "libmemtrace") || mt_starts(b, "ld-linux"));
}

long mt_filter_first_user(const mt_frame_t *frames, size_t n, const mt_modules_t *mods)
{
    for (size_t i = 0; i < n; i++)
        if (mt_filter_is_user_frame(&frames[i], mt_modules_get(mods, frames[i].module)))
            return (long)i;
    return -1;
}

size_t mt_filter_top(const mt_frame_t *frames, size_t n, const mt_modules_t *mods)
{
    size_t k = 0;
    while (k < n &&
           mt_filter_is_allocator_frame(&frames[k], mt_modules_get(mods, frames[k].module)))
        k++;
    /* A stack made only of allocator frames (no unwind beyond the hook) keeps them: an empty
     * stack would say less than "inside malloc". */
    return k == n ? 0 : k;
}

// SPDX-License-Identifier: MIT
// Cache of uncompressed separate debug files (issue 20): a debug file whose DWARF sections are
// compressed (libc6-dbg's are) is inflated once into $XDG_CACHE_HOME/memtrace/debug/ID.debug
// and mapped from there by every later open. It must never change an answer: any failure, or
// any entry it cannot prove current, leaves the original file in use.
#ifndef MT_DEBUG_CACHE_H
#define MT_DEBUG_CACHE_H

#include <elfutils/libdwfl.h>
#include <stddef.h>
#include <stdint.h>

/* FD is open on the debug file *NAME (malloc'd, as libdwfl's find_debuginfo callback returns
 * them). When that file has compressed sections and the cache has, or can now make, a valid
 * uncompressed copy, closes FD, replaces *NAME by the copy's path and returns an fd on the
 * copy; otherwise returns FD untouched. MEMTRACE_DEBUG_CACHE=0 turns it off. */
int mt_debug_cache_swap(int fd, char **name);

/* The uncompressed copy of the debug file PATH, as mt_debug_cache_swap finds or makes it: an
 * fd on it and its path in *NAME (malloc'd); -1 when PATH cannot be opened, -2 when PATH is
 * there but has no copy to use (its sections are not compressed, or the cache is off or
 * cannot make one): then PATH itself is the file to read. */
int mt_debug_cache_open(const char *path, char **name);

/* /usr/lib/debug/.build-id/ab/cdef.debug into PATH for build-id abcdef (LEN bytes, 2 to 64;
 * SIZE at least 2 * LEN + 32): 0, or -1 when it does not fit. */
int mt_debug_build_id_path(char *path, size_t size, const unsigned char *id, size_t len);

/* The file a cache entry was made from, when PATH is one (for libdwfl's relative lookups, such
 * as a .gnu_debugaltlink, that must start from the original's directory): 0 and OUT filled,
 * or a negative errno. */
int mt_debug_cache_origin(const char *path, char *out, size_t size)
    __attribute__((warn_unused_result));

/* The cache's cap in bytes (MEMTRACE_DEBUG_CACHE_MAX, default 1 GiB): each time a copy is
 * added, the least recently used others are deleted until the copies fit it. */
uint64_t mt_debug_cache_max(void);

/* libdwfl's find_debuginfo callback, for Dwfl_Callbacks: the module's debug file as
 * dwfl_standard_find_debuginfo finds it, or its uncompressed copy when the cache has or can
 * make one. libdwfl's own search keeps a handle on the file it validates, and libdw would read
 * that one whatever the callback returns: so the copy is looked for under the module's
 * build-id first, and the search otherwise runs on a throw-away copy of the module. */
int mt_debug_cache_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
                                  GElf_Addr base, const char *file_name, const char *debuglink_file,
                                  GElf_Word debuglink_crc, char **debuginfo_file_name);

#endif

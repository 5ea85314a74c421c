// SPDX-License-Identifier: MIT
// Directories memtrace makes for its caches (the debug cache, the index cache).
#ifndef MT_DIRS_H
#define MT_DIRS_H

/* mkdir -p of dir, each level it creates private to the user (0700, as the XDG base directory
 * specification asks of cache directories); levels that exist are left as they are. 0 or a
 * negative errno (-ENAMETOOLONG for a path of PATH_MAX bytes or more). */
int mt_mkdirs_private(const char *dir);

#endif

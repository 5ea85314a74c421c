// SPDX-License-Identifier: MIT
// Reading /proc text files in the leak scan, where other threads may be stopped holding the
// malloc and stdio locks: raw system calls and a caller's buffer only, never stdio or malloc.
#ifndef MT_PROC_TEXT_H
#define MT_PROC_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* The lower-case hexadecimal number at *p; *p is left on the first other character. */
uintptr_t mt_proc_hex(const char **p);

/* Calls fn on each line of path (without its newline) read through buf (cap bytes; a line
 * longer than that is dropped). 0, or -errno when path cannot be opened. */
int mt_proc_lines(const char *path, char *buf, size_t cap, void (*fn)(const char *line, void *ctx),
                  void *ctx);

#endif

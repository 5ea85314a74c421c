// SPDX-License-Identifier: MIT
// Whether a program about to be exec'd is built with a sanitizer whose shared runtime must be
// the first library loaded (gcc's -fsanitize=address, thread, leak): with memtrace's library
// preloaded before it, such a program aborts or crashes at start. Allocation-free: runs in the
// exec hooks with the recorder held.
#ifndef MT_EXEC_SANITIZER_H
#define MT_EXEC_SANITIZER_H

#include <stdbool.h>

/* The sanitizer's name ("AddressSanitizer") when file needs one of those runtimes, else NULL.
 * file is what exec was given: a path, or (search true) a name looked up in PATH as execvp
 * does. Files that cannot be read, scripts and static programs give NULL. */
const char *mt_exec_sanitizer(const char *file, bool search);

#endif

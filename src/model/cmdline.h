// SPDX-License-Identifier: MIT
// A recorded argv as one command line a person can read and paste into a shell: arguments
// that a shell would split or expand are single-quoted ("sh -c 'exec ./a'"). Pure string work.
#ifndef MT_CMDLINE_H
#define MT_CMDLINE_H

#include <stddef.h>

/* The joined command line, malloc'ed ("" for argc 0); NULL on ENOMEM. Control characters stay
 * as they are: the text renderers escape them, JSON has its own escaping. */
char *mt_cmdline_join(char *const *argv, size_t argc);

#endif

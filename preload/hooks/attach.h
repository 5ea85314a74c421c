// SPDX-License-Identifier: MIT
// Late start for `memtrace attach` (attach.c): called by the hooks' constructor, before and
// after the hooks resolve the real functions. Both do nothing when the library was preloaded.
#ifndef MT_ATTACH_H
#define MT_ATTACH_H

#include <stdbool.h>

/* True when this is a late start with its settings file: recording has begun (mt_life_init
 * with the file's settings, ORIGIN ATTACH, no Python allocator domains). */
bool mt_attach_prepare(void);
/* Patches the GOT and starts the thread that waits for the stop (after the hooks resolved). */
void mt_attach_start(void);

#endif

// SPDX-License-Identifier: MIT
// The log's directory and the run's manifest, kept open from just before the program changes
// its root (chroot) or gives up root (setuid and kin), so that what memtrace writes afterwards
// still reaches them where their paths no longer lead: the logs of the children it forks, their
// manifest lines, and the reopening of a log whose descriptor the program took. Raw syscalls,
// no allocation; nothing is kept by a program that does neither.
#ifndef MT_LOG_DIR_H
#define MT_LOG_DIR_H

#include <stdbool.h>

/* Called just before a chroot or (user true) a change of user (hooks.c): keeps a descriptor
 * of the directory of log (the current log's path) and one of the manifest, once per
 * process. */
void mt_logdir_keep(const char *log, bool user);

/* True once this process (or the one it was forked from) changed its user. */
bool mt_logdir_user_changed(void);

/* True once this process (or the one it was forked from) kept them: it changed its root or
 * its user, and memtrace's library may not be found by the programs it runs. */
bool mt_logdir_kept(void);

/* open() of path, a log or the manifest: through what was kept, when path is in the kept
 * directory or is the kept manifest and that descriptor is still what it was (the program may
 * have closed it and reused the number); else by path. The descriptor, or -errno. */
long mt_logdir_open(const char *path, int flags, int mode);

/* Whether a file of that name exists (through the kept directory, as mt_logdir_open). */
bool mt_logdir_exists(const char *path);

#endif

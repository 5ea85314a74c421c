// SPDX-License-Identifier: MIT
// The link between the logs of one process across exec: the old image names the log the new
// one will write (NEXT_LOG) and tells it, through the environment of the exec, which log it
// wrote itself (ORIGIN). Runs inside exec hooks with the recorder held: no malloc, no stdio.
#ifndef MT_EXEC_LINK_H
#define MT_EXEC_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "base/mt_libc.h"

/* True when envp preloads the recorder: the new image will be recorded, and only then does
 * it get a link (a program started with a cleaned environment sees no variable of ours). */
bool mt_exec_link_wanted(char *const *envp);

/* The environment the new image gets: envp (NULL is an empty one) without any
 * MEMTRACE_EXEC_FROM, then MEMTRACE_EXEC_FROM=PID:LOG. Memory comes from mt_map and its size
 * goes to *mapped; NULL when there is none, and the exec goes on with envp unchanged. */
char **mt_exec_link_env(char *const *envp, int pid, const char *log, size_t *mapped);
void mt_exec_link_env_free(char **env, size_t mapped);

/* True when envp's LD_PRELOAD names memtrace's library by a path that cannot be opened from
 * here (a program that changed its root: the loader would print an error on the new image's
 * stderr and run it without memtrace); that path goes to lib. */
bool mt_exec_preload_missing(char *const *envp, char *lib, size_t cap);

/* envp with memtrace's library taken out of LD_PRELOAD (the variable dropped if nothing else
 * is left in it), for a program that must run without memtrace (exec_sanitizer.h). Memory as
 * for mt_exec_link_env, released by mt_exec_link_env_free; NULL when there is none. */
char **mt_exec_unpreload_env(char *const *envp, size_t *mapped);

/* The log an image started from file (the path or name given to exec) will create: the
 * template expanded for pid and file's last part, the first of its names not taken
 * (mt_config_log_name), as mt_writer_open picks it. 0, or -ENAMETOOLONG when it does not
 * fit, -EEXIST when every name is taken. */
MT_WUR int mt_exec_link_next(const char *file, int pid, char *out, size_t cap);

#endif

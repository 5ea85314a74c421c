// SPDX-License-Identifier: MIT
// Linking the logs of the images of one process (see exec_link.h). Allocation-free: the new
// environment is one mapping, released if the exec returns.
#include "base/exec_link.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/log_dir.h"

#define MT_EXEC_LINK_NAME MT_CONFIG_EXEC_FROM "="
#define MT_PRELOAD_VAR "LD_PRELOAD="
#define MT_PRELOAD_VAR_LEN (sizeof MT_PRELOAD_VAR - 1)
#define MT_OUR_LIBRARY "libmemtrace_preload" /* how the recorder is told in LD_PRELOAD */

bool mt_exec_link_wanted(char *const *envp)
{
    for (size_t i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], MT_PRELOAD_VAR, MT_PRELOAD_VAR_LEN) == 0)
            return strstr(envp[i], MT_OUR_LIBRARY) != NULL;
    return false;
}

char **mt_exec_link_env(char *const *envp, int pid, const char *log, size_t *mapped)
{
    size_t n = 0;
    for (; envp && envp[n]; n++)
        ;
    /* the pointers (ours and the terminating NULL too), then our variable's text */
    size_t text = sizeof MT_EXEC_LINK_NAME + 24 + strlen(log) + 1;
    size_t size = (n + 2) * sizeof(char *) + text;
    char **env = mt_map(size);
    *mapped = env ? size : 0;
    if (!env)
        return NULL;
    char *var = (char *)(env + n + 2);
    mt_sbuf_t s;
    mt_sbuf_init(&s, var, text);
    mt_sbuf_add(&s, MT_EXEC_LINK_NAME);
    mt_sbuf_u64(&s, (uint64_t)pid);
    mt_sbuf_add(&s, ":");
    mt_sbuf_add(&s, log);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(envp[i], MT_EXEC_LINK_NAME, sizeof MT_EXEC_LINK_NAME - 1) != 0)
            env[k++] = envp[i];
    env[k++] = var;
    env[k] = NULL;
    return env;
}

/* The next entry of an LD_PRELOAD list at *p (entries are separated by ':' or ' ', as ld.so
 * reads them; empty ones are skipped): its start, its length in *n, *p past it. NULL at the
 * end. */
static const char *mt_exec_preload_next(const char **p, size_t *n)
{
    *p += strspn(*p, ": ");
    if (!**p)
        return NULL;
    const char *entry = *p;
    *n = strcspn(entry, ": ");
    *p += *n;
    return entry;
}

/* Copies the LD_PRELOAD list at list (after "LD_PRELOAD=") to out without memtrace's
 * library. Returns the length. */
static size_t mt_exec_preload_without_us(const char *list, char *out)
{
    size_t len = 0, n;
    for (const char *entry; (entry = mt_exec_preload_next(&list, &n)) != NULL;) {
        if (memmem(entry, n, MT_OUR_LIBRARY, sizeof MT_OUR_LIBRARY - 1))
            continue;
        if (len)
            out[len++] = ':';
        memcpy(out + len, entry, n);
        len += n;
    }
    out[len] = '\0';
    return len;
}

char **mt_exec_unpreload_env(char *const *envp, size_t *mapped)
{
    size_t n = 0, text = 0;
    for (; envp && envp[n]; n++)
        if (strncmp(envp[n], MT_PRELOAD_VAR, MT_PRELOAD_VAR_LEN) == 0)
            text = strlen(envp[n]) + 1;
    size_t size = (n + 1) * sizeof(char *) + text;
    char **env = mt_map(size);
    *mapped = env ? size : 0;
    if (!env)
        return NULL;
    char *var = (char *)(env + n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(envp[i], MT_PRELOAD_VAR, MT_PRELOAD_VAR_LEN) != 0) {
            env[k++] = envp[i];
        } else {
            memcpy(var, MT_PRELOAD_VAR, MT_PRELOAD_VAR_LEN);
            if (mt_exec_preload_without_us(envp[i] + MT_PRELOAD_VAR_LEN, var + MT_PRELOAD_VAR_LEN))
                env[k++] = var; /* else nothing is left: the variable is dropped */
        }
    }
    env[k] = NULL;
    return env;
}

bool mt_exec_preload_missing(char *const *envp, char *lib, size_t cap)
{
    for (size_t i = 0; envp && envp[i]; i++) {
        if (strncmp(envp[i], MT_PRELOAD_VAR, MT_PRELOAD_VAR_LEN) != 0)
            continue;
        const char *list = envp[i] + MT_PRELOAD_VAR_LEN, *entry;
        size_t n;
        while ((entry = mt_exec_preload_next(&list, &n)) != NULL) {
            if (n >= cap)
                continue;
            memcpy(lib, entry, n); /* copied first: searched as a string */
            lib[n] = '\0';
            /* a bare name is looked up in the loader's directories: not ours to judge */
            if (strstr(lib, MT_OUR_LIBRARY) && strchr(lib, '/')) {
                long fd = mt_sys_open(lib, O_RDONLY | O_CLOEXEC, 0);
                if (fd >= 0)
                    mt_sys_close((int)fd);
                return fd == -ENOENT || fd == -ENOTDIR || fd == -EACCES;
            }
        }
        return false; /* the loader reads the first LD_PRELOAD only */
    }
    return false;
}

void mt_exec_link_env_free(char **env, size_t mapped)
{
    if (env)
        mt_unmap(env, mapped);
}

int mt_exec_link_next(const char *file, int pid, char *out, size_t cap)
{
    const char *slash = strrchr(file, '/');
    const char *name = slash ? slash + 1 : file;
    char base[PATH_MAX];
    int rc = mt_config_expand_as(mt_config.output_template, pid, name, base, sizeof base);
    if (rc < 0)
        return rc;
    /* With %p in the template only this pid's images write these names, and this is its
     * only image now: the first free name stays free until the new image takes it. Without
     * %p another process may take it first; the reader then finds the new image by its
     * ORIGIN record, which names this log. */
    unsigned n = 1;
    for (; mt_config_log_name(base, pid, n, out, cap); n++)
        if (!mt_logdir_exists(out))
            return 0;
    return n < MT_LOG_NAME_TRIES ? -ENAMETOOLONG : -EEXIST;
}

// SPDX-License-Identifier: MIT
// Reading the manifest of a `memtrace run` (see run_manifest.h).
#include "run_manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* Lines are short single O_APPEND writes, so they do not interleave; a malformed line (a
 * process killed mid-write) is skipped, and so is a line still being written. */
mt_run_log_t *mt_run_manifest_read(const char *path, size_t *count)
{
    *count = 0;
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return NULL;
    mt_run_log_t *logs = NULL;
    size_t cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t len;
    while ((len = getline(&line, &linecap, f)) > 0) {
        if (line[len - 1] != '\n')
            continue;
        line[len - 1] = '\0';
        char *tab = strchr(line, '\t');
        if (tab == NULL || tab[1] == '\0')
            continue;
        char *end;
        long pid = strtol(line, &end, 10);
        if (end != tab || pid <= 0)
            continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 8;
            mt_run_log_t *n = realloc(logs, cap * sizeof *logs);
            if (n == NULL)
                break;
            logs = n;
        }
        char *p = strdup(tab + 1);
        if (p == NULL)
            break;
        logs[(*count)++] = (mt_run_log_t){pid, p};
    }
    free(line);
    fclose(f);
    return logs;
}

void mt_run_manifest_free(mt_run_log_t *logs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(logs[i].path);
    free(logs);
}

char *mt_run_manifest_nth_log(const char *path, long pid, size_t n)
{
    size_t count;
    mt_run_log_t *logs = mt_run_manifest_read(path, &count);
    char *log = NULL;
    for (size_t i = 0; i < count && !log; i++) {
        if (logs[i].pid == pid && n-- == 0) {
            log = logs[i].path;
            logs[i].path = NULL;
        }
    }
    mt_run_manifest_free(logs, count);
    return log;
}

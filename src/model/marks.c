// SPDX-License-Identifier: MIT
// Marks (marks.h): a growing array of (name, time) in log order.
#include "marks.h"
#include "grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int mt_marks_add(mt_marks_t *m, const char *name, size_t len, uint64_t time_us)
{
    if (MT_GROW(m->v, m->cap, m->n + 1, 8) < 0)
        return -ENOMEM;
    char *copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    if (len)
        memcpy(copy, name, len);
    copy[len] = '\0';
    m->v[m->n++] = (mt_mark_t){copy, time_us};
    return 0;
}

void mt_marks_free(mt_marks_t *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].name);
    free(m->v);
    *m = (mt_marks_t){0};
}

long mt_marks_find(const mt_marks_t *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].name, name) == 0)
            return (long)i;
    return -ENOENT;
}

// SPDX-License-Identifier: MIT
// Folded stacks (see export.h): the input format of flamegraph.pl, inferno and speedscope.
// Stacks go outermost first; equal lines are merged so the file is canonical (tools would sum
// them anyway). Memory: one string per site, freed before returning.
#include "export.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "text_escape.h"

size_t mt_export_folded_name(char *dst, size_t cap, const mt_modules_t *mods, const mt_frame_t *f)
{
    char tmp[512], shown[512];
    const char *name = mt_name_show(f->function, shown, sizeof shown);
    const mt_module_t *m = mt_modules_get(mods, f->module);
    if (name && f->python && f->file) {
        /* a line of the function, as py-spy folds Python stacks (see render_flamegraph.c) */
        const char *slash = strrchr(f->file, '/');
        snprintf(tmp, sizeof tmp, "%.300s (%.160s:%" PRIu32 ")", name, slash ? slash + 1 : f->file,
                 f->line);
        name = tmp;
    } else if (!name) {
        if (m)
            snprintf(tmp, sizeof tmp, "%.40s+0x%" PRIx64, m->basename, f->address);
        else
            snprintf(tmp, sizeof tmp, "0x%" PRIx64, f->address);
        name = tmp;
    }
    if (!cap)
        return 0;
    /* ';' separates frames; control characters (text_escape.h) would break lines or reach
     * the terminal of whoever cats the file. */
    size_t n = mt_text_mask(dst, cap, name, ' ');
    for (size_t i = 0; i < n; i++)
        if (dst[i] == ';')
            dst[i] = ':';
    return n;
}

typedef struct mt_folded_line {
    char *stack;
    uint64_t value;
} mt_folded_line_t;

static int mt_folded_cmp(const void *pa, const void *pb)
{
    return strcmp(((const mt_folded_line_t *)pa)->stack, ((const mt_folded_line_t *)pb)->stack);
}

/* The folded stack of one site, outermost first, malloc'ed. */
static char *mt_folded_stack(const mt_modules_t *mods, const mt_site_t *s)
{
    size_t cap = 256, len = 0;
    char *out = malloc(cap), name[1024];
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = s->nframes; i-- > 0;) {
        size_t n = mt_export_folded_name(name, sizeof name, mods, &s->frames[i]);
        if (len + n + 2 > cap) {
            while (len + n + 2 > cap)
                cap *= 2;
            char *nb = realloc(out, cap);
            if (!nb) {
                free(out);
                return NULL;
            }
            out = nb;
        }
        if (len)
            out[len++] = ';';
        memcpy(out + len, name, n + 1);
        len += n;
    }
    if (!len) /* allocations with no stack at all (rare): still counted */
        strcpy(out, "[unknown]");
    return out;
}

int mt_export_folded(const mt_analysis_t *a, mt_sites_t *sites, enum mt_cost cost, FILE *out)
{
    mt_folded_line_t *lines = calloc(sites->n ? sites->n : 1, sizeof *lines);
    size_t n = 0;
    int rc = 0;
    if (!lines)
        return -ENOMEM;
    for (size_t i = 0; i < sites->n; i++) {
        uint64_t v = mt_site_cost(&sites->v[i], cost);
        if (!v)
            continue;
        int loaded = mt_sites_load(sites, i);
        if (loaded < 0 || !(lines[n].stack = mt_folded_stack(a->modules, &sites->v[i]))) {
            rc = -ENOMEM;
            goto out;
        }
        if (loaded)
            mt_sites_drop(sites, i);
        lines[n++].value = v;
    }
    qsort(lines, n, sizeof *lines, mt_folded_cmp);
    for (size_t i = 0; i < n;) {
        uint64_t v = 0;
        size_t j = i;
        for (; j < n && strcmp(lines[j].stack, lines[i].stack) == 0; j++)
            v += lines[j].value;
        fprintf(out, "%s %" PRIu64 "\n", lines[i].stack, v);
        i = j;
    }
    if (ferror(out))
        rc = -EIO;
out:
    for (size_t i = 0; i < n; i++)
        free(lines[i].stack);
    free(lines);
    return rc;
}

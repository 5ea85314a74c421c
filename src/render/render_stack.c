// SPDX-License-Identifier: MIT
// Stack rendering shared by the site-listing reports (see render_stack.h). Kept apart from
// render_text.c/render_json.c so that new reports do not grow those files; the output matches
// theirs frame for frame, so scripts can read stacks the same way in every report.
#include "render_stack.h"

#include <inttypes.h>
#include <string.h>

#include "frame_filter.h"
#include "names.h"
#include "text_escape.h"

static const char *mt_stack_basename(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

void mt_render_frames_json(mt_json_t *j, const mt_modules_t *mods, const mt_frame_t *frames,
                           size_t n)
{
    mt_json_array_begin(j);
    for (size_t i = 0; i < n; i++) {
        const mt_frame_t *f = &frames[i];
        const mt_module_t *m = mt_modules_get(mods, f->module);
        char addr[24];
        snprintf(addr, sizeof addr, "0x%" PRIx64, f->address);
        mt_json_object_begin(j);
        mt_json_key_string(j, "function", f->function);
        mt_json_key_string(j, "file", f->file);
        mt_json_key(j, "line");
        if (f->line)
            mt_json_u64(j, f->line);
        else
            mt_json_null(j);
        mt_json_key_string(j, "module", m ? m->path : NULL);
        mt_json_key_string(j, "address", addr);
        mt_json_key_bool(j, "inlined", f->inlined);
        mt_json_key_bool(j, "python", f->python);
        mt_json_object_end(j);
    }
    mt_json_array_end(j);
}

void mt_render_stack_json(mt_json_t *j, const mt_modules_t *mods, const mt_site_t *s)
{
    mt_render_frames_json(j, mods, s->frames, s->nframes);
}

void mt_render_frame_text(FILE *o, int colour, const mt_modules_t *mods, const mt_frame_t *f,
                          const char *indent)
{
    const char *fn = colour ? "\033[1;32m" : "", *dim = colour ? "\033[2m" : "",
               *reset = colour ? "\033[0m" : "";
    const mt_module_t *m = mt_modules_get(mods, f->module);
    fputs(indent, o);
    /* Names, files and paths are the program's: escaped, they cannot drive the terminal. */
    fputs(fn, o);
    char name[1024];
    if (f->function)
        mt_text_put(o, mt_name_show(f->function, name, sizeof name));
    else
        fprintf(o, "0x%" PRIx64, f->address);
    fputs(reset, o);
    if (f->inlined)
        fprintf(o, " %s(inlined)%s", dim, reset);
    if (f->file && f->line) {
        fprintf(o, "  %s", dim);
        mt_text_put(o, mt_path_show(f->file));
        fprintf(o, ":%u%s", f->line, reset);
    } else if (m) {
        fprintf(o, "  %s", dim);
        mt_text_put(o, mt_stack_basename(m->path));
        fprintf(o, "+0x%" PRIx64 "%s", f->address, reset);
    }
    if (f->python)
        fprintf(o, "  %s[python]%s", dim, reset);
    fputc('\n', o);
}

/* Outermost Python frames a cut stack still shows (mt_render_frames_text). */
#define MT_OUTER_PY 2

/* "... N more frames", indented and dimmed as the frames are. */
static void mt_render_more_frames(FILE *o, int colour, const char *indent, size_t n)
{
    const char *dim = colour ? "\033[2m" : "", *reset = colour ? "\033[0m" : "";
    fprintf(o, "%s%s... %zu more frames%s\n", indent, dim, n, reset);
}

void mt_render_frames_text(FILE *o, int colour, const mt_modules_t *mods, const mt_frame_t *f,
                           size_t n, size_t max, const char *indent)
{
    const char *dim = colour ? "\033[2m" : "", *reset = colour ? "\033[0m" : "";
    size_t shown = max && n > max ? max : n;
    if (n == 0)
        fprintf(o, "%s%s(no stack recorded)%s\n", indent, dim, reset);
    for (size_t i = 0; i < shown; i++)
        mt_render_frame_text(o, colour, mods, &f[i], indent);
    if (shown == n)
        return;
    /* A Python stack cut for the page keeps its outermost Python frames in view (the last
     * MT_OUTER_PY with a source line: a gap frame has none): the script's own lines, where the
     * user's code began what the frames above do (a deep recursion's stack is hundreds of
     * frames). */
    size_t outer[MT_OUTER_PY], k = 0;
    for (size_t i = n; i-- > shown && k < MT_OUTER_PY;)
        if (f[i].python && f[i].file)
            outer[k++] = i;
    size_t next = shown; /* the first frame not yet accounted for */
    while (k-- > 0) {
        if (outer[k] > next)
            mt_render_more_frames(o, colour, indent, outer[k] - next);
        mt_render_frame_text(o, colour, mods, &f[outer[k]], indent);
        next = outer[k] + 1;
    }
    if (next < n)
        mt_render_more_frames(o, colour, indent, n - next);
}

void mt_render_stack_text(FILE *o, int colour, const mt_modules_t *mods, const mt_site_t *s,
                          size_t max)
{
    mt_render_frames_text(o, colour, mods, s->frames, s->nframes, max, "        ");
}

const char *mt_render_stack_top(const mt_site_t *s)
{
    return s->nframes && s->frames[0].function ? s->frames[0].function : "?";
}

void mt_render_text_line(FILE *o, const char *indent, const char *on, const char *text,
                         const char *off)
{
    fprintf(o, "%s%s", indent, on);
    mt_text_put(o, text);
    fprintf(o, "%s\n", off);
}

void mt_render_log_notes_json(mt_json_t *j, const mt_analysis_t *a)
{
    mt_json_key_bool(j, "truncated", a->truncated);
    mt_json_key_string(j, "truncation", a->truncated ? a->truncation : NULL);
    mt_json_key_string(j, "allocator_notice", a->allocator_notice[0] ? a->allocator_notice : NULL);
}

void mt_render_text_warning(FILE *o, const char *warn, const char *reset, const char *text,
                            const char *why)
{
    fprintf(o, "\n%swarning:%s ", warn, reset);
    mt_text_put(o, text);
    if (why) {
        fputs(" (", o);
        mt_text_put(o, why);
        fputc(')', o);
    }
    fputc('\n', o);
}

int mt_render_user_where(char *buf, size_t len, const mt_modules_t *mods, const mt_frame_t *f,
                         size_t n)
{
    long i = mt_filter_first_user(f, n, mods); /* one place decides (frame_filter.h) */
    if (len)
        buf[0] = '\0';
    if (i < 0 || !len)
        return 0;
    const char *slash = strrchr(f[i].file, '/');
    char fn[512];
    if (!f[i].function)
        snprintf(fn, sizeof fn, "0x%" PRIx64, f[i].address);
    snprintf(buf, len, "allocated at %s:%" PRIu32 " in %s", slash ? slash + 1 : f[i].file,
             f[i].line, f[i].function ? mt_name_show(f[i].function, fn, sizeof fn) : fn);
    return 1;
}

// SPDX-License-Identifier: MIT
// Names and paths as shown (see names.h). Pure string work on the renderers' side, plus one
// getcwd the first time a path is shown; never changes a frame.
#include "names.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int mt_names_full_flag;

void mt_names_set_full(int full)
{
    mt_names_full_flag = full != 0;
}

int mt_names_full(void)
{
    return mt_names_full_flag;
}

typedef struct mt_out {
    char *dst;
    size_t cap, len;
} mt_out_t;

static void mt_out_put(mt_out_t *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, o->len++)
        if (o->len + 1 < o->cap)
            o->dst[o->len] = s[i];
    if (o->cap)
        o->dst[o->len < o->cap ? o->len : o->cap - 1] = '\0';
}

static int mt_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* After "operator": the operator's own characters, which are not brackets ("<<", "->",
 * "()", "[]", "<=>"), the longest operator that matches (the demangler writes
 * "operator><int>" for a template of operator>); 0 for a named one ("new", a conversion). */
static size_t mt_operator_len(const char *s)
{
    static const char *const ops[] = {
        "<=>", "<<=", ">>=", "->*", "()", "[]", "<<", ">>", "<=", ">=", "==", "!=", "&&",
        "||",  "++",  "--",  "->",  "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^="};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strncmp(s, ops[i], strlen(ops[i])) == 0)
            return strlen(ops[i]);
    return s[0] && strchr("<>=!+-*/%&|^~,", s[0]) ? 1 : 0;
}

/* The end of the template argument list opening at s[0] == '<': one past its '>', or NULL
 * when it does not close. "->" inside it (decltype(p->x)) is no bracket. */
static const char *mt_template_end(const char *s)
{
    int depth = 0;
    for (; *s; s++) {
        if (s[0] == '-' && s[1] == '>') {
            s++;
            continue;
        }
        if (*s == '<')
            depth++;
        else if (*s == '>' && --depth == 0)
            return s + 1;
    }
    return NULL;
}

size_t mt_name_shorten(char *dst, size_t cap, const char *name)
{
    static const char cxx11[] = "std::__cxx11::";
    mt_out_t o = {dst, cap, 0};
    if (cap)
        dst[0] = '\0';
    const char *op_end = NULL; /* just after the last operator's name */
    for (const char *p = name; *p;) {
        int word_start = p == name || !mt_ident_char(p[-1]);
        /* A template's arguments follow its name ("vector<", "operator< <"); a '<' anywhere
         * else is part of a name: Python's "<module>", "f.<locals>.<listcomp>". */
        int template =
            p > name && (mt_ident_char(p[-1]) || p == op_end || (p[-1] == ' ' && p - 1 == op_end));
        if (word_start && strncmp(p, "operator", 8) == 0 && !mt_ident_char(p[8])) {
            size_t n = 8 + mt_operator_len(p + 8);
            mt_out_put(&o, p, n);
            p += n;
            op_end = p;
        } else if (word_start && p[0] != ':' && strncmp(p, cxx11, sizeof cxx11 - 1) == 0) {
            mt_out_put(&o, "std::", 5);
            p += sizeof cxx11 - 1;
        } else if (*p == '<' && template) {
            const char *end = mt_template_end(p);
            if (!end) { /* not a name this reader understands: shown as it is */
                o.len = 0;
                mt_out_put(&o, name, strlen(name));
                return o.len;
            }
            mt_out_put(&o, "<>", 2);
            p = end;
        } else {
            mt_out_put(&o, p, 1);
            p++;
        }
    }
    return o.len;
}

const char *mt_name_show(const char *name, char *buf, size_t cap)
{
    if (!name || mt_names_full_flag || !cap || (!strchr(name, '<') && !strstr(name, "__cxx11")))
        return name;
    size_t n = mt_name_shorten(buf, cap, name);
    return n == strlen(name) && strcmp(buf, name) == 0 ? name : buf;
}

int mt_path_under(const char *path, const char *dir, const char **rest)
{
    if (!path || !dir || path[0] != '/' || dir[0] != '/')
        return 0;
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    if (dl <= 1) /* under "/" everything is: no shorter for it */
        return 0;
    if (strncmp(path, dir, dl) != 0 || path[dl] != '/' || !path[dl + 1])
        return 0;
    if (rest)
        *rest = path + dl + 1;
    return 1;
}

const char *mt_path_show_in(const char *path, const char *dir)
{
    const char *rest;
    return mt_path_under(path, dir, &rest) ? rest : path;
}

const char *mt_path_show(const char *path)
{
    static char cwd[4096];
    static int state; /* 0 not asked, 1 known, -1 unknown */
    if (!state)
        state = getcwd(cwd, sizeof cwd) ? 1 : -1;
    return state > 0 ? mt_path_show_in(path, cwd) : path;
}

char *mt_path_source_root(char *buf, size_t cap, const char *dir)
{
    size_t n = strlen(dir);
    if (!cap || n + sizeof "/.git" > cap)
        return NULL;
    memcpy(buf, dir, n + 1);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    for (size_t at = n; at > 0;) {
        memcpy(buf + at, "/.git", sizeof "/.git");
        int found = access(buf, F_OK) == 0;
        buf[at] = '\0';
        if (found)
            return buf;
        while (at > 0 && buf[at - 1] != '/')
            at--;
        if (at > 0)
            at--; /* the parent, without its trailing slash ("" for the root) */
        buf[at] = '\0';
    }
    memcpy(buf, dir, n + 1); /* no repository above: the directory itself */
    buf[n] = '\0';
    return buf;
}

size_t mt_path_join(char *dst, size_t cap, const char *dir, const char *rel)
{
    mt_out_t o = {dst, cap, 0};
    if (cap)
        dst[0] = '\0';
    size_t dl = rel[0] == '/' ? 0 : strlen(dir), rl = strlen(rel);
    char *all = malloc(dl + rl + 2);
    const char **seg = malloc((dl + rl + 2) / 2 * sizeof *seg + sizeof *seg);
    if (!all || !seg) { /* no room to resolve: the plain concatenation is still right */
        free(all);
        free(seg);
        if (dl) {
            mt_out_put(&o, dir, dl);
            mt_out_put(&o, "/", 1);
        }
        mt_out_put(&o, rel, rl);
        return o.len;
    }
    size_t at = 0;
    if (dl) {
        memcpy(all, dir, dl);
        all[dl] = '/';
        at = dl + 1;
    }
    memcpy(all + at, rel, rl + 1);
    int absolute = all[0] == '/';
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(all, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0)
            continue;
        if (strcmp(t, "..") == 0 && n && strcmp(seg[n - 1], "..") != 0) {
            n--;
            continue;
        }
        if (strcmp(t, "..") == 0 && absolute)
            continue; /* "/.." is "/" */
        seg[n++] = t;
    }
    if (absolute)
        mt_out_put(&o, "/", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            mt_out_put(&o, "/", 1);
        mt_out_put(&o, seg[i], strlen(seg[i]));
    }
    if (!absolute && !n)
        mt_out_put(&o, ".", 1);
    free(all);
    free(seg);
    return o.len;
}

// SPDX-License-Identifier: MIT
// Suppression files (see suppressions.h). The format is decided per file by its first
// meaningful line: '{' starts a valgrind block, anything else is LeakSanitizer's type:pattern.
// Entries for other tools or other error kinds (Memcheck:Cond, race:, ...) are skipped, not
// refused: teams share one file between tools.
#include "suppressions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "leak_class.h"

void mt_supps_init(mt_supps_t *s)
{
    memset(s, 0, sizeof *s);
}

static void mt_supp_clear(mt_supp_t *p)
{
    free(p->name);
    free(p->file);
    for (size_t i = 0; i < p->nframes; i++)
        free(p->frames[i].text);
    free(p->frames);
}

void mt_supps_destroy(mt_supps_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        mt_supp_clear(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- matching ---- */

int mt_supps_glob(const char *p, const char *s)
{
    /* Iterative with one backtrack point: linear for patterns with several '*'. */
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '\\' && p[1] && p[1] == *s) {
            p += 2;
            s++;
        } else if (*p == '?' || (*p && *p != '*' && *p != '\\' && *p == *s)) {
            p++;
            s++;
        } else if (*p == '*') {
            star = p++;
            resume = s;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

/* strstr limited to the first n bytes of needle */
static const char *mt_strstr_n(const char *hay, const char *needle, size_t n)
{
    if (n == 0)
        return hay;
    for (; *hay; hay++)
        if (strncmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

int mt_supps_template(const char *templ, const char *str)
{
    /* A port of sanitizer_common's TemplateMatch, so that files written for LSan keep their
     * meaning here: chunks between '*' are found left to right as substrings. */
    if (!str || !str[0])
        return 0;
    int start = 0, asterisk = 0;
    if (templ[0] == '^') {
        start = 1;
        templ++;
    }
    while (templ[0]) {
        if (templ[0] == '*') {
            templ++;
            start = 0;
            asterisk = 1;
            continue;
        }
        if (templ[0] == '$')
            return str[0] == 0 || asterisk;
        if (str[0] == 0)
            return 0;
        size_t n = strcspn(templ, "*$");
        const char *str0 = str;
        const char *spos = mt_strstr_n(str, templ, n);
        if (!spos)
            return 0;
        if (start && spos != str0)
            return 0;
        str = spos + n;
        templ += n;
        start = 0;
        asterisk = 0;
    }
    return 1;
}

static const char *const mt_supp_allocators[] = {
    "malloc",
    "calloc",
    "realloc",
    "reallocarray",
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "valloc",
    "pvalloc",
    "_Znwm",
    "_Znam",
    "_ZnwmRKSt9nothrow_t",
    "_ZnamRKSt9nothrow_t",
    "_ZnwmSt11align_val_t",
    "_ZnamSt11align_val_t",
    "operator new(unsigned long)",
    "operator new[](unsigned long)",
    NULL,
};

/* A valgrind stack starts inside the allocator (fun:malloc, fun:_Znwm); memtrace's stacks
 * start at the caller. Such leading frames of a pattern may therefore match nothing. */
static int mt_supp_is_allocator_pattern(const mt_supp_pattern_t *p)
{
    if (p->kind != MT_SUPP_FUN)
        return 0;
    for (size_t i = 0; mt_supp_allocators[i]; i++)
        if (mt_supps_glob(p->text, mt_supp_allocators[i]))
            return 1;
    return 0;
}

static int mt_supp_frame_match(const mt_supp_pattern_t *p, const mt_supp_frame_t *f)
{
    switch (p->kind) {
    case MT_SUPP_FUN:
        /* valgrind writes "???" for a frame without a name */
        return mt_supps_glob(p->text, f->function ? f->function : "???");
    case MT_SUPP_OBJ:
        return mt_supps_glob(p->text, f->module ? f->module : "???");
    case MT_SUPP_SRC: {
        if (!f->file)
            return 0;
        const char *base = strrchr(f->file, '/');
        int ok = mt_supps_glob(p->text, f->file) || (base && mt_supps_glob(p->text, base + 1));
        return ok && (p->line == 0 || p->line == f->line);
    }
    default:
        return 0;
    }
}

/*
 * Which leading pattern frames may be skipped and still match, as a dynamic programme over
 * (pattern index, frame index), as valgrind's own matcher does: trying each way to place the
 * `...`s recursively is exponential in their number (four `...`/`fun:*` pairs and a frame that
 * never matches took minutes on 40-frame stacks). M[pi][fi] = "pattern frames [pi, np) match
 * stack frames from fi on" (the stack may go on: a suppression names the innermost frames):
 *   M[np][fi] = 1
 *   M[pi][fi] = M[pi + 1][fi] || M[pi][fi + 1]            for `...` (any number of frames)
 *   M[pi][fi] = fi < nf && frame fi matches pi && M[pi + 1][fi + 1]   otherwise
 * computed row by row from the last pattern frame up, two rows of nf + 1 bytes; first[pi]
 * receives M[pi][0]. np * nf frame comparisons, whatever the pattern.
 */
static void mt_supp_match_table(const mt_supp_pattern_t *pat, size_t np, const mt_supp_frame_t *fr,
                                size_t nf, uint8_t *next, uint8_t *row, uint8_t *first)
{
    memset(next, 1, nf + 1); /* row np */
    first[np] = 1;
    for (size_t pi = np; pi-- > 0;) {
        if (pat[pi].kind == MT_SUPP_ELLIPSIS) {
            row[nf] = next[nf];
            for (size_t fi = nf; fi-- > 0;)
                row[fi] = next[fi] || row[fi + 1];
        } else {
            row[nf] = 0;
            for (size_t fi = 0; fi < nf; fi++)
                row[fi] = next[fi + 1] && mt_supp_frame_match(&pat[pi], &fr[fi]);
        }
        first[pi] = row[0];
        uint8_t *t = next;
        next = row;
        row = t;
    }
}

/* scratch: at least 2 * (n + 1) + s->nframes + 1 bytes. */
static int mt_supp_match_one(const mt_supp_t *s, unsigned kind, const mt_supp_frame_t *fr, size_t n,
                             uint8_t *scratch)
{
    if (kind != MT_LEAKS_UNCLASSIFIED && !(s->kinds & (1u << kind)))
        return 0;
    if (s->lsan) {
        const char *t = s->frames[0].text;
        for (size_t i = 0; i < n; i++) {
            const char *base = fr[i].module ? strrchr(fr[i].module, '/') : NULL;
            if (mt_supps_template(t, fr[i].module) || (base && mt_supps_template(t, base + 1)) ||
                mt_supps_template(t, fr[i].function) || mt_supps_template(t, fr[i].file))
                return 1;
        }
        return 0;
    }
    uint8_t *first = scratch + 2 * (n + 1);
    mt_supp_match_table(s->frames, s->nframes, fr, n, scratch, scratch + n + 1, first);
    for (size_t skip = 0; skip <= s->nframes; skip++) {
        if (first[skip])
            return 1;
        if (skip < s->nframes && !mt_supp_is_allocator_pattern(&s->frames[skip]))
            break;
    }
    return 0;
}

long mt_supps_match(const mt_supps_t *s, unsigned kind, const mt_supp_frame_t *frames, size_t n)
{
    size_t need = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].nframes > need)
            need = s->v[i].nframes;
    need += 2 * (n + 1) + 1;
    uint8_t small[1024];
    uint8_t *scratch = need <= sizeof small ? small : malloc(need);
    if (!scratch)
        return -1; /* out of memory: the leak stays listed, which is the safe side */
    long found = -1;
    for (size_t i = 0; i < s->n && found < 0; i++)
        if (mt_supp_match_one(&s->v[i], kind, frames, n, scratch))
            found = (long)i;
    if (scratch != small)
        free(scratch);
    return found;
}

/* ---- parsing ---- */

typedef struct mt_supp_parser {
    mt_supps_t *s;
    const char *name;
    char *err;
    size_t errlen;
    unsigned line;
} mt_supp_parser_t;

static int mt_supp_fail(mt_supp_parser_t *ps, const char *why, const char *what)
{
    snprintf(ps->err, ps->errlen, "%s:%u: %s%s%s%s", ps->name, ps->line, why, what ? " '" : "",
             what ? what : "", what ? "'" : "");
    return -EINVAL;
}

static mt_supp_t *mt_supp_add(mt_supp_parser_t *ps)
{
    mt_supp_t *nv = realloc(ps->s->v, (ps->s->n + 1) * sizeof *nv);
    if (!nv)
        return NULL;
    ps->s->v = nv;
    mt_supp_t *p = &nv[ps->s->n];
    memset(p, 0, sizeof *p);
    p->file = strdup(ps->name);
    p->line = ps->line;
    p->kinds = (1u << MT_LEAKS_NKINDS) - 1;
    if (!p->file)
        return NULL;
    ps->s->n++;
    return p;
}

static int mt_supp_add_pattern(mt_supp_t *p, int kind, const char *text, size_t len, uint32_t line)
{
    mt_supp_pattern_t *nf = realloc(p->frames, (p->nframes + 1) * sizeof *nf);
    if (!nf)
        return -ENOMEM;
    p->frames = nf;
    char *t = strndup(text, len);
    if (!t)
        return -ENOMEM;
    p->frames[p->nframes++] = (mt_supp_pattern_t){kind, t, line};
    return 0;
}

/* Next line of [*pos, end), trimmed; NULL at the end. */
static const char *mt_supp_line(const char **pos, const char *end, size_t *len)
{
    if (*pos >= end)
        return NULL;
    const char *b = *pos, *e = memchr(b, '\n', (size_t)(end - b));
    if (!e)
        e = end;
    *pos = e < end ? e + 1 : end;
    while (b < e && (*b == ' ' || *b == '\t'))
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    *len = (size_t)(e - b);
    return b;
}

/* The next line that is neither empty nor a '#' comment, counting every line it passes in
 * ps->line; NULL at the end. */
static const char *mt_supp_entry(mt_supp_parser_t *ps, const char **pos, const char *end,
                                 size_t *len)
{
    const char *l;
    while ((l = mt_supp_line(pos, end, len)) != NULL) {
        ps->line++;
        if (*len != 0 && l[0] != '#')
            return l;
    }
    return NULL;
}

static int mt_supp_parse_lsan(mt_supp_parser_t *ps, const char *pos, const char *end)
{
    const char *l;
    size_t len;
    while ((l = mt_supp_entry(ps, &pos, end, &len)) != NULL) {
        const char *colon = memchr(l, ':', len);
        if (!colon) {
            char buf[128];
            snprintf(buf, sizeof buf, "%.*s", (int)(len < 100 ? len : 100), l);
            return mt_supp_fail(ps, "expected 'leak:PATTERN' or a '{' block, got", buf);
        }
        if ((size_t)(colon - l) != 4 || memcmp(l, "leak", 4) != 0)
            continue; /* another sanitizer's entry (race:, interceptor_via_fun:, ...) */
        const char *pat = colon + 1;
        size_t plen = len - 5;
        if (plen == 0)
            return mt_supp_fail(ps, "empty pattern after 'leak:'", NULL);
        mt_supp_t *p = mt_supp_add(ps);
        if (!p)
            return -ENOMEM;
        p->lsan = 1;
        p->name = strndup(l, len);
        if (!p->name || mt_supp_add_pattern(p, MT_SUPP_FUN, pat, plen, 0) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int mt_supp_parse_kinds(mt_supp_parser_t *ps, const char *v, size_t len, unsigned *mask)
{
    unsigned m = 0;
    char word[32];
    while (len) {
        while (len && (*v == ' ' || *v == ',')) {
            v++;
            len--;
        }
        size_t n = 0;
        while (n < len && v[n] != ',' && v[n] != ' ')
            n++;
        if (n == 0)
            break;
        snprintf(word, sizeof word, "%.*s", (int)(n < 31 ? n : 31), v);
        if (strcmp(word, "all") == 0)
            m |= (1u << MT_LEAKS_DEFINITE) | (1u << MT_LEAKS_INDIRECT) | (1u << MT_LEAKS_POSSIBLE) |
                 (1u << MT_LEAKS_REACHABLE);
        else if (strcmp(word, "none") != 0) {
            int k = mt_leakclass_kind_parse(v, n);
            if (k < 0 || k == MT_LEAKS_UNCLASSIFIED)
                return mt_supp_fail(ps,
                                    "unknown leak kind (definite, indirect, possible, "
                                    "reachable, all, none)",
                                    word);
            m |= 1u << k;
        }
        v += n;
        len -= n;
    }
    *mask = m;
    return 0;
}

static int mt_supp_parse_valgrind(mt_supp_parser_t *ps, const char *pos, const char *end)
{
    const char *l;
    size_t len;
    while ((l = mt_supp_entry(ps, &pos, end, &len)) != NULL) {
        if (len != 1 || l[0] != '{')
            return mt_supp_fail(ps, "expected '{' to start a valgrind suppression", NULL);
        unsigned start = ps->line;
        /* name */
        do {
            l = mt_supp_line(&pos, end, &len);
            ps->line++;
        } while (l && (len == 0 || l[0] == '#'));
        if (!l || (len == 1 && l[0] == '}'))
            return mt_supp_fail(ps, "suppression without a name", NULL);
        const char *name = l;
        size_t namelen = len;
        /* tool:kind */
        l = mt_supp_line(&pos, end, &len);
        ps->line++;
        const char *colon = l ? memchr(l, ':', len) : NULL;
        if (!colon)
            return mt_supp_fail(ps, "expected 'Tool:Kind' such as 'Memcheck:Leak'", NULL);
        int leak = 0;
        const char *k = colon + 1;
        size_t klen = len - (size_t)(k - l);
        if (klen == 4 && memcmp(k, "Leak", 4) == 0) {
            /* "Memcheck:Leak", also "Memcheck,Helgrind:Leak" */
            for (const char *t = l; t < colon;) {
                const char *c = memchr(t, ',', (size_t)(colon - t));
                const char *te = c ? c : colon;
                if (te - t == 8 && memcmp(t, "Memcheck", 8) == 0)
                    leak = 1;
                t = te + 1;
            }
        }
        mt_supp_t *p = NULL;
        if (leak) {
            p = mt_supp_add(ps);
            if (!p || !(p->name = strndup(name, namelen)))
                return -ENOMEM;
            p->line = start;
        }
        int closed = 0, first = 1;
        while ((l = mt_supp_line(&pos, end, &len)) != NULL) {
            ps->line++;
            if (len == 1 && l[0] == '}') {
                closed = 1;
                break;
            }
            if (len == 0 || l[0] == '#' || !p)
                continue;
            if (first && len >= 17 && memcmp(l, "match-leak-kinds:", 17) == 0) {
                int rc = mt_supp_parse_kinds(ps, l + 17, len - 17, &p->kinds);
                if (rc < 0)
                    return rc;
                first = 0;
                continue;
            }
            first = 0;
            int rc;
            if (len == 3 && memcmp(l, "...", 3) == 0) {
                rc = mt_supp_add_pattern(p, MT_SUPP_ELLIPSIS, "", 0, 0);
            } else if (len > 4 && memcmp(l, "fun:", 4) == 0) {
                rc = mt_supp_add_pattern(p, MT_SUPP_FUN, l + 4, len - 4, 0);
            } else if (len > 4 && memcmp(l, "obj:", 4) == 0) {
                rc = mt_supp_add_pattern(p, MT_SUPP_OBJ, l + 4, len - 4, 0);
            } else if (len > 4 && memcmp(l, "src:", 4) == 0) {
                const char *c = memchr(l + 4, ':', len - 4);
                uint32_t ln = 0;
                size_t fl = len - 4;
                if (c) {
                    char *e;
                    char num[16];
                    snprintf(num, sizeof num, "%.*s", (int)(len - (size_t)(c + 1 - l)), c + 1);
                    unsigned long v = strtoul(num, &e, 10);
                    if (*e || e == num || v == 0 || v > 0xffffffffUL)
                        return mt_supp_fail(ps, "bad line number in 'src:FILE:LINE'", NULL);
                    ln = (uint32_t)v;
                    fl = (size_t)(c - (l + 4));
                }
                rc = mt_supp_add_pattern(p, MT_SUPP_SRC, l + 4, fl, ln);
            } else {
                char buf[128];
                snprintf(buf, sizeof buf, "%.*s", (int)(len < 100 ? len : 100), l);
                return mt_supp_fail(ps, "expected 'fun:', 'obj:', 'src:' or '...', got", buf);
            }
            if (rc < 0)
                return rc;
        }
        if (!closed)
            return mt_supp_fail(ps, "suppression not closed with '}'", NULL);
        if (p && p->nframes == 0)
            return mt_supp_fail(ps, "suppression without any frame", NULL);
    }
    return 0;
}

int mt_supps_parse(mt_supps_t *s, const char *text, size_t len, const char *name, char *err,
                   size_t errlen)
{
    mt_supp_parser_t ps = {s, name, err, errlen, 0};
    const char *pos = text, *end = text + len, *l;
    size_t ll;
    int valgrind = 0;
    while ((l = mt_supp_line(&pos, end, &ll)) != NULL) {
        if (ll == 0 || l[0] == '#')
            continue;
        valgrind = l[0] == '{';
        break;
    }
    int rc = valgrind ? mt_supp_parse_valgrind(&ps, text, end) : mt_supp_parse_lsan(&ps, text, end);
    if (rc == -ENOMEM)
        snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
    return rc;
}

int mt_supps_load(mt_supps_t *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    /* A directory opens fine and fails at the first read with EISDIR, which stdio keeps to
     * itself. (Pipes stay welcome: --suppressions <(generate) is a FIFO.) */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "%s: is a directory", path);
        return -EISDIR;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int rd_errno = 0;
    while (buf) {
        errno = 0;
        size_t k = fread(buf + n, 1, cap - n, f);
        rd_errno = errno;
        n += k;
        if (n < cap)
            break;
        if (cap >= (64u << 20)) { /* no suppression file is that big */
            free(buf);
            fclose(f);
            snprintf(err, errlen, "%s: too big for a suppression file", path);
            return -EFBIG;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int rd_err = ferror(f);
    fclose(f);
    if (!buf || rd_err) {
        free(buf);
        int e = !buf ? ENOMEM : rd_errno ? rd_errno : EIO;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    int rc = mt_supps_parse(s, buf, n, path, err, errlen);
    free(buf);
    return rc;
}

// SPDX-License-Identifier: MIT
// Python source files for the line view (see py_source.h). One pass classifies every line as
// a statement's start (with its indentation), blank, or the continuation of a statement; the
// scanner knows just enough of Python's tokenizer for that (strings, brackets, comments,
// backslashes) and never fails: a file that is not valid Python still gets its lines.
#include "py_source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the scanner carries from one line to the next. */
typedef struct mt_py_scan {
    unsigned depth; /* open brackets */
    char quote;     /* the quote of the string we are in, 0 outside strings */
    int triple;     /* that string is triple-quoted */
    int backslash;  /* the line ended with a backslash outside a string */
} mt_py_scan_t;

static int mt_py_scan_continues(const mt_py_scan_t *sc)
{
    return sc->depth > 0 || sc->quote || sc->backslash;
}

/* Updates sc over one line (without its end). */
static void mt_py_scan_line(mt_py_scan_t *sc, const char *p)
{
    sc->backslash = 0;
    for (; *p; p++) {
        if (sc->quote) {
            if (*p == '\\') {
                if (!p[1]) /* a backslash-newline continues even a one-quote string */
                    return;
                p++;
            } else if (*p == sc->quote && (!sc->triple || (p[1] == *p && p[2] == *p))) {
                p += sc->triple ? 2 : 0;
                sc->quote = 0;
            }
            continue;
        }
        switch (*p) {
        case '#':
            return;
        case '\'':
        case '"':
            sc->quote = *p;
            sc->triple = p[1] == *p && p[2] == *p;
            p += sc->triple ? 2 : 0;
            break;
        case '(':
        case '[':
        case '{':
            sc->depth++;
            break;
        case ')':
        case ']':
        case '}':
            sc->depth -= sc->depth > 0;
            break;
        case '\\':
            if (!p[1])
                sc->backslash = 1;
            break;
        default:
            break;
        }
    }
    /* A one-quote string cannot span lines without a backslash: the tokenizer would stop here
     * with an error; we end it so that the rest of the file is read sensibly. */
    if (sc->quote && !sc->triple)
        sc->quote = 0;
}

/* Indentation of a line's text, tabs to the next multiple of 8 as Python counts them; -1 when
 * the line holds nothing but blanks or a comment. */
static int32_t mt_py_indent(const char *p)
{
    int32_t col = 0;
    for (; *p == ' ' || *p == '\t' || *p == '\f'; p++)
        col = *p == '\t' ? (col / 8 + 1) * 8 : *p == '\f' ? 0 : col + 1;
    return *p == '\0' || *p == '#' ? MT_PY_SOURCE_BLANK : col;
}

static int mt_py_split(mt_py_source_t *s)
{
    size_t len = strlen(s->text);
    uint32_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s->text[i] == '\n';
    n += len > 0 && s->text[len - 1] != '\n'; /* a last line without its newline */
    s->lines = malloc((n ? n : 1) * sizeof *s->lines);
    s->indent = malloc((n ? n : 1) * sizeof *s->indent);
    if (!s->lines || !s->indent)
        return -ENOMEM;
    mt_py_scan_t sc = {0};
    char *p = s->text;
    for (uint32_t i = 0; i < n; i++) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r')
            p[l - 1] = '\0';
        s->lines[i] = p;
        s->indent[i] = mt_py_scan_continues(&sc) ? MT_PY_SOURCE_CONTINUED : mt_py_indent(p);
        mt_py_scan_line(&sc, p);
        p = nl ? nl + 1 : p + l;
    }
    s->n = n;
    return 0;
}

int mt_py_source_load_mem(mt_py_source_t *s, const char *buf, size_t len)
{
    memset(s, 0, sizeof *s);
    if (len > MT_PY_SOURCE_MAX_BYTES)
        return -EFBIG;
    s->text = malloc(len + 1);
    if (!s->text)
        return -ENOMEM;
    memcpy(s->text, buf, len);
    s->text[len] = '\0';
    /* A NUL byte ends the text: what follows is not Python source anyway. */
    int rc = mt_py_split(s);
    if (rc < 0)
        mt_py_source_destroy(s);
    return rc;
}

int mt_py_source_load(mt_py_source_t *s, const char *path)
{
    memset(s, 0, sizeof *s);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
    } else if (!S_ISREG(st.st_mode)) {
        rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    } else if ((uint64_t)st.st_size > MT_PY_SOURCE_MAX_BYTES) {
        rc = -EFBIG;
    } else if (!(buf = malloc((size_t)st.st_size + 1))) {
        rc = -ENOMEM;
    } else {
        size_t got = 0, want = (size_t)st.st_size;
        while (got < want) {
            ssize_t r = read(fd, buf + got, want - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rc = -errno;
                break;
            }
            if (r == 0) /* the file shrank since fstat: what was read is the file */
                break;
            got += (size_t)r;
        }
        if (rc == 0)
            rc = mt_py_source_load_mem(s, buf, got);
        if (rc == 0)
            s->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    }
    free(buf);
    close(fd);
    return rc;
}

void mt_py_source_destroy(mt_py_source_t *s)
{
    free(s->text);
    free(s->lines);
    free(s->indent);
    memset(s, 0, sizeof *s);
}

const char *mt_py_source_line(const mt_py_source_t *s, uint32_t line)
{
    return line >= 1 && line <= s->n ? s->lines[line - 1] : NULL;
}

/* The line after the statement that starts at index i (0-based), as an index. */
static uint32_t mt_py_statement_next(const mt_py_source_t *s, uint32_t i)
{
    for (i++; i < s->n && s->indent[i] == MT_PY_SOURCE_CONTINUED; i++)
        ;
    return i;
}

static int mt_py_word(const char *p, const char *w)
{
    size_t l = strlen(w);
    return strncmp(p, w, l) == 0 && (p[l] == ' ' || p[l] == '\t' || p[l] == '(' || p[l] == ':');
}

static int mt_py_is_header(const char *p)
{
    if (mt_py_word(p, "async")) {
        p += 5;
        while (*p == ' ' || *p == '\t')
            p++;
    }
    return mt_py_word(p, "def") || mt_py_word(p, "class");
}

uint32_t mt_py_source_block_end(const mt_py_source_t *s, uint32_t first)
{
    if (first < 1 || first > s->n)
        return 0;
    uint32_t i = first - 1;
    /* decorators (one statement each, maybe over several lines), then the header */
    for (;;) {
        if (i >= s->n || s->indent[i] < 0)
            return 0;
        const char *p = s->lines[i] + strspn(s->lines[i], " \t\f");
        if (*p != '@')
            break;
        i = mt_py_statement_next(s, i);
        while (i < s->n && s->indent[i] == MT_PY_SOURCE_BLANK)
            i++;
    }
    const char *p = s->lines[i] + strspn(s->lines[i], " \t\f");
    if (!mt_py_is_header(p))
        return 0;
    int32_t header = s->indent[i];
    uint32_t next = mt_py_statement_next(s, i), end = next; /* a one-line def: its header */
    for (uint32_t j = next; j < s->n; j = mt_py_statement_next(s, j)) {
        if (s->indent[j] == MT_PY_SOURCE_BLANK)
            continue;
        if (s->indent[j] <= header)
            break;
        end = mt_py_statement_next(s, j);
    }
    /* end is an index one past the block's last line: as a line number, that last line */
    return end;
}

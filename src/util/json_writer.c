// SPDX-License-Identifier: MIT
// Streaming JSON writer (see json_writer.h). It never allocates; malformed UTF-8 becomes
// U+FFFD so the output always parses.
#include "json_writer.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

void mt_json_init(mt_json_t *j, FILE *out, int pretty)
{
    j->out = out;
    j->depth = 0;
    j->pretty = pretty;
    j->first[0] = 1;
    j->after_key = 0;
}

void mt_json_document_begin(mt_json_t *j, FILE *out, int pretty, const char *format,
                            const char *file)
{
    mt_json_init(j, out, pretty);
    mt_json_object_begin(j);
    mt_json_key(j, "format");
    mt_json_string(j, format);
    mt_json_key(j, "schema_version");
    mt_json_u64(j, 1);
    if (file) {
        mt_json_key(j, "file");
        mt_json_string(j, file);
    }
}

static void mt_json_indent(mt_json_t *j)
{
    if (!j->pretty)
        return;
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->out);
}

/* Separator before a value or key at the current level. */
static void mt_json_sep(mt_json_t *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0) {
        if (!j->first[j->depth])
            fputc(',', j->out);
        mt_json_indent(j);
    }
    j->first[j->depth] = 0;
}

static void mt_json_open(mt_json_t *j, char c)
{
    mt_json_sep(j);
    fputc(c, j->out);
    if (j->depth < MT_JSON_MAX_DEPTH - 1)
        j->depth++;
    j->first[j->depth] = 1;
}

static void mt_json_close(mt_json_t *j, char c)
{
    int empty = j->first[j->depth];
    if (j->depth > 0)
        j->depth--;
    if (!empty)
        mt_json_indent(j);
    fputc(c, j->out);
}

void mt_json_object_begin(mt_json_t *j)
{
    mt_json_open(j, '{');
}

void mt_json_object_end(mt_json_t *j)
{
    mt_json_close(j, '}');
}

void mt_json_array_begin(mt_json_t *j)
{
    mt_json_open(j, '[');
}

void mt_json_array_end(mt_json_t *j)
{
    mt_json_close(j, ']');
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid (overlong, surrogate, > U+10FFFF,
 * cut). */
size_t mt_json_utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

void mt_json_string_n(mt_json_t *j, const char *str, size_t n)
{
    mt_json_sep(j);
    const unsigned char *s = (const unsigned char *)str;
    FILE *o = j->out;
    fputc('"', o);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', o);
            fputc(c, o);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n':
                fputs("\\n", o);
                break;
            case '\t':
                fputs("\\t", o);
                break;
            case '\r':
                fputs("\\r", o);
                break;
            case '\b':
                fputs("\\b", o);
                break;
            case '\f':
                fputs("\\f", o);
                break;
            default:
                fprintf(o, "\\u%04x", c);
                break;
            }
            i++;
        } else if (c == 0x7f) {  /* DEL and C1 are valid raw in JSON; escaped they stay the */
            fputs("\\u007f", o); /* same string and cannot drive a terminal showing it */
            i++;
        } else if (c < 0x80) {
            fputc(c, o);
            i++;
        } else {
            size_t l = mt_json_utf8_len(s + i, n - i);
            if (l == 0) {
                fputs("\\ufffd", o);
                i++;
            } else if (c == 0xc2 && s[i + 1] < 0xa0) { /* U+0080-U+009F */
                fprintf(o, "\\u%04x", s[i + 1]);
                i += 2;
            } else {
                fwrite(s + i, 1, l, o);
                i += l;
            }
        }
    }
    fputc('"', o);
}

void mt_json_key(mt_json_t *j, const char *key)
{
    mt_json_string_n(j, key, strlen(key));
    fputs(j->pretty ? ": " : ":", j->out);
    j->after_key = 1;
}

void mt_json_key_u64(mt_json_t *j, const char *key, uint64_t v)
{
    mt_json_key(j, key);
    mt_json_u64(j, v);
}

void mt_json_key_string(mt_json_t *j, const char *key, const char *s)
{
    mt_json_key(j, key);
    mt_json_string(j, s);
}

void mt_json_key_double(mt_json_t *j, const char *key, double v)
{
    mt_json_key(j, key);
    mt_json_double(j, v);
}

void mt_json_key_bool(mt_json_t *j, const char *key, int v)
{
    mt_json_key(j, key);
    mt_json_bool(j, v);
}

void mt_json_string(mt_json_t *j, const char *s)
{
    if (!s)
        mt_json_null(j);
    else
        mt_json_string_n(j, s, strlen(s));
}

void mt_json_raw(mt_json_t *j, const char *json, size_t len)
{
    while (len > 0 && (json[len - 1] == '\n' || json[len - 1] == ' '))
        len--;
    mt_json_sep(j);
    fwrite(json, 1, len, j->out);
}

void mt_json_u64(mt_json_t *j, uint64_t v)
{
    mt_json_sep(j);
    fprintf(j->out, "%" PRIu64, v);
}

void mt_json_i64(mt_json_t *j, int64_t v)
{
    mt_json_sep(j);
    fprintf(j->out, "%" PRId64, v);
}

void mt_json_double(mt_json_t *j, double v)
{
    if (!isfinite(v) || fabs(v) >= 9.2e12) {
        if (!isfinite(v)) {
            mt_json_null(j);
            return;
        }
        mt_json_sep(j);
        /* integers print the same in every locale; past int64_t (a ratio of corrupt sample
         * values, say) the conversion would be undefined, and the double's digits do */
        if (fabs(v) < 9.2e18)
            fprintf(j->out, "%" PRId64, (int64_t)v);
        else
            fprintf(j->out, "%.0f", v);
        return;
    }
    mt_json_sep(j);
    int neg = v < 0;
    double a = neg ? -v : v;
    uint64_t micro = (uint64_t)llround(a * 1e6);
    uint64_t ip = micro / 1000000, fp = micro % 1000000;
    char frac[8];
    int k = 6;
    for (int i = 5; i >= 0; i--, fp /= 10)
        frac[i] = (char)('0' + fp % 10);
    while (k > 1 && frac[k - 1] == '0')
        k--;
    frac[k] = '\0';
    fprintf(j->out, "%s%" PRIu64 ".%s", neg && micro ? "-" : "", ip, frac);
}

void mt_json_bool(mt_json_t *j, int v)
{
    mt_json_sep(j);
    fputs(v ? "true" : "false", j->out);
}

void mt_json_null(mt_json_t *j)
{
    mt_json_sep(j);
    fputs("null", j->out);
}

int mt_json_finish(mt_json_t *j)
{
    fputc('\n', j->out);
    return ferror(j->out) ? -EIO : 0;
}

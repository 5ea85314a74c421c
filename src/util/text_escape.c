// SPDX-License-Identifier: MIT
// Terminal-safe text (see text_escape.h). One decoder, two sinks (a FILE or a buffer); no
// allocation, so it can sit on every name a report prints.
#include "text_escape.h"

#include <string.h>

#include "json_writer.h"

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when s[0] does not start one: the JSON
 * writer's test (overlong forms and surrogates are invalid, as RFC 3629 says). s ends with a
 * NUL, which ends any sequence, so no more than 4 bytes are looked at. */
static size_t mt_utf8_len(const unsigned char *s)
{
    return mt_json_utf8_len(s, 4);
}

/* The next piece of output for s: either a run to copy (returns its length, *esc empty) or one
 * escape in esc (returns the input bytes it stands for). */
static size_t mt_text_next(const unsigned char *s, char esc[16], size_t *esclen)
{
    static const char hex[] = "0123456789abcdef";
    *esclen = 0;
    size_t run = 0;
    for (;;) {
        unsigned c = s[run];
        if (c == 0)
            return run;
        if (c >= 0x20 && c < 0x7f) {
            run++;
            continue;
        }
        size_t n = c >= 0x80 ? mt_utf8_len(s + run) : 0;
        /* U+0080-U+009F are 0xc2 0x80-0x9f: C1 controls */
        if (n > 1 && !(c == 0xc2 && s[run + 1] < 0xa0)) {
            run += n;
            continue;
        }
        if (run)
            return run;
        if (n == 0)
            n = 1;
        for (size_t i = 0; i < n; i++) {
            unsigned b = s[i];
            if (b == '\n' || b == '\r' || b == '\t') {
                esc[(*esclen)++] = '\\';
                esc[(*esclen)++] = b == '\n' ? 'n' : b == '\r' ? 'r' : 't';
            } else {
                esc[(*esclen)++] = '\\';
                esc[(*esclen)++] = 'x';
                esc[(*esclen)++] = hex[b >> 4];
                esc[(*esclen)++] = hex[b & 15];
            }
        }
        return n;
    }
}

/* s with its unsafe characters escaped, or when masked replaced by as many mask characters
 * as they had bytes. */
static void mt_text_write(FILE *o, const char *s, int masked, char mask)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        char esc[16];
        size_t el, n = mt_text_next(p, esc, &el);
        if (!el)
            fwrite(p, 1, n, o);
        else if (!masked)
            fwrite(esc, 1, el, o);
        else
            for (size_t i = 0; i < n; i++)
                fputc(mask, o);
        p += n;
    }
}

void mt_text_put(FILE *o, const char *s)
{
    mt_text_write(o, s, 0, 0);
}

void mt_text_put_masked(FILE *o, const char *s, char mask)
{
    mt_text_write(o, s, 1, mask);
}

size_t mt_text_mask(char *dst, size_t cap, const char *s, char mask)
{
    size_t k = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        char esc[16];
        size_t el, n = mt_text_next(p, esc, &el);
        if (el) {
            if (k + n >= cap)
                break;
            memset(dst + k, mask, n);
            k += n;
            p += n;
            continue;
        }
        for (size_t i = 0; i < n;) { /* a run of whole characters: as many as fit */
            size_t c = mt_utf8_len(p + i);
            if (k + c >= cap)
                goto out;
            memcpy(dst + k, p + i, c);
            k += c;
            i += c;
        }
        p += n;
    }
out:
    dst[k] = '\0';
    return k;
}

const char *mt_text_safe(char *buf, size_t len, const char *s)
{
    size_t k = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        char esc[16];
        size_t el, n = mt_text_next(p, esc, &el);
        const char *src = el ? esc : (const char *)p;
        size_t m = el ? el : n;
        if (k + m >= len) {
            if (el)
                break;
            /* a run of whole characters: keep the ones that fit */
            size_t fit = 0;
            while (fit < n) {
                size_t c = mt_utf8_len(p + fit);
                if (k + fit + c >= len)
                    break;
                fit += c;
            }
            memcpy(buf + k, p, fit);
            k += fit;
            break;
        }
        memcpy(buf + k, src, m);
        k += m;
        p += n;
    }
    buf[k] = '\0';
    return buf;
}

int mt_text_is_clean(const char *s)
{
    char esc[16];
    size_t el;
    const unsigned char *p = (const unsigned char *)s;
    return mt_text_next(p, esc, &el) == strlen(s) && el == 0;
}

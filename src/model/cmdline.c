// SPDX-License-Identifier: MIT
// Joining argv as a shell would take it back (see cmdline.h).
#include "cmdline.h"

#include <stdlib.h>
#include <string.h>

/* Characters a POSIX shell leaves alone in an unquoted word. */
static int mt_cmdline_plain(const char *s)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789/._-+,%=:@";
    return s[0] != '\0' && s[strspn(s, ok)] == '\0';
}

/* Room for arg once quoted: 'it'\''s' takes 4 more bytes per quote and 2 around. */
static size_t mt_cmdline_room(const char *s)
{
    size_t n = strlen(s) + 2;
    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 3 : 0;
    return n;
}

static char *mt_cmdline_put(char *out, const char *s)
{
    if (mt_cmdline_plain(s)) {
        size_t n = strlen(s);
        memcpy(out, s, n);
        return out + n;
    }
    *out++ = '\'';
    for (; *s; s++) {
        if (*s == '\'') {
            memcpy(out, "'\\''", 4);
            out += 4;
        } else {
            *out++ = *s;
        }
    }
    *out++ = '\'';
    return out;
}

char *mt_cmdline_join(char *const *argv, size_t argc)
{
    size_t n = 1;
    for (size_t i = 0; i < argc; i++)
        n += mt_cmdline_room(argv[i]) + 1;
    char *s = malloc(n), *p = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < argc; i++) {
        if (i)
            *p++ = ' ';
        p = mt_cmdline_put(p, argv[i]);
    }
    *p = '\0';
    return s;
}

// SPDX-License-Identifier: MIT
// XML/HTML escaping (see xml_escape.h). Both XML 1.0 and HTML accept every character written
// here in text and in quoted attribute values; nothing else is ever written raw.
#include "xml_escape.h"

#include <string.h>

#include "json_writer.h"

size_t mt_xml_escape(FILE *o, const char *str, size_t max_chars)
{
    if (!str)
        return 0;
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str), chars = 0;
    for (size_t i = 0; i < n;) {
        if (max_chars && chars == max_chars) {
            fputs("...", o);
            return chars + 3;
        }
        unsigned c = s[i];
        chars++;
        switch (c) {
        case '&':
            fputs("&amp;", o);
            i++;
            continue;
        case '<':
            fputs("&lt;", o);
            i++;
            continue;
        case '>':
            fputs("&gt;", o);
            i++;
            continue;
        case '"':
            fputs("&quot;", o);
            i++;
            continue;
        case '\'':
            fputs("&#39;", o);
            i++;
            continue;
        default:
            break;
        }
        if (c < 0x20 || c == 0x7f) { /* not allowed in XML 1.0 (tab/newline would be folded) */
            fputs("\xef\xbf\xbd", o);
            i++;
            continue;
        }
        size_t l = mt_json_utf8_len(s + i, n - i);
        if (l == 0) {
            fputs("\xef\xbf\xbd", o);
            i++;
            continue;
        }
        fwrite(s + i, 1, l, o);
        i += l;
    }
    return chars;
}

// SPDX-License-Identifier: MIT
// Escaping of arbitrary bytes (function names, paths, titles from a log) for XML and HTML text
// and attribute values: markup characters become entities, control characters and invalid
// UTF-8 become U+FFFD, so a C++ template name or a corrupt log can never break the document.
#ifndef MT_XML_ESCAPE_H
#define MT_XML_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Writes s escaped; NULL writes nothing. max_chars > 0: at most that many characters, then
 * "..." (a long C++ name must not blow up the page). Returns the characters written. */
size_t mt_xml_escape(FILE *out, const char *s, size_t max_chars);

#endif

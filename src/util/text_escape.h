// SPDX-License-Identifier: MIT
// Terminal-safe text: every string that comes from the profiled program or the log (argv,
// paths, symbol and file names, notices) goes through here before a text report prints it,
// so that no name can move the cursor, set the title, clear the screen or forge a line.
// JSON, XML and the export formats have their own escaping; this is the text reports' one.
#ifndef MT_TEXT_ESCAPE_H
#define MT_TEXT_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/*
 * What is escaped: C0 controls (\n, \r and \t as those two characters, the others as \xNN:
 * ESC is \x1b, BEL \x07), DEL (\x7f), C1 controls (U+0080-U+009F, written as the \xNN of their
 * two UTF-8 bytes) and every byte that is not part of valid UTF-8 (\xNN: a raw 0x9b is CSI on
 * an 8-bit terminal). Everything else, including all printable UTF-8, is copied as is;
 * a backslash stays a backslash (readability over a reversible encoding).
 */

/* Writes s escaped; NULL writes nothing. */
void mt_text_put(FILE *o, const char *s);

/* s escaped into buf (len > 0), cut at a whole escape or character when it does not fit, always
 * NUL-terminated; returns buf. For printf's %s (widths, snprintf into a line). */
const char *mt_text_safe(char *buf, size_t len, const char *s);

/* s with every byte that would be escaped replaced by mask, one mask per byte: for formats
 * where an escape would change the meaning, such as a generated suppression ('?' is a
 * valgrind wildcard for one character). NULL writes nothing. */
void mt_text_put_masked(FILE *o, const char *s, char mask);

/* The same into dst (cap > 0), cut between characters, always NUL-terminated; returns the
 * length written. For formats built in a buffer (folded stacks). */
size_t mt_text_mask(char *dst, size_t cap, const char *s, char mask);

/* 1 when s (not NULL) needs no escaping. */
int mt_text_is_clean(const char *s);

#endif

// SPDX-License-Identifier: MIT
// A small streaming JSON writer: nesting and commas tracked for the caller, strings escaped
// and forced to valid UTF-8 (paths and names from a log are arbitrary bytes), doubles written
// without printf so the locale can never turn "1.5" into "1,5". Output goes straight to a FILE.
#ifndef MT_JSON_WRITER_H
#define MT_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MT_JSON_MAX_DEPTH 32

typedef struct mt_json {
    FILE *out;
    int depth;
    int pretty;
    int first[MT_JSON_MAX_DEPTH]; /* no element written yet at this level */
    int after_key;
} mt_json_t;

void mt_json_init(mt_json_t *j, FILE *out, int pretty);
/* mt_json_init, then the opening of a memtrace document (docs/json-schema.md): the top object
 * with its "format" and "schema_version" keys, then "file" unless file is NULL. */
void mt_json_document_begin(mt_json_t *j, FILE *out, int pretty, const char *format,
                            const char *file);
void mt_json_object_begin(mt_json_t *j);
void mt_json_object_end(mt_json_t *j);
void mt_json_array_begin(mt_json_t *j);
void mt_json_array_end(mt_json_t *j);
void mt_json_key(mt_json_t *j, const char *key);
void mt_json_string(mt_json_t *j, const char *s); /* NULL writes null */
void mt_json_string_n(mt_json_t *j, const char *s, size_t n);
void mt_json_u64(mt_json_t *j, uint64_t v);
void mt_json_i64(mt_json_t *j, int64_t v);
/* Fixed 6 decimals, trailing zeros trimmed; NaN and infinities write null. */
void mt_json_double(mt_json_t *j, double v);
void mt_json_bool(mt_json_t *j, int v);
void mt_json_null(mt_json_t *j);
/* A key and its value: mt_json_key, then the value's writer. */
void mt_json_key_u64(mt_json_t *j, const char *key, uint64_t v);
void mt_json_key_string(mt_json_t *j, const char *key, const char *s); /* NULL writes null */
void mt_json_key_double(mt_json_t *j, const char *key, double v);
void mt_json_key_bool(mt_json_t *j, const char *key, int v);
/* A value that is already JSON (another report's whole document, rendered by its own
 * writer), written as it is; trailing whitespace is dropped. The caller vouches for it. */
void mt_json_raw(mt_json_t *j, const char *json, size_t len);
/* Ends the document with a newline. Returns 0 or -EIO if the stream had an error. */
int mt_json_finish(mt_json_t *j) __attribute__((warn_unused_result));

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is invalid or cut at n. Also
 * used by the XML/HTML escaper. */
size_t mt_json_utf8_len(const unsigned char *s, size_t n);

#endif

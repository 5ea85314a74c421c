// SPDX-License-Identifier: MIT
// A Python source file read from disk for the line-by-line view (`memtrace lines`): its lines,
// and where a def or class block ends, found from indentation the way Python's tokenizer sees
// it (brackets, continuation lines and triple-quoted strings do not end a block). Reads only
// the file it is given; never runs or imports anything.
#ifndef MT_PY_SOURCE_H
#define MT_PY_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "log_reader.h" /* MT_WUR */

/* Bigger files are refused (-EFBIG): a script is not 64 MiB of source. */
#define MT_PY_SOURCE_MAX_BYTES (64u << 20)

typedef struct mt_py_source {
    char *text;      /* the file, each line cut at its end ('\n' replaced by '\0') */
    char **lines;    /* lines[i] is line i + 1, without its line end ("\r\n" too) */
    int32_t *indent; /* per line: its indentation (tabs to multiples of 8) when it starts a
                      * statement; MT_PY_SOURCE_BLANK or MT_PY_SOURCE_CONTINUED otherwise */
    uint32_t n;
    int64_t mtime_ns; /* the file's modification time (mt_py_source_load; 0 from memory) */
} mt_py_source_t;

#define MT_PY_SOURCE_BLANK (-1)     /* empty or only a comment, outside any bracket or string */
#define MT_PY_SOURCE_CONTINUED (-2) /* inside brackets, a string or after a backslash */

/* Reads path. 0, or a negative errno (-ENOENT, -EACCES, -EFBIG, -ENOMEM, ...). */
int mt_py_source_load(mt_py_source_t *s, const char *path) MT_WUR;
/* The same from a buffer (tests). */
int mt_py_source_load_mem(mt_py_source_t *s, const char *buf, size_t len) MT_WUR;
void mt_py_source_destroy(mt_py_source_t *s);

/* Line number line (from 1), or NULL beyond the file. */
const char *mt_py_source_line(const mt_py_source_t *s, uint32_t line);

/* The last line of the def or class block whose first line (a decorator or the header, as a
 * code object's co_firstlineno says) is first: the last line of the last statement indented
 * deeper than the header. 0 when no def or class header starts there. */
uint32_t mt_py_source_block_end(const mt_py_source_t *s, uint32_t first);

#endif

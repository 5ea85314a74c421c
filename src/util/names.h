// SPDX-License-Identifier: MIT
// How function names and source paths are shown to a person: C++ template arguments shortened
// ("std::vector<>::_M_realloc_insert<>(...)", as heaptrack_print does) unless full names were
// asked for, paths relative to the current directory when the file is under it. Display only:
// frames keep the full names and paths (JSON, suppressions and matching use those).
#ifndef MT_NAMES_H
#define MT_NAMES_H

#include <stddef.h>

/* Full names everywhere (the commands' --full-names); shortened by default. Process-wide: one
 * command renders with one choice. */
void mt_names_set_full(int full);
int mt_names_full(void);

/*
 * name with every template argument list emptied ("<>"), "std::__cxx11::" read as "std::",
 * parameter lists kept (overloads stay apart) with their own templates emptied. Operators
 * (operator<, operator<<, operator->, operator()) and lambdas ({lambda(int)#1}) are kept as
 * they are. Writes at most cap bytes with a NUL (cap > 0) and returns the length of the
 * whole result; a name whose brackets do not balance is copied unchanged.
 */
size_t mt_name_shorten(char *dst, size_t cap, const char *name);

/* The name to show: name itself when full names are asked for or nothing would change,
 * else the shortened name in buf (cut to cap). NULL stays NULL. */
const char *mt_name_show(const char *name, char *buf, size_t cap);

/* 1 when path is absolute and lies under dir (a directory, absolute, no trailing slash
 * needed); *rest is then the part after dir and its slash. */
int mt_path_under(const char *path, const char *dir, const char **rest);

/*
 * path as a person in the current directory reads it: relative to the current directory when
 * the file is under it ("src/util.c"), else as recorded (absolute, or as the debug
 * information named it when it is not absolute). Never climbs out with "../". Returns path
 * itself or a pointer into it.
 */
const char *mt_path_show(const char *path);
/* The same against dir instead of the current directory (tests; NULL dir: path unchanged). */
const char *mt_path_show_in(const char *path, const char *dir);

/* The source root of SARIF locations (%SRCROOT%, the repository's top for GitHub code
 * scanning) seen from dir: the nearest of dir and its parents holding a ".git" (a checkout or
 * a worktree), else dir itself. Writes it to buf (cap bytes) and returns buf, or NULL when it
 * does not fit. */
char *mt_path_source_root(char *buf, size_t cap, const char *dir);

/* Lexically joins dir and a relative path, resolving "." and ".." ("/b/build" + "../src/a.c"
 * = "/b/src/a.c"); writes at most cap bytes with a NUL and returns the full length. */
size_t mt_path_join(char *dst, size_t cap, const char *dir, const char *rel);

#endif

// SPDX-License-Identifier: MIT
// Symbolizer: module-relative addresses to (function, file, line) frames with elfutils libdwfl,
// inlined calls expanded innermost first, C++ names demangled, separate debug files found by
// build-id or .gnu_debuglink. Results are cached per (module, address); strings are interned,
// so equal names are equal pointers. It never needs the traced process, only its files.
#ifndef MT_SYMBOLIZER_H
#define MT_SYMBOLIZER_H

#include <stddef.h>
#include <stdint.h>

#include "modules.h"

typedef struct mt_frame {
    const char *function; /* demangled; NULL when unknown */
    const char *file;     /* source file; NULL when unknown */
    uint32_t line;        /* 0 when unknown */
    uint32_t module;      /* module index (mt_modules_get) or MT_NO_MODULE */
    uint64_t address;     /* module-relative address as recorded (what addr2line takes) */
    int inlined;          /* 1: inlined into the next frame (same recorded address) */
    int python;           /* 1: a Python frame (function, file and line of a script) */
} mt_frame_t;

typedef struct mt_symbolizer mt_symbolizer_t;

int mt_symbolizer_new(mt_symbolizer_t **out, const mt_modules_t *mods) MT_WUR;
void mt_symbolizer_free(mt_symbolizer_t *s);
/* From now on, open no file: every frame is module+offset (fuzzing, untrusted logs). */
void mt_symbolizer_set_offline(mt_symbolizer_t *s);
/* Closes every module's files (libdw's handles: DWARF, often decompressed, symbol tables),
 * keeping every answer given so far; a later lookup of a new address opens the module again.
 * For callers that have asked for all they will need: a debug libc alone is 15 MB. */
void mt_symbolizer_release_files(mt_symbolizer_t *s);

/*
 * Frames for one recorded address, innermost first (more than one when calls were inlined).
 * return_address: the address is a return address (every frame but the innermost of a stack),
 * so the call instruction is looked up at address - 1. On success *frames stays valid until
 * the next lookup (copy what you keep; the strings in it live until mt_symbolizer_free) and the
 * count (>= 1) is returned; -ENOMEM otherwise. A module whose file
 * is missing or has another build-id gives one frame with only module and address.
 */
int mt_symbolizer_lookup(mt_symbolizer_t *s, uint32_t module, uint64_t address, int return_address,
                         const mt_frame_t **frames) MT_WUR;

/* The same lookup answered as a reference that stays valid while the frames it names may
 * move: the count (>= 1) or -ENOMEM, and *ref for mt_symbolizer_frames. For callers that keep
 * answers per address of their own (sites, per trace-node location). */
int mt_symbolizer_lookup_ref(mt_symbolizer_t *s, uint32_t module, uint64_t address,
                             int return_address, uint32_t *ref) MT_WUR;
/* The frames of a reference, valid until the next lookup. */
const mt_frame_t *mt_symbolizer_frames(const mt_symbolizer_t *s, uint32_t ref);

/* Interns a string (stable pointer, equal strings give equal pointers); NULL on ENOMEM. */
const char *mt_symbolizer_intern(mt_symbolizer_t *s, const char *str);

/* Problems met so far, one line each and once per module ("libfoo.so: file not found, shown as
 * module+offset"). */
size_t mt_symbolizer_warning_count(const mt_symbolizer_t *s);
const char *mt_symbolizer_warning(const mt_symbolizer_t *s, size_t i);

/* Demangles a C++ symbol into a malloc'ed string, or returns NULL if it is not mangled. */
char *mt_demangle(const char *name);

#endif

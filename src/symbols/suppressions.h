// SPDX-License-Identifier: MIT
// Leak suppressions in the two formats teams already have: LeakSanitizer (`leak:PATTERN`
// lines) and valgrind (`{ name / Memcheck:Leak / match-leak-kinds: / fun: obj: src: ... }`),
// detected per file. Matching is pure string work on symbolized frames; no I/O but the load.
#ifndef MT_SUPPRESSIONS_H
#define MT_SUPPRESSIONS_H

#include <stddef.h>
#include <stdint.h>

#define MT_SUPP_WUR __attribute__((warn_unused_result))

enum mt_supp_frame_kind {
    MT_SUPP_FUN = 0,      /* fun:PATTERN, the function name */
    MT_SUPP_OBJ = 1,      /* obj:PATTERN, the module's path */
    MT_SUPP_SRC = 2,      /* src:PATTERN[:LINE], the source file (valgrind 3.16+) */
    MT_SUPP_ELLIPSIS = 3, /* ...: any number of frames, none included */
};

typedef struct mt_supp_pattern {
    int kind; /* enum mt_supp_frame_kind */
    char *text;
    uint32_t line; /* src: only, 0 = any */
} mt_supp_pattern_t;

typedef struct mt_supp {
    char *name; /* valgrind: the block's name; LSan: "leak:PATTERN" */
    char *file;
    unsigned line;
    int lsan;       /* 1: an LSan template matched against every frame */
    unsigned kinds; /* valgrind match-leak-kinds as a 1u << kind mask (all when absent) */
    mt_supp_pattern_t *frames;
    size_t nframes;
    uint64_t matched_leaks, matched_bytes, matched_blocks; /* filled by the leak report */
} mt_supp_t;

typedef struct mt_supps {
    mt_supp_t *v;
    size_t n;
} mt_supps_t;

/* One frame as the matcher sees it; any field may be NULL. */
typedef struct mt_supp_frame {
    const char *function, *module, *file;
    uint32_t line;
} mt_supp_frame_t;

void mt_supps_init(mt_supps_t *s);
void mt_supps_destroy(mt_supps_t *s);
/* Adds the suppressions of one file. On error returns a negative errno and writes one line
 * to err: "supp.txt: cannot open: No such file or directory", "supp.txt:12: ...". */
int mt_supps_load(mt_supps_t *s, const char *path, char *err, size_t errlen) MT_SUPP_WUR;
/* The same from text; name is used for messages and as the suppression's file. */
int mt_supps_parse(mt_supps_t *s, const char *text, size_t len, const char *name, char *err,
                   size_t errlen) MT_SUPP_WUR;

/* Index of the first suppression matching a leak of this kind (enum mt_leaks_kind; an
 * unclassified leak matches whatever the kinds) with this stack (innermost first), or -1. */
long mt_supps_match(const mt_supps_t *s, unsigned kind, const mt_supp_frame_t *frames, size_t n);

/* valgrind's wildcards: '*' any run of characters, '?' one character, whole string. */
int mt_supps_glob(const char *pattern, const char *s);
/* LeakSanitizer's TemplateMatch: '*' wildcards, substring match unless anchored with a leading
 * '^' or a trailing '$'. */
int mt_supps_template(const char *templ, const char *s);

#endif

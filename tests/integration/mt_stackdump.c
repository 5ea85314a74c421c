// SPDX-License-Identifier: MIT
// Test helper: every allocation of a log with its whole recorded stack, one line each, as the
// recorder wrote it (no frame hidden, unlike the reports): "SIZE|frame;frame;..." innermost
// first, a native frame as module:offset (ASLR-free), a Python frame as file:line:function.
// The integration tests compare two runs' lines as multisets (py-nested-cache). With
// --locations, each PY_LOCATION record too, as it comes: "LOC|file:function:line"; with --mmaps,
// each anonymous mapping too: "MMAP|SIZE|frame;...".
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_reader.h"

typedef struct node {
    uint64_t parent, ip;
} node_t;

typedef struct module {
    char path[256];
    uint64_t bias;
    mt_segment_t segs[16];
    size_t nsegs;
} module_t;

typedef struct pyname {
    char text[512];
    uint64_t code; /* PY_LOCATION: its code id */
    uint64_t line;
} pyname_t;

#define GROW(v, cap, need)                                                                         \
    do {                                                                                           \
        if ((need) >= (cap)) {                                                                     \
            size_t c_ = (cap) ? (cap)*2 : 1024;                                                    \
            while (c_ <= (need))                                                                   \
                c_ *= 2;                                                                           \
            void *p_ = realloc((v), c_ * sizeof *(v));                                             \
            if (!p_) {                                                                             \
                fputs("mt_stackdump: out of memory\n", stderr);                                    \
                exit(2);                                                                           \
            }                                                                                      \
            memset((char *)p_ + (cap) * sizeof *(v), 0, (c_ - (cap)) * sizeof *(v));               \
            (v) = p_;                                                                              \
            (cap) = c_;                                                                            \
        }                                                                                          \
    } while (0)

static node_t *nodes;
static size_t nodes_cap;
static module_t *mods;
static size_t mods_cap, nmods;
static pyname_t *codes, *locs;
static size_t codes_cap, locs_cap;

static void frame(uint64_t ip)
{
    if ((ip & MT_PY_IP_BIT) && (ip & MT_PY_IP_GAP)) {
        printf("[gap %u]", (unsigned)ip);
        return;
    }
    if (ip & MT_PY_IP_BIT) {
        uint64_t id = ip & ~MT_PY_IP_BIT;
        const pyname_t *l = id < locs_cap ? &locs[id] : NULL;
        const pyname_t *c = l && l->code < codes_cap ? &codes[l->code] : NULL;
        printf("%s:%llu", c ? c->text : "?", l ? (unsigned long long)l->line : 0ull);
        return;
    }
    for (size_t m = 0; m < nmods; m++)
        for (size_t s = 0; s < mods[m].nsegs; s++) {
            uint64_t off = ip - mods[m].bias;
            if (off >= mods[m].segs[s].vaddr &&
                off < mods[m].segs[s].vaddr + mods[m].segs[s].memsz) {
                const char *base = strrchr(mods[m].path, '/');
                printf("%s+%llx", base ? base + 1 : mods[m].path, (unsigned long long)off);
                return;
            }
        }
    printf("?%llx", (unsigned long long)ip);
}

int main(int argc, char **argv)
{
    int show_locs = argc == 3 && strcmp(argv[1], "--locations") == 0;
    int show_maps = argc == 3 && strcmp(argv[1], "--mmaps") == 0;
    if (argc != 2 && !show_locs && !show_maps) {
        fputs("usage: mt_stackdump [--locations|--mmaps] LOG\n", stderr);
        return 2;
    }
    mt_reader_t *r;
    char err[256];
    if (mt_reader_open(&r, argv[argc - 1], err, sizeof err) < 0) {
        fprintf(stderr, "mt_stackdump: %s\n", err);
        return 1;
    }
    mt_record_t rec;
    int rc;
    while ((rc = mt_reader_next(r, &rec)) > 0) {
        switch (rec.tag) {
        case MT_TAG_TRACE_NODE:
            GROW(nodes, nodes_cap, rec.id);
            nodes[rec.id] = (node_t){rec.parent, rec.ip};
            break;
        case MT_TAG_MODULE_LOAD: {
            GROW(mods, mods_cap, nmods);
            module_t *m = &mods[nmods++];
            snprintf(m->path, sizeof m->path, "%.*s", (int)rec.str.len, rec.str.ptr);
            m->bias = rec.ip;
            m->nsegs = rec.nsegs < 16 ? rec.nsegs : 16;
            memcpy(m->segs, rec.segs, m->nsegs * sizeof *m->segs);
            break;
        }
        case MT_TAG_PY_CODE:
            GROW(codes, codes_cap, rec.id);
            snprintf(codes[rec.id].text, sizeof codes[rec.id].text, "%.*s:%.*s", (int)rec.str2.len,
                     rec.str2.ptr, (int)rec.str.len, rec.str.ptr);
            break;
        case MT_TAG_PY_LOCATION:
            GROW(locs, locs_cap, rec.id);
            locs[rec.id].code = rec.parent;
            locs[rec.id].line = rec.a;
            if (show_locs)
                printf("LOC|%s:%llu\n", rec.parent < codes_cap ? codes[rec.parent].text : "?",
                       (unsigned long long)rec.a);
            break;
        case MT_TAG_MMAP:
            if (!show_maps)
                break;
            fputs("MMAP|", stdout);
            /* fall through */
        case MT_TAG_ALLOC:
            printf("%llu|", (unsigned long long)rec.size);
            for (uint64_t id = rec.node, depth = 0; id && id < nodes_cap && depth < 1024;
                 id = nodes[id].parent, depth++) {
                if (depth)
                    putchar(';');
                frame(nodes[id].ip);
            }
            putchar('\n');
            break;
        default:
            break;
        }
    }
    mt_reader_close(r);
    if (rc < 0) {
        fputs("mt_stackdump: the log is corrupt\n", stderr);
        return 1;
    }
    return 0;
}

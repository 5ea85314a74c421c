// SPDX-License-Identifier: MIT
// Leak-scan replay (see leak_class.h). The verdicts of one scan live in a hash table only
// between LEAK_SCAN and LEAK_SCAN_END; at the end they are folded into per (node, kind) sums,
// so memory after the scan is bounded by distinct stacks, not by blocks.
#include "leak_class.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void mt_leakclass_init(mt_leakclass_t *c)
{
    memset(c, 0, sizeof *c);
}

static void mt_leakclass_tab_clear(mt_leakclass_t *c)
{
    free(c->tab);
    c->tab = NULL;
    c->tab_mask = 0;
    c->tab_n = 0;
}

void mt_leakclass_destroy(mt_leakclass_t *c)
{
    mt_leakclass_tab_clear(c);
    free(c->groups);
    memset(c, 0, sizeof *c);
}

static uint64_t mt_leakclass_hash(uint64_t a)
{
    a ^= a >> 33;
    a *= 0xff51afd7ed558ccdull;
    a ^= a >> 33;
    return a;
}

static mt_leakclass_entry_t *mt_leakclass_tab_find(const mt_leakclass_t *c, uint64_t addr)
{
    if (!c->tab)
        return NULL;
    for (uint64_t i = mt_leakclass_hash(addr) & c->tab_mask;; i = (i + 1) & c->tab_mask) {
        if (c->tab[i].addr == addr)
            return &c->tab[i];
        if (c->tab[i].addr == 0)
            return NULL;
    }
}

static int mt_leakclass_tab_put(mt_leakclass_t *c, uint64_t addr, uint32_t kind, uint64_t extra)
{
    if ((c->tab_n + 1) * 2 > (c->tab ? c->tab_mask + 1 : 0)) {
        uint64_t ncap = c->tab ? (c->tab_mask + 1) * 2 : 1024;
        mt_leakclass_entry_t *nt = calloc(ncap, sizeof *nt);
        if (!nt)
            return -ENOMEM;
        for (uint64_t i = 0; c->tab && i <= c->tab_mask; i++) {
            if (!c->tab[i].addr)
                continue;
            uint64_t j = mt_leakclass_hash(c->tab[i].addr) & (ncap - 1);
            while (nt[j].addr)
                j = (j + 1) & (ncap - 1);
            nt[j] = c->tab[i];
        }
        free(c->tab);
        c->tab = nt;
        c->tab_mask = ncap - 1;
    }
    uint64_t j = mt_leakclass_hash(addr) & c->tab_mask;
    while (c->tab[j].addr)
        j = (j + 1) & c->tab_mask;
    c->tab[j] = (mt_leakclass_entry_t){addr, extra, kind};
    c->tab_n++;
    return 0;
}

int mt_leakclass_scan(mt_leakclass_t *c, const mt_replay_t *r, const mt_record_t *rec)
{
    if (c->in_scan) /* a scan that never ended: its verdicts are not to be trusted */
        c->inconsistencies++;
    mt_leakclass_tab_clear(c);
    c->in_scan = 1;
    c->listed = 0;
    c->scans++;
    c->scan_time_us = rec->time_us;
    c->scan_blocks = rec->a;
    c->threads_stopped = rec->b;
    c->threads_missed = rec->c;
    c->root_bytes = rec->size;
    c->replay_blocks = r->all_heap_blocks; /* the recorder's count is of every thread's */
    return 0;
}

int mt_leakclass_block(mt_leakclass_t *c, const mt_replay_t *r, const mt_record_t *rec)
{
    if (!c->in_scan || rec->addr == 0 || rec->a > MT_LEAKS_POSSIBLE) {
        c->inconsistencies++;
        return 0;
    }
    c->listed++;
    /* The recorder checks a custom block in place of a malloc block at the same address (the
     * pool's slab, which it never checks: leak_scan.c), so the custom one is meant first. */
    uint64_t key = rec->addr | MT_BLOCK_CUSTOM_BIT;
    if (!mt_replay_find(r, key))
        key = rec->addr;
    if (!mt_replay_find(r, key) || mt_leakclass_tab_find(c, key)) {
        c->inconsistencies++; /* not live, or listed twice: keep the first verdict */
        return 0;
    }
    uint64_t extra = rec->b;
    if (rec->a == MT_LEAKS_INDIRECT && mt_replay_find(r, extra | MT_BLOCK_CUSTOM_BIT))
        extra |= MT_BLOCK_CUSTOM_BIT; /* its leader is a custom block */
    return mt_leakclass_tab_put(c, key, (uint32_t)rec->a, extra);
}

typedef struct mt_leakclass_item {
    uint32_t node, kind;
    uint64_t size, extra;
} mt_leakclass_item_t;

typedef struct mt_leakclass_walk {
    mt_leakclass_t *c;
    const mt_replay_t *r;
    mt_leakclass_item_t *items;
    size_t n, cap;
} mt_leakclass_walk_t;

static void mt_leakclass_visit(const mt_block_t *b, void *arg)
{
    mt_leakclass_walk_t *w = arg;
    if (w->n == w->cap) /* all_heap_blocks counts live blocks: cannot happen, never overrun */
        return;
    if (!mt_replay_block_selected(w->r, b)) /* a thread filter: another thread's block */
        return;
    const mt_leakclass_entry_t *e = mt_leakclass_tab_find(w->c, b->addr);
    mt_leakclass_item_t *it = &w->items[w->n++];
    it->node = b->node;
    it->kind = e ? e->kind : MT_LEAKS_REACHABLE;
    it->size = b->size;
    it->extra = e && e->kind == MT_LEAKS_DEFINITE ? e->extra : 0;
}

static int mt_leakclass_item_cmp(const void *pa, const void *pb)
{
    const mt_leakclass_item_t *a = pa, *b = pb;
    if (a->node != b->node)
        return a->node < b->node ? -1 : 1;
    return (a->kind > b->kind) - (a->kind < b->kind);
}

int mt_leakclass_end(mt_leakclass_t *c, const mt_replay_t *r, const mt_record_t *rec)
{
    if (!c->in_scan) {
        c->inconsistencies++;
        return 0;
    }
    if (rec->a != c->listed)
        c->inconsistencies++;
    /* An indirect block belongs to a definite leader listed in the same scan. */
    for (uint64_t i = 0; c->tab && i <= c->tab_mask; i++) {
        if (c->tab[i].addr && c->tab[i].kind == MT_LEAKS_INDIRECT) {
            const mt_leakclass_entry_t *l = mt_leakclass_tab_find(c, c->tab[i].extra);
            if (!l || l->kind != MT_LEAKS_DEFINITE)
                c->inconsistencies++;
        }
    }
    mt_leakclass_walk_t w = {
        c, r, malloc((r->all_heap_blocks ? r->all_heap_blocks : 1) * sizeof *w.items), 0,
        r->all_heap_blocks};
    if (!w.items)
        return -ENOMEM;
    mt_replay_each_live(r, mt_leakclass_visit, &w);
    qsort(w.items, w.n, sizeof *w.items, mt_leakclass_item_cmp);
    free(c->groups);
    c->groups = NULL;
    c->ngroups = 0;
    memset(c->bytes, 0, sizeof c->bytes);
    memset(c->blocks, 0, sizeof c->blocks);
    size_t ng = 0;
    for (size_t i = 0; i < w.n; i++)
        if (i == 0 || mt_leakclass_item_cmp(&w.items[i - 1], &w.items[i]) != 0)
            ng++;
    c->groups = calloc(ng ? ng : 1, sizeof *c->groups);
    if (!c->groups) {
        free(w.items);
        return -ENOMEM;
    }
    for (size_t i = 0; i < w.n; i++) {
        const mt_leakclass_item_t *it = &w.items[i];
        if (i == 0 || mt_leakclass_item_cmp(&w.items[i - 1], it) != 0)
            c->groups[c->ngroups++] = (mt_leak_group_t){.node = it->node, .kind = it->kind};
        mt_leak_group_t *g = &c->groups[c->ngroups - 1];
        g->bytes += it->size;
        g->blocks++;
        g->indirect_bytes += it->extra;
        c->bytes[it->kind] += it->size;
        c->blocks[it->kind]++;
    }
    free(w.items);
    mt_leakclass_tab_clear(c);
    c->in_scan = 0;
    c->complete = 1;
    return 0;
}

static const char *const mt_leakclass_names[MT_LEAKS_NKINDS] = {"definite", "indirect", "possible",
                                                                "reachable", "unclassified"};

const char *mt_leakclass_kind_name(unsigned kind)
{
    return kind < MT_LEAKS_NKINDS ? mt_leakclass_names[kind] : NULL;
}

int mt_leakclass_kind_parse(const char *s, size_t len)
{
    for (int k = 0; k < MT_LEAKS_NKINDS; k++)
        if (strlen(mt_leakclass_names[k]) == len && memcmp(s, mt_leakclass_names[k], len) == 0)
            return k;
    return -1;
}

int mt_leakclass_parse_kinds(const char *list, unsigned *mask, char *bad, size_t badlen)
{
    unsigned m = 0;
    const char *p = list;
    if (strcmp(list, "all") == 0) {
        *mask = (1u << MT_LEAKS_NKINDS) - 1;
        return 0;
    }
    if (strcmp(list, "none") == 0) {
        *mask = 0;
        return 0;
    }
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int k = mt_leakclass_kind_parse(p, len);
        if (k < 0) {
            if (badlen) {
                size_t n = len < badlen - 1 ? len : badlen - 1;
                memcpy(bad, p, n);
                bad[n] = '\0';
            }
            return -EINVAL;
        }
        m |= 1u << k;
        if (!e)
            break;
        p = e + 1;
    }
    *mask = m;
    return 0;
}

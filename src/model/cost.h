// SPDX-License-Identifier: MIT
// What a site, a stack or a frame weighs: one enum for the reports' rankings, the flame graph,
// the exports and every command's --cost, with one name each ("allocations" is the number of
// calls everywhere, "allocated" the bytes).
#ifndef MT_COST_H
#define MT_COST_H

enum mt_cost {
    MT_COST_PEAK,        /* bytes held at the heap's peak */
    MT_COST_LEAKED,      /* bytes not freed at exit (a Python script: held at its end) */
    MT_COST_ALLOCATIONS, /* number of allocation calls */
    MT_COST_ALLOCATED,   /* bytes requested by every allocation call */
    MT_COST_TEMPORARY,   /* allocations freed before the same thread allocated again */
};
#define MT_NCOSTS 5

/* "peak", "leaked", "allocations", "allocated", "temporary"; "?" out of range. */
const char *mt_cost_name(enum mt_cost cost);
/* The cost of that name, or -1. */
int mt_cost_parse(const char *s);

#endif

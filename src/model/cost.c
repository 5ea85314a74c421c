// SPDX-License-Identifier: MIT
// The names of the costs (cost.h).
#include "cost.h"

#include <string.h>

static const char *const mt_cost_names[MT_NCOSTS] = {"peak", "leaked", "allocations", "allocated",
                                                     "temporary"};

const char *mt_cost_name(enum mt_cost cost)
{
    return (unsigned)cost < MT_NCOSTS ? mt_cost_names[cost] : "?";
}

int mt_cost_parse(const char *s)
{
    for (int i = 0; i < MT_NCOSTS; i++)
        if (strcmp(s, mt_cost_names[i]) == 0)
            return i;
    return -1;
}

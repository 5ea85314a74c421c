// SPDX-License-Identifier: MIT
// Cycles: a lost ring of three is one definite block and two indirect ones (memcheck's clique
// rule), a ring still pointed to is reachable, a block pointing to itself alone is lost.
#include <stdlib.h>

struct node {
    struct node *next;
    long payload[3];
};

static struct node *kept;

static struct node *ring(int n)
{
    struct node *first = calloc(1, sizeof *first), *p = first;
    for (int i = 1; i < n; i++) {
        p->next = calloc(1, sizeof *p);
        p = p->next;
    }
    p->next = first;
    return first;
}

static void self_loop(void)
{
    struct node *s = calloc(1, sizeof *s);
    s->next = s;
}

int main(void)
{
    struct node *volatile lost = ring(3);
    lost = NULL;
    kept = ring(4);
    self_loop();
    return 0;
}

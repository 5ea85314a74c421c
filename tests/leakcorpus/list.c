// SPDX-License-Identifier: MIT
// Linked lists: a lost list (head definite, the rest indirect), a kept doubly linked list, and
// a list whose only reference is to its second node (the head lost, the tail reachable).
#include <stdlib.h>

struct item {
    struct item *next, *prev;
    char name[16];
};

static struct item *kept, *tail_only;

static struct item *make(int n)
{
    struct item *head = NULL;
    for (int i = 0; i < n; i++) {
        struct item *it = calloc(1, sizeof *it);
        it->next = head;
        if (head)
            head->prev = it;
        head = it;
    }
    return head;
}

int main(void)
{
    struct item *volatile lost = make(10);
    lost = NULL;
    kept = make(5);
    struct item *l = make(6);
    tail_only = l->next;
    tail_only->prev = NULL;
    l = NULL;
    return 0;
}

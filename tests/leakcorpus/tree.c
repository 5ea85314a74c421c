// SPDX-License-Identifier: MIT
// Trees: a lost binary tree is its root definitely lost and every other node indirectly lost;
// a tree held by a global is reachable; a subtree cut off from a kept tree is lost.
#include <stdlib.h>

struct tree {
    struct tree *left, *right;
    int value;
};

static struct tree *kept;

static struct tree *build(int depth)
{
    struct tree *t = malloc(sizeof *t);
    t->value = depth;
    t->left = depth > 0 ? build(depth - 1) : NULL;
    t->right = depth > 0 ? build(depth - 1) : NULL;
    return t;
}

int main(void)
{
    struct tree *volatile lost = build(4); /* 31 nodes */
    lost = NULL;
    kept = build(3);   /* 15 nodes */
    kept->left = NULL; /* 7 of them cut off */
    return 0;
}

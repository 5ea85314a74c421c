// SPDX-License-Identifier: MIT
// See tree_driver.h.
#include "tree_driver.h"

#include "stack/stack_hash.h"
#include "stack/trace_tree.h"

int td_init(void)
{
    return mt_tree_init(true);
}

uint32_t td_intern(const uintptr_t *ip, uint32_t n, mt_enc_t *enc)
{
    mt_stack_t st = {.n = n, .ip = (uintptr_t *)ip};
    mt_stack_hash(&st);
    uint32_t id = mt_tree_intern(&st);
    td_drain(enc);
    return id;
}

uint32_t td_intern_direct(const uintptr_t *ip, uint32_t n, mt_enc_t *enc)
{
    mt_stack_t st = {.n = n, .ip = (uintptr_t *)ip};
    mt_stack_hash(&st);
    mt_tree_direct_begin(enc);
    uint32_t id = mt_tree_intern(&st);
    mt_tree_direct_end();
    if (mt_tree_defs_pending())
        td_drain(enc);
    return id;
}

uint32_t td_intern_only(const uintptr_t *ip, uint32_t n)
{
    mt_stack_t st = {.n = n, .ip = (uintptr_t *)ip};
    mt_stack_hash(&st);
    return mt_tree_intern(&st);
}

int td_pending(void)
{
    return mt_tree_defs_pending();
}

uint32_t td_take(uint32_t *id, uint32_t *parent, uint64_t *ip, uint32_t max)
{
    mt_tree_def_t d[64];
    uint32_t n = mt_tree_defs_take(d, max < 64 ? max : 64);
    for (uint32_t i = 0; i < n; i++) {
        id[i] = d[i].id;
        parent[i] = d[i].parent;
        ip[i] = d[i].ip;
    }
    return n;
}

void td_drain(mt_enc_t *enc)
{
    mt_tree_def_t d[64];
    uint32_t n;
    while ((n = mt_tree_defs_take(d, 64)) > 0)
        for (uint32_t i = 0; i < n; i++)
            mt_enc_trace_node(enc, d[i].id, d[i].parent, d[i].ip);
}

void td_hash(const uintptr_t *ip, uint32_t n, uint64_t *h1, uint64_t *h2)
{
    mt_stack_t st = {.n = n, .ip = (uintptr_t *)ip};
    mt_stack_hash(&st);
    *h1 = st.hash;
    *h2 = st.hash2;
}

void td_forget(void)
{
    mt_tree_forget();
}

uint32_t td_epoch(void)
{
    return mt_tree_epoch();
}

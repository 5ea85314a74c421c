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
    return mt_tree_intern(&st, enc);
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

// SPDX-License-Identifier: MIT
// See stack_hash.h. Two lanes (even and odd frames) so that their multiplies overlap; each
// step is a bijection of the lane's state for a given frame (xor, rotate, multiply by an odd
// constant), so two stacks can only meet again where they differ, and the rotation carries a
// difference in the top bits (Python frames set bit 63) down where the multiply spreads it.
// The two 64-bit results are a bijection of the two lanes' states: equal results mean equal
// states of both lanes, about a 2^-128 chance for two different stacks.
#include "stack/stack_hash.h"

/* MurmurHash3's 64-bit finalizer: a bijection that makes every output bit depend on every
 * input bit. */
static inline uint64_t mt_sh_fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

void mt_stack_hash(mt_stack_t *st)
{
    const uintptr_t *ip = st->ip;
    uint32_t n = st->n, i = 0;
    uint64_t a = 0x9e3779b97f4a7c15ull, b = 0x6a09e667f3bcc909ull;
    for (; i + 1 < n; i += 2) {
        a = mt_rotl64(a ^ ip[i], 23) * 0xd6e8feb86659fd93ull;
        b = mt_rotl64(b ^ ip[i + 1], 29) * 0xa0761d6478bd642full;
    }
    if (i < n)
        a = mt_rotl64(a ^ ip[i], 23) * 0xd6e8feb86659fd93ull;
    st->hash = mt_sh_fmix(a ^ ((uint64_t)n << 32));
    st->hash2 = mt_sh_fmix(b ^ n);
}

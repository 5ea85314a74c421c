// SPDX-License-Identifier: MIT
// The debug check of the recorder's lock order (see lock_order.h). Nothing here in NDEBUG
// builds. Failure path only: one line on stderr, then abort.
#include "base/lock_order.h"

#include <stdlib.h>

#ifndef NDEBUG
__thread unsigned mt_lock_held __attribute__((tls_model("initial-exec")));

static const char *mt_lock_name(unsigned rank)
{
    switch (rank) {
    case MT_LOCK_MODULES:
        return "modules";
    case MT_LOCK_WRITER:
        return "writer";
    case MT_LOCK_TREE:
        return "trace tree";
    case MT_LOCK_LIVE:
        return "block table";
    case MT_LOCK_OWN:
        return "own ranges";
    }
    return "?";
}

void mt_lock_order_fail(unsigned rank, unsigned held)
{
    char buf[160];
    mt_sbuf_t s;
    mt_sbuf_init(&s, buf, sizeof buf);
    mt_sbuf_add(&s, "lock order broken: taking the ");
    mt_sbuf_add(&s, mt_lock_name(rank));
    mt_sbuf_add(&s, " lock while holding the ");
    unsigned top = 31 - (unsigned)__builtin_clz(held);
    mt_sbuf_add(&s, mt_lock_name(top));
    mt_sbuf_add(&s, " lock (base/lock_order.h)");
    mt_msg(buf);
    abort();
}
#endif

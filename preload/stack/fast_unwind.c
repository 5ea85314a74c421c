// SPDX-License-Identifier: MIT
// Fast x86-64 unwinding from cached per-address CFA rules (see fast_unwind.h). A rule is
// computed from the module's .eh_frame_hdr search table and the FDE's call frame instructions,
// once per return address and thread. Only the simple forms are accepted: CFA = rsp + N or
// rbp + N, return address and rbp saved at fixed offsets from the CFA. Everything else is
// cached as "slow" and the caller falls back to libunwind for the whole stack. No malloc, no
// stdio; the per-thread cache is in the thread's slot (thread_slots.h).
#include "stack/fast_unwind.h"

#include "base/thread_slots.h"

#include <link.h>
#include <stdbool.h>
#include <string.h>

enum {
    MT_FU_EMPTY = 0,
    MT_FU_RSP = 1,  /* CFA = rsp + cfa_off */
    MT_FU_RBP = 2,  /* CFA = rbp + cfa_off */
    MT_FU_END = 3,  /* return address undefined: the outermost frame */
    MT_FU_SLOW = 4, /* anything else: libunwind */
};

typedef struct mt_fu_rule {
    uint64_t key; /* the address the rule was computed for (return address - 1) */
    int32_t cfa_off;
    int16_t rbp_off; /* rbp saved at CFA + rbp_off; 0: rbp unchanged by this frame */
    int8_t ra_off;   /* return address at CFA + ra_off */
    uint8_t kind;
} mt_fu_rule_t;

#define MT_FU_CACHE (1u << 12) /* entries per thread, direct-mapped: 64 KiB */

/*
 * Whole stacks, per thread: the walk is a chain of dependent loads (a return address, then its
 * rule, then the next address), about 4 ns a frame at best; checking that the stack words a
 * walk read still hold what they held is a set of independent loads. A walk from the same
 * start (rule key and rsp, and rbp when a frame's CFA was computed from it) that reads the
 * same values at the same addresses makes the same frames, so a stack whose every word is
 * unchanged is the walk's result without the walk (stack_tail.h keeps the same invariant for
 * the outer parts of Python stacks). Stacks of up to MT_FU_STACK_FRAMES frames, in sets by
 * start; dropped with the rules (mt_fastunw_flush). Used by mt_fastunw_capture_from, the
 * recorder's capture.
 */
#define MT_FU_STACKS 32u
/* Entries per start: call paths that meet at one frame (two malloc calls in one function, at
 * the same depth) share their start and differ in a return address further out. */
#define MT_FU_STACK_WAYS 4u
#define MT_FU_STACK_FRAMES 32
typedef struct mt_fu_stack {
    uint64_t key, sp, bp;
    uint32_t n, nwords;
    bool bp_used, valid;
    uintptr_t ip[MT_FU_STACK_FRAMES];
    mt_fu_word_t words[2 * MT_FU_STACK_FRAMES]; /* a return address and a saved rbp a frame */
} mt_fu_stack_t;

typedef struct mt_fu_cache {
    uint32_t gen;
    mt_fu_rule_t rule[MT_FU_CACHE];
    mt_fu_stack_t stack[MT_FU_STACKS];
    uint8_t victim[MT_FU_STACKS / MT_FU_STACK_WAYS]; /* the way each set replaces next */
} mt_fu_cache_t;

_Static_assert(sizeof(mt_fu_cache_t) <= MT_SLOT_FU_CACHE, "the rule cache must fit its slot");

static uint32_t mt_fu_gen = 1;

/* The thread's cache lives in its slot (thread_slots.h): no mapping and no key per thread. */
static mt_fu_cache_t *mt_fu_cache(void)
{
    mt_slot_t *slot = mt_slot_self();
    if (MT_UNLIKELY(!slot))
        return NULL;
    mt_fu_cache_t *c = slot->fu_cache;
    uint32_t gen = __atomic_load_n(&mt_fu_gen, __ATOMIC_ACQUIRE);
    if (MT_UNLIKELY(c->gen != gen)) {
        memset(c->rule, 0, sizeof c->rule);
        for (uint32_t i = 0; i < MT_FU_STACKS; i++)
            c->stack[i].valid = false;
        c->gen = gen;
    }
    return c;
}

void mt_fastunw_flush(void)
{
    __atomic_add_fetch(&mt_fu_gen, 1, __ATOMIC_RELEASE);
}

/* ---- DWARF reading (input is the process's own mapped .eh_frame: trusted, but bounded) ---- */

typedef struct mt_fu_cur {
    const uint8_t *p, *end;
    bool bad;
} mt_fu_cur_t;

static uint64_t mt_fu_uleb(mt_fu_cur_t *c)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (c->p >= c->end)
            break;
        uint8_t b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    c->bad = true;
    return 0;
}

static int64_t mt_fu_sleb(mt_fu_cur_t *c)
{
    int64_t v = 0;
    unsigned shift = 0;
    while (shift < 64) {
        if (c->p >= c->end) {
            c->bad = true;
            return 0;
        }
        uint8_t b = *c->p++;
        v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= -(int64_t)((uint64_t)1 << shift);
            return v;
        }
    }
    c->bad = true;
    return 0;
}

static uint64_t mt_fu_fixed(mt_fu_cur_t *c, unsigned n)
{
    if ((size_t)(c->end - c->p) < n) {
        c->bad = true;
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, c->p, n); /* x86-64 is little-endian */
    c->p += n;
    return v;
}

#define DW_EH_PE_omit 0xff
#define DW_EH_PE_pcrel 0x10
#define DW_EH_PE_datarel 0x30

/* Reads a pointer in encoding enc; only the forms compilers emit for .eh_frame. */
static uint64_t mt_fu_ptr(mt_fu_cur_t *c, uint8_t enc)
{
    const uint8_t *at = c->p;
    uint64_t v;
    switch (enc & 0x0f) {
    case 0x00:
        v = mt_fu_fixed(c, 8);
        break; /* absptr */
    case 0x01:
        v = mt_fu_uleb(c);
        break;
    case 0x02:
        v = mt_fu_fixed(c, 2);
        break;
    case 0x03:
        v = mt_fu_fixed(c, 4);
        break;
    case 0x04:
        v = mt_fu_fixed(c, 8);
        break;
    case 0x09:
        v = (uint64_t)mt_fu_sleb(c);
        break;
    case 0x0a:
        v = (uint64_t)(int64_t)(int16_t)mt_fu_fixed(c, 2);
        break;
    case 0x0b:
        v = (uint64_t)(int64_t)(int32_t)mt_fu_fixed(c, 4);
        break;
    case 0x0c:
        v = mt_fu_fixed(c, 8);
        break;
    default:
        c->bad = true;
        return 0;
    }
    switch (enc & 0x70) {
    case 0x00:
        break;
    case DW_EH_PE_pcrel:
        v += (uint64_t)(uintptr_t)at;
        break;
    default:
        c->bad = true;
        return 0; /* textrel, datarel, funcrel: not in .eh_frame FDEs */
    }
    if (enc & 0x80) /* indirect */
        c->bad = true;
    return v;
}

/* ---- the CFA program ---- */

enum { MT_REG_RBP = 6, MT_REG_RSP = 7, MT_REG_RA = 16 };
enum { MT_R_SAME = 0, MT_R_OFFSET = 1, MT_R_UNDEF = 2, MT_R_OTHER = 3 };

typedef struct mt_fu_state {
    uint64_t cfa_reg;
    int64_t cfa_off;
    uint8_t rbp_how, ra_how;
    int64_t rbp_off, ra_off;
    bool cfa_expr;
} mt_fu_state_t;

typedef struct mt_fu_cie {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc;
    bool has_z, signal;
    mt_fu_cur_t insns;
} mt_fu_cie_t;

static void mt_fu_set_reg(mt_fu_state_t *s, uint64_t reg, uint8_t how, int64_t off)
{
    if (reg == MT_REG_RBP) {
        s->rbp_how = how;
        s->rbp_off = off;
    } else if (reg == MT_REG_RA) {
        s->ra_how = how;
        s->ra_off = off;
    }
}

static void mt_fu_restore_reg(mt_fu_state_t *s, const mt_fu_state_t *init, uint64_t reg)
{
    if (reg == MT_REG_RBP) {
        s->rbp_how = init->rbp_how;
        s->rbp_off = init->rbp_off;
    } else if (reg == MT_REG_RA) {
        s->ra_how = init->ra_how;
        s->ra_off = init->ra_off;
    }
}

#define MT_FU_STATE_STACK 8

/* Runs instructions until the row that covers target (loc starts at *loc). Returns false on
 * anything unsupported. init is the CIE's state (for restore), NULL while running the CIE. */
static bool mt_fu_run(mt_fu_cur_t c, const mt_fu_cie_t *cie, mt_fu_state_t *s,
                      const mt_fu_state_t *init, uint64_t loc, uint64_t target)
{
    mt_fu_state_t stack[MT_FU_STATE_STACK];
    int depth = 0;
    while (c.p < c.end && !c.bad) {
        uint8_t op = *c.p++;
        uint64_t reg, delta = 0;
        switch (op & 0xc0) {
        case 0x40:
            delta = op & 0x3f;
            goto advance;
        case 0x80:
            mt_fu_set_reg(s, op & 0x3f, MT_R_OFFSET, (int64_t)mt_fu_uleb(&c) * cie->data_align);
            continue;
        case 0xc0:
            if (!init)
                return false;
            mt_fu_restore_reg(s, init, op & 0x3f);
            continue;
        default:
            break;
        }
        switch (op) {
        case 0x00: /* nop */
            continue;
        case 0x02:
            delta = mt_fu_fixed(&c, 1);
            goto advance;
        case 0x03:
            delta = mt_fu_fixed(&c, 2);
            goto advance;
        case 0x04:
            delta = mt_fu_fixed(&c, 4);
            goto advance;
        case 0x05: /* offset_extended */
            reg = mt_fu_uleb(&c);
            mt_fu_set_reg(s, reg, MT_R_OFFSET, (int64_t)mt_fu_uleb(&c) * cie->data_align);
            continue;
        case 0x06: /* restore_extended */
            reg = mt_fu_uleb(&c);
            if (!init)
                return false;
            mt_fu_restore_reg(s, init, reg);
            continue;
        case 0x07: /* undefined */
            mt_fu_set_reg(s, mt_fu_uleb(&c), MT_R_UNDEF, 0);
            continue;
        case 0x08: /* same_value */
            mt_fu_set_reg(s, mt_fu_uleb(&c), MT_R_SAME, 0);
            continue;
        case 0x09: /* register */
            reg = mt_fu_uleb(&c);
            (void)mt_fu_uleb(&c);
            mt_fu_set_reg(s, reg, MT_R_OTHER, 0);
            continue;
        case 0x0a: /* remember_state */
            if (depth == MT_FU_STATE_STACK)
                return false;
            stack[depth++] = *s;
            continue;
        case 0x0b: /* restore_state */
            if (depth == 0)
                return false;
            *s = stack[--depth];
            continue;
        case 0x0c: /* def_cfa */
            s->cfa_reg = mt_fu_uleb(&c);
            s->cfa_off = (int64_t)mt_fu_uleb(&c);
            s->cfa_expr = false;
            continue;
        case 0x0d: /* def_cfa_register */
            s->cfa_reg = mt_fu_uleb(&c);
            s->cfa_expr = false;
            continue;
        case 0x0e: /* def_cfa_offset */
            s->cfa_off = (int64_t)mt_fu_uleb(&c);
            continue;
        case 0x0f: { /* def_cfa_expression */
            uint64_t len = mt_fu_uleb(&c);
            if (len > (uint64_t)(c.end - c.p))
                return false;
            c.p += len;
            s->cfa_expr = true;
            continue;
        }
        case 0x10:   /* expression */
        case 0x16: { /* val_expression */
            reg = mt_fu_uleb(&c);
            uint64_t len = mt_fu_uleb(&c);
            if (len > (uint64_t)(c.end - c.p))
                return false;
            c.p += len;
            mt_fu_set_reg(s, reg, MT_R_OTHER, 0);
            continue;
        }
        case 0x11: /* offset_extended_sf */
            reg = mt_fu_uleb(&c);
            mt_fu_set_reg(s, reg, MT_R_OFFSET, mt_fu_sleb(&c) * cie->data_align);
            continue;
        case 0x12: /* def_cfa_sf */
            s->cfa_reg = mt_fu_uleb(&c);
            s->cfa_off = mt_fu_sleb(&c) * cie->data_align;
            s->cfa_expr = false;
            continue;
        case 0x13: /* def_cfa_offset_sf */
            s->cfa_off = mt_fu_sleb(&c) * cie->data_align;
            continue;
        case 0x14: /* val_offset */
        case 0x15: /* val_offset_sf */
            reg = mt_fu_uleb(&c);
            if (op == 0x14)
                (void)mt_fu_uleb(&c);
            else
                (void)mt_fu_sleb(&c);
            mt_fu_set_reg(s, reg, MT_R_OTHER, 0);
            continue;
        case 0x2e: /* GNU_args_size */
            (void)mt_fu_uleb(&c);
            continue;
        case 0x2f: /* GNU_negative_offset_extended */
            reg = mt_fu_uleb(&c);
            mt_fu_set_reg(s, reg, MT_R_OFFSET, -(int64_t)mt_fu_uleb(&c) * cie->data_align);
            continue;
        default: /* set_loc and anything newer */
            return false;
        }
    advance:
        loc += delta * cie->code_align;
        if (loc > target)
            return !c.bad;
    }
    return !c.bad;
}

static bool mt_fu_parse_cie(const uint8_t *cie_p, mt_fu_cie_t *cie)
{
    mt_fu_cur_t c = {cie_p, cie_p + 4, false};
    uint64_t len = mt_fu_fixed(&c, 4);
    if (len == 0 || len >= 0xfffffff0u)
        return false;
    c.end = cie_p + 4 + len;
    if (mt_fu_fixed(&c, 4) != 0) /* CIE id */
        return false;
    uint8_t version = (uint8_t)mt_fu_fixed(&c, 1);
    if (version != 1 && version != 3)
        return false;
    const char *aug = (const char *)c.p;
    size_t aug_len = strnlen(aug, (size_t)(c.end - c.p));
    c.p += aug_len + 1;
    cie->code_align = mt_fu_uleb(&c);
    cie->data_align = mt_fu_sleb(&c);
    cie->ra_reg = version == 1 ? mt_fu_fixed(&c, 1) : mt_fu_uleb(&c);
    cie->fde_enc = 0;
    cie->signal = false;
    cie->has_z = aug[0] == 'z';
    if (aug_len && !cie->has_z)
        return false;
    if (cie->has_z) {
        uint64_t alen = mt_fu_uleb(&c);
        const uint8_t *aend = c.p + alen;
        if (alen > (uint64_t)(c.end - c.p))
            return false;
        for (size_t i = 1; i < aug_len; i++) {
            switch (aug[i]) {
            case 'R':
                cie->fde_enc = (uint8_t)mt_fu_fixed(&c, 1);
                break;
            case 'L':
                (void)mt_fu_fixed(&c, 1);
                break;
            case 'P': {
                uint8_t enc = (uint8_t)mt_fu_fixed(&c, 1);
                mt_fu_cur_t pc = {c.p, aend, false};
                (void)mt_fu_ptr(&pc, enc & 0x7f); /* only skip it; may be indirect */
                if (pc.bad)
                    return false;
                c.p = pc.p;
                break;
            }
            case 'S':
                cie->signal = true;
                break;
            default:
                return false;
            }
        }
        c.p = aend;
    }
    cie->insns = (mt_fu_cur_t){c.p, c.end, false};
    return !c.bad && cie->ra_reg == MT_REG_RA && cie->code_align != 0;
}

/* ---- finding the FDE ---- */

typedef struct mt_fu_query {
    uint64_t pc;
    const uint8_t *hdr; /* .eh_frame_hdr of the object containing pc */
} mt_fu_query_t;

static int mt_fu_phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    mt_fu_query_t *q = arg;
    const uint8_t *hdr = NULL;
    bool inside = false;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uint64_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && q->pc >= lo && q->pc < lo + ph->p_memsz)
            inside = true;
        else if (ph->p_type == PT_GNU_EH_FRAME)
            hdr = (const uint8_t *)(uintptr_t)lo;
    }
    if (!inside)
        return 0;
    q->hdr = hdr;
    return 1;
}

/* The FDE covering pc, by binary search of .eh_frame_hdr's table; NULL when none. */
static const uint8_t *mt_fu_find_fde(uint64_t pc)
{
    mt_fu_query_t q = {pc, NULL};
    if (!dl_iterate_phdr(mt_fu_phdr_cb, &q) || !q.hdr)
        return NULL;
    const uint8_t *h = q.hdr;
    /* version 1, then the encodings of eh_frame_ptr, fde_count and the table */
    if (h[0] != 1 || h[3] != (DW_EH_PE_datarel | 0x0b))
        return NULL;
    mt_fu_cur_t c = {h + 4, h + 16, false};
    (void)mt_fu_ptr(&c, h[1]);
    uint64_t count;
    if (h[2] == 0x03)
        count = mt_fu_fixed(&c, 4);
    else if (h[2] == 0x0b)
        count = (uint64_t)(int64_t)(int32_t)mt_fu_fixed(&c, 4);
    else
        return NULL;
    if (c.bad || count == 0)
        return NULL;
    const int32_t *table = (const int32_t *)(const void *)c.p;
    uint64_t lo = 0, hi = count; /* last entry with initial_loc <= pc */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if ((uint64_t)(uintptr_t)(h + table[2 * mid]) <= pc)
            lo = mid;
        else
            hi = mid;
    }
    if ((uint64_t)(uintptr_t)(h + table[2 * lo]) > pc)
        return NULL;
    return h + table[2 * lo + 1];
}

/* Computes the rule for pc (a return address - 1, or the capture point itself). */
/* Parses fde up to its instructions: its CIE, and the code range it covers; false if bad. */
static bool mt_fu_fde_open(const uint8_t *fde, mt_fu_cur_t *c, mt_fu_cie_t *cie, uint64_t *begin,
                           uint64_t *range)
{
    *c = (mt_fu_cur_t){fde, fde + 8, false};
    uint64_t len = mt_fu_fixed(c, 4);
    if (len == 0 || len >= 0xfffffff0u)
        return false;
    const uint8_t *cie_ptr_at = c->p;
    uint32_t cie_off = (uint32_t)mt_fu_fixed(c, 4);
    if (cie_off == 0) /* a CIE, not an FDE */
        return false;
    c->end = fde + 4 + len;
    if (!mt_fu_parse_cie(cie_ptr_at - cie_off, cie) || cie->signal)
        return false;
    *begin = mt_fu_ptr(c, cie->fde_enc);
    *range = mt_fu_ptr(c, cie->fde_enc & 0x0f);
    return !c->bad;
}

/* True when a function begins exactly at addr. A return address that is the first byte of a
 * function was not pushed by a call: makecontext's trampoline (__start_context) is entered
 * that way, at the outermost end of a coroutine's stack. */
static bool mt_fu_function_starts_at(uint64_t addr)
{
    const uint8_t *fde = mt_fu_find_fde(addr);
    mt_fu_cur_t c;
    mt_fu_cie_t cie;
    uint64_t begin, range;
    return fde && mt_fu_fde_open(fde, &c, &cie, &begin, &range) && begin == addr;
}

static void mt_fu_compute(uint64_t pc, mt_fu_rule_t *r)
{
    r->key = pc;
    r->kind = MT_FU_SLOW;
    const uint8_t *fde = mt_fu_find_fde(pc);
    mt_fu_cur_t c;
    mt_fu_cie_t cie;
    uint64_t begin = 0, range = 0;
    bool open = fde && mt_fu_fde_open(fde, &c, &cie, &begin, &range);
    if (!open || pc < begin || pc - begin >= range) {
        /* libunwind ends such a stack there too (it tries a frame-pointer walk first, whose
         * memory checks would leave the coroutine's stack address in its thread cache) */
        if (mt_fu_function_starts_at(pc + 1))
            r->kind = MT_FU_END;
        return;
    }
    if (cie.has_z) {
        uint64_t alen = mt_fu_uleb(&c);
        if (c.bad || alen > (uint64_t)(c.end - c.p))
            return;
        c.p += alen;
    }
    mt_fu_state_t init = {MT_REG_RSP, 8, MT_R_SAME, MT_R_UNDEF, 0, 0, false};
    if (!mt_fu_run(cie.insns, &cie, &init, NULL, begin, UINT64_MAX))
        return;
    mt_fu_state_t s = init;
    if (!mt_fu_run(c, &cie, &s, &init, begin, pc))
        return;
    if (s.ra_how == MT_R_UNDEF) {
        r->kind = MT_FU_END;
        return;
    }
    if (s.cfa_expr || (s.cfa_reg != MT_REG_RSP && s.cfa_reg != MT_REG_RBP) ||
        s.ra_how != MT_R_OFFSET || (s.rbp_how != MT_R_SAME && s.rbp_how != MT_R_OFFSET) ||
        s.cfa_off < 0 || s.cfa_off > INT32_MAX || s.ra_off < -128 || s.ra_off > 127 ||
        s.rbp_off < INT16_MIN || s.rbp_off > INT16_MAX ||
        (s.rbp_how == MT_R_OFFSET && s.rbp_off == 0))
        return;
    r->cfa_off = (int32_t)s.cfa_off;
    r->ra_off = (int8_t)s.ra_off;
    r->rbp_off = s.rbp_how == MT_R_OFFSET ? (int16_t)s.rbp_off : 0;
    r->kind = s.cfa_reg == MT_REG_RSP ? MT_FU_RSP : MT_FU_RBP;
}

static inline const mt_fu_rule_t *mt_fu_rule(mt_fu_cache_t *cache, uint64_t key)
{
    mt_fu_rule_t *r = &cache->rule[(key ^ (key >> 12)) & (MT_FU_CACHE - 1)];
    if (MT_UNLIKELY(r->key != key || r->kind == MT_FU_EMPTY))
        mt_fu_compute(key, r);
    return r;
}

/* What a walk does besides filling buf (mt_fastunw_until and mt_fastunw_record). */
typedef struct mt_fu_extra {
    uintptr_t lo, hi;    /* stop one frame beyond the first return address - 1 in [lo, hi) */
    mt_fu_word_t *words; /* every stack word read, in order (NULL: not recorded) */
    int max_words, nwords;
    bool found, overflow; /* a frame in [lo, hi) was seen; words ran out */
    bool walk_on;         /* when the words run out: stop recording them, not the walk */
    /* Saved rbp words that no CFA was computed from (bit i: words[i]), with lazy_bp set: rbp
     * is an ordinary register in code without frame pointers, and its saved value (a loop
     * counter, a pointer) changes from call to call, but matters to the walk only when an
     * outer frame's CFA is computed from it before another frame restores rbp. */
    bool lazy_bp;
    int last_bp; /* the last saved rbp word recorded (with lazy_bp), -1 for none */
    uint64_t unused_bp;
    bool bp_used;     /* a CFA was computed from the rbp the walk started with */
    mt_fu_pos_t next; /* where the walk stopped: the frame it would have done next */
    uint64_t cfa_max; /* the last (outermost) CFA computed */
} mt_fu_extra_t;

/*
 * Walks outward from the frame whose rule is found under key, with its rsp and rbp. stack_lo
 * bounds the CFAs (the rsp the whole walk started from). Always inlined: the plain capture
 * passes x == NULL and keeps its lean loop.
 */
static inline __attribute__((always_inline)) int mt_fu_walk_x(mt_fu_cache_t *cache, uint64_t key,
                                                              uint64_t sp, uint64_t bp,
                                                              uint64_t stack_lo, uintptr_t *buf,
                                                              int max, mt_fu_extra_t *x)
{
    int n = 0;
    bool bp_first = true; /* bp is still the one the walk started with */
    while (n < max) {
        const mt_fu_rule_t *r = mt_fu_rule(cache, key);
        if (r->kind == MT_FU_END)
            break;
        if (r->kind == MT_FU_SLOW)
            return -1;
        if (x && bp_first && r->kind == MT_FU_RBP)
            x->bp_used = true;
        if (x && x->lazy_bp && r->kind == MT_FU_RBP && x->last_bp >= 0)
            x->unused_bp &= ~(1ull << x->last_bp);
        uint64_t cfa = (r->kind == MT_FU_RSP ? sp : bp) + (uint64_t)(int64_t)r->cfa_off;
        /* The stack only grows towards the outer frames; a CFA elsewhere means the rules do
         * not describe this stack (e.g. a frame switched stacks): let libunwind decide. */
        if (cfa <= sp || cfa - stack_lo > MT_FU_STACK_MAX)
            return -1;
        const uint64_t *ra_at = (const uint64_t *)(uintptr_t)(cfa + (uint64_t)(int64_t)r->ra_off);
        uint64_t ra = *ra_at;
        if (x && x->words && x->nwords + 2 > x->max_words) {
            x->overflow = true;
            if (!x->walk_on)
                return -1;
            x->words = NULL;
        }
        if (x && x->words)
            x->words[x->nwords++] = (mt_fu_word_t){(uintptr_t)ra_at, (uintptr_t)ra};
        if (r->rbp_off) {
            const uint64_t *bp_at =
                (const uint64_t *)(uintptr_t)(cfa + (uint64_t)(int64_t)r->rbp_off);
            bp = *bp_at;
            bp_first = false;
            if (x && x->words) {
                if (x->lazy_bp) {
                    x->last_bp = x->nwords;
                    x->unused_bp |= 1ull << x->nwords;
                }
                x->words[x->nwords++] = (mt_fu_word_t){(uintptr_t)bp_at, (uintptr_t)bp};
            }
        }
        sp = cfa;
        if (x)
            x->cfa_max = cfa;
        if (ra == 0)
            break;
        buf[n++] = (uintptr_t)ra;
        key = ra - 1;
        if (x && x->hi) {
            if (x->found) { /* the loop's frame is done: its caller is where the rest starts */
                x->next = (mt_fu_pos_t){key, sp, bp};
                return n;
            }
            x->found = key >= x->lo && key < x->hi;
        }
    }
    return n;
}

static int mt_fu_walk(mt_fu_cache_t *cache, uint64_t key, uint64_t sp, uint64_t bp, uintptr_t *buf,
                      int max)
{
    return mt_fu_walk_x(cache, key, sp, bp, sp, buf, max, NULL);
}

int mt_fastunw_until(uintptr_t ra, uintptr_t sp, uintptr_t bp, uintptr_t lo, uintptr_t hi,
                     uintptr_t *buf, int max, mt_fu_pos_t *next)
{
    mt_fu_cache_t *cache = mt_fu_cache();
    if (!cache || lo >= hi)
        return -1;
    mt_fu_extra_t x = {.lo = lo, .hi = hi};
    int n = mt_fu_walk_x(cache, (uint64_t)ra - 1, sp, bp, sp, buf, max, &x);
    if (n < 0)
        return -1;
    if (!x.found || !x.next.key)
        return 0;
    *next = x.next;
    return n;
}

int mt_fastunw_record(const mt_fu_pos_t *from, uintptr_t stack_lo, uintptr_t *buf, int max,
                      mt_fu_word_t *words, int max_words, int *nwords, uintptr_t *cfa_max,
                      bool *bp_used)
{
    mt_fu_cache_t *cache = mt_fu_cache();
    if (!cache)
        return -1;
    mt_fu_extra_t x = {.words = words, .max_words = max_words, .cfa_max = from->sp};
    int n = mt_fu_walk_x(cache, from->key, from->sp, from->bp, stack_lo, buf, max, &x);
    *nwords = x.nwords;
    *cfa_max = (uintptr_t)x.cfa_max;
    *bp_used = x.bp_used;
    return n;
}

__attribute__((noinline)) int mt_fastunw_capture(uintptr_t *buf, int max)
{
    mt_fu_cache_t *cache = mt_fu_cache();
    if (!cache)
        return -1;
    uint64_t pc, sp, bp;
    /* One asm statement: pc, rsp and rbp are read at the same instruction boundary, whose CFI
     * row describes this very frame. */
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                     : "=r"(pc), "=r"(sp), "=r"(bp));
    return mt_fu_walk(cache, pc, sp, bp, buf, max);
}

/* The first of the whole-stack cache's MT_FU_STACK_WAYS entries for a walk from key and sp. */
static inline uint32_t mt_fu_stack_set(uint64_t key, uint64_t sp)
{
    uint64_t h = (sp ^ (key << 17)) * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 61) * MT_FU_STACK_WAYS; /* 3 bits: the sets */
}
_Static_assert(MT_FU_STACKS / MT_FU_STACK_WAYS == 8u, "mt_fu_stack_set takes 3 bits");

/* The entry's stack, when it is the one a walk from key, sp and bp would make now. */
static inline bool mt_fu_stack_holds(const mt_fu_stack_t *s, uint64_t key, uint64_t sp, uint64_t bp,
                                     int max)
{
    if (!s->valid || s->key != key || s->sp != sp || (s->bp_used && s->bp != bp) ||
        (int)s->n >= max)
        return false;
    /* in the walk's order, stopping at the first change: no word is read that the walk itself
     * would not read */
    for (uint32_t i = 0; i < s->nwords; i++)
        if (*(const uintptr_t *)s->words[i].addr != s->words[i].value)
            return false;
    return true;
}

/* mt_fu_walk through the whole-stack cache. */
static int mt_fu_walk_cached(mt_fu_cache_t *cache, uint64_t key, uint64_t sp, uint64_t bp,
                             uintptr_t *buf, int max)
{
    uint32_t set = mt_fu_stack_set(key, sp);
    for (uint32_t w = 0; w < MT_FU_STACK_WAYS; w++) {
        const mt_fu_stack_t *s = &cache->stack[set + w];
        if (mt_fu_stack_holds(s, key, sp, bp, max)) {
            memcpy(buf, s->ip, s->n * sizeof *buf);
            return (int)s->n;
        }
    }
    /* Walked again, its words recorded into an entry of the set (in turn), which is valid
     * once they are whole. */
    uint8_t *victim = &cache->victim[set / MT_FU_STACK_WAYS];
    mt_fu_stack_t *s = &cache->stack[set + *victim];
    *victim = (uint8_t)((*victim + 1) % MT_FU_STACK_WAYS);
    s->valid = false;
    mt_fu_extra_t x = {.words = s->words,
                       .max_words = 2 * MT_FU_STACK_FRAMES,
                       .walk_on = true,
                       .lazy_bp = true,
                       .last_bp = -1};
    _Static_assert(2 * MT_FU_STACK_FRAMES <= 64, "unused_bp has a bit per word");
    int n = mt_fu_walk_x(cache, key, sp, bp, sp, buf, max, &x);
    /* Not kept: a walk libunwind must do, one too deep for the entry, or one cut at max (its
     * words end where the walk stopped, not where the stack does). */
    if (n < 0 || x.overflow || n == max)
        return n;
    /* Only the words the frames depend on are checked: the same frames follow from them. */
    int kept = 0;
    for (int i = 0; i < x.nwords; i++)
        if (!(x.unused_bp >> i & 1))
            s->words[kept++] = s->words[i];
    s->key = key;
    s->sp = sp;
    s->bp = bp;
    s->bp_used = x.bp_used;
    s->n = (uint32_t)n;
    s->nwords = (uint32_t)kept;
    memcpy(s->ip, buf, (size_t)n * sizeof *buf);
    s->valid = true;
    return n;
}

int mt_fastunw_capture_from(uintptr_t ra, uintptr_t sp, uintptr_t bp, uintptr_t *buf, int max)
{
    mt_fu_cache_t *cache = mt_fu_cache();
    if (!cache)
        return -1;
    /* ra is a return address: its call instruction is in the frame it describes. */
    return mt_fu_walk_cached(cache, (uint64_t)ra - 1, sp, bp, buf, max);
}

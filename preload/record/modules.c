// SPDX-License-Identifier: MIT
// Module scanning with dl_iterate_phdr. The callback runs under the dynamic loader's lock, so it
// only copies into mmap'd scratch memory; records are encoded afterwards under the recorder lock
// (taking our lock inside the callback could deadlock against the writer thread's poll).
#include "record/modules.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stddef.h>
#include <string.h>

#include <sys/syscall.h>

#include "base/config.h"
#include "base/mt_libc.h"
#include "io/log_writer.h"
#include "record/event_ring.h"

#define MT_MOD_MAX 8192
#define MT_MOD_SEG_MAX 16
#define MT_MOD_SCRATCH (2u << 20)
#define MT_BUILD_ID_MAX 64

typedef struct mt_rec_module {
    uintptr_t bias;
    const void *phdr; /* (bias, phdr) identifies a loaded object */
    uint32_t id;
    bool alive, seen;
} mt_rec_module_t;

typedef struct mt_scan_entry {
    uintptr_t bias;
    const void *phdr;
    uint16_t path_len, build_id_len, nseg;
    uint8_t build_id[MT_BUILD_ID_MAX];
    struct {
        uint64_t vaddr, memsz, flags;
    } seg[MT_MOD_SEG_MAX];
    char path[]; /* path_len bytes, not terminated */
} mt_scan_entry_t;

static struct {
    pthread_mutex_t lock; /* serialises scans; taken before the recorder lock */
    mt_rec_module_t *mods;
    uint32_t count, next_id;
    uint8_t *scratch;
    size_t scratch_used;
    unsigned long long adds, subs;
    bool first_seen;
    /* The working directory, read once per scan and only for a relative name; -1: unknown */
    long cwd_len;
    char cwd[PATH_MAX];
} mt_mods = {.lock = PTHREAD_MUTEX_INITIALIZER, .next_id = 1};

int mt_rec_modules_init(void)
{
    mt_mods.mods = mt_map(MT_MOD_MAX * sizeof(mt_rec_module_t));
    mt_mods.scratch = mt_map(MT_MOD_SCRATCH);
    return mt_mods.mods && mt_mods.scratch ? 0 : -ENOMEM;
}

static size_t mt_rec_modules_build_id(const struct dl_phdr_info *info, uint8_t *out)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            const uint8_t *name = p + sizeof *nh;
            const uint8_t *desc = name + ((nh->n_namesz + 3) & ~3u);
            const uint8_t *next = desc + ((nh->n_descsz + 3) & ~3u);
            if (next > end)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 &&
                nh->n_descsz <= MT_BUILD_ID_MAX) {
                memcpy(out, desc, nh->n_descsz);
                return nh->n_descsz;
            }
            p = next;
        }
    }
    return 0;
}

static int mt_rec_modules_scan_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        mt_mods.adds = info->dlpi_adds;
        mt_mods.subs = info->dlpi_subs;
    }
    const char *path = info->dlpi_name ? info->dlpi_name : "";
    if (!path[0] && !mt_mods.first_seen)
        path = mt_config.exe; /* the main program is reported first, without a name */
    mt_mods.first_seen = true;
    /* A library loaded by a relative name (ctypes.CDLL("./libx.so"), LD_LIBRARY_PATH=.) is
     * named so by the loader; the analysis, run elsewhere later, could not open it. It is
     * made absolute against the working directory of the scan, which follows the load. */
    size_t dlen = 0;
    if (path[0] && path[0] != '/') {
        if (mt_mods.cwd_len == 0)
            mt_mods.cwd_len = mt_syscall(SYS_getcwd, mt_mods.cwd, sizeof mt_mods.cwd);
        if (mt_mods.cwd_len > 1 && mt_mods.cwd[0] == '/') {
            dlen = (size_t)mt_mods.cwd_len - 1; /* without its NUL */
            while (path[0] == '.' && path[1] == '/')
                for (path += 2; path[0] == '/';)
                    path++;
        }
    }
    size_t plen = strnlen(path, PATH_MAX);
    size_t full = dlen ? dlen + (dlen > 1) + plen : plen;
    size_t need = (sizeof(mt_scan_entry_t) + full + 7) & ~(size_t)7;
    if (mt_mods.scratch_used + need > MT_MOD_SCRATCH)
        return 1;
    mt_scan_entry_t *e = (mt_scan_entry_t *)(mt_mods.scratch + mt_mods.scratch_used);
    mt_mods.scratch_used += need;
    e->bias = info->dlpi_addr;
    e->phdr = info->dlpi_phdr;
    e->path_len = (uint16_t)full;
    if (dlen) {
        memcpy(e->path, mt_mods.cwd, dlen);
        if (dlen > 1)
            e->path[dlen++] = '/';
    }
    memcpy(e->path + dlen, path, plen);
    e->build_id_len = (uint16_t)mt_rec_modules_build_id(info, e->build_id);
    e->nseg = 0;
    for (int i = 0; i < info->dlpi_phnum && e->nseg < MT_MOD_SEG_MAX; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        e->seg[e->nseg].vaddr = ph->p_vaddr;
        e->seg[e->nseg].memsz = ph->p_memsz;
        e->seg[e->nseg].flags = ph->p_flags;
        e->nseg++;
    }
    return 0;
}

static mt_rec_module_t *mt_rec_modules_find(uintptr_t bias, const void *phdr)
{
    for (uint32_t i = 0; i < mt_mods.count; i++) {
        mt_rec_module_t *m = &mt_mods.mods[i];
        if (m->alive && m->bias == bias && m->phdr == phdr)
            return m;
    }
    return NULL;
}

/* Recorder lock held. MODULE_LOAD has no mt_enc_* helper, so it is composed from the
 * encoder's primitives, in the field order documented in log_format.h. */
static void mt_rec_modules_emit_load(const mt_scan_entry_t *e, uint32_t id)
{
    mt_enc_t *enc = mt_writer_begin_big(64 + e->path_len + e->build_id_len + e->nseg * 32u);
    if (!enc)
        return;
    mt_enc_tag(enc, MT_TAG_MODULE_LOAD);
    mt_enc_v(enc, id);
    mt_enc_v(enc, e->bias);
    mt_enc_string(enc, e->path, e->path_len);
    mt_enc_string(enc, e->build_id, e->build_id_len);
    mt_enc_v(enc, e->nseg);
    for (unsigned i = 0; i < e->nseg; i++) {
        mt_enc_v(enc, e->seg[i].vaddr);
        mt_enc_v(enc, e->seg[i].memsz);
        mt_enc_v(enc, e->seg[i].flags);
    }
    mt_writer_end();
}

/* Recorder lock held: emits loads for new entries and unloads for vanished ones. */
static bool mt_rec_modules_diff(void)
{
    bool unloaded = false;
    for (uint32_t i = 0; i < mt_mods.count; i++)
        mt_mods.mods[i].seen = false;
    for (size_t off = 0; off < mt_mods.scratch_used;) {
        const mt_scan_entry_t *e = (const mt_scan_entry_t *)(mt_mods.scratch + off);
        off += (sizeof(mt_scan_entry_t) + e->path_len + 7) & ~(size_t)7;
        mt_rec_module_t *m = mt_rec_modules_find(e->bias, e->phdr);
        if (m) {
            m->seen = true;
            continue;
        }
        if (mt_mods.count >= MT_MOD_MAX)
            continue;
        m = &mt_mods.mods[mt_mods.count++];
        *m = (mt_rec_module_t){e->bias, e->phdr, mt_mods.next_id++, true, true};
        mt_rec_modules_emit_load(e, m->id);
    }
    for (uint32_t i = 0; i < mt_mods.count; i++) {
        mt_rec_module_t *m = &mt_mods.mods[i];
        if (!m->alive || m->seen)
            continue;
        m->alive = false;
        unloaded = true;
        mt_enc_t *enc = mt_writer_begin(0);
        if (enc) {
            mt_enc_module_unload(enc, m->id);
            mt_writer_end();
        }
    }
    /* Compact dead entries so lookups stay short in dlopen-heavy programs. */
    uint32_t j = 0;
    for (uint32_t i = 0; i < mt_mods.count; i++)
        if (mt_mods.mods[i].alive)
            mt_mods.mods[j++] = mt_mods.mods[i];
    mt_mods.count = j;
    return unloaded;
}

/* Module lock held. */
static bool mt_rec_modules_rescan_locked(void)
{
    mt_mods.scratch_used = 0;
    mt_mods.first_seen = false;
    mt_mods.cwd_len = 0;
    dl_iterate_phdr(mt_rec_modules_scan_cb, NULL);
    mt_writer_lock();
    /* The heap events still in the threads' rings go first: their stacks are in the modules
     * as they were, and a reader resolves a node against the modules of its time. */
    mt_ring_sync();
    bool unloaded = mt_rec_modules_diff();
    mt_writer_unlock();
    return unloaded;
}

bool mt_rec_modules_rescan(void)
{
    MT_LOCK(&mt_mods.lock, MT_LOCK_MODULES);
    bool unloaded = mt_rec_modules_rescan_locked();
    MT_UNLOCK(&mt_mods.lock, MT_LOCK_MODULES);
    return unloaded;
}

typedef struct mt_counts {
    unsigned long long adds, subs;
    bool ok;
} mt_counts_t;

static int mt_rec_modules_count_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    mt_counts_t *c = arg;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        c->adds = info->dlpi_adds;
        c->subs = info->dlpi_subs;
        c->ok = true;
    }
    return 1; /* the counters are global: the first object is enough */
}

bool mt_rec_modules_poll(void)
{
    /* Under the module lock so that fork's prepare handler (which holds it) never leaves the
     * child with the loader's list lock taken by this thread. */
    MT_LOCK(&mt_mods.lock, MT_LOCK_MODULES);
    mt_counts_t c = {0, 0, false};
    dl_iterate_phdr(mt_rec_modules_count_cb, &c);
    bool unloaded = false;
    if (c.ok && (c.adds != mt_mods.adds || c.subs != mt_mods.subs))
        unloaded = mt_rec_modules_rescan_locked();
    MT_UNLOCK(&mt_mods.lock, MT_LOCK_MODULES);
    return unloaded;
}

void mt_rec_modules_child_reemit(void)
{
    /* No dl_iterate_phdr here: a parent thread may have held the loader's list lock at fork.
     * The last scan's copy describes this very address space. */
    mt_mods.count = 0;
    mt_mods.next_id = 1;
    mt_writer_lock();
    (void)mt_rec_modules_diff();
    mt_writer_unlock();
}

void mt_rec_modules_lock(void)
{
    MT_LOCK(&mt_mods.lock, MT_LOCK_MODULES);
}

void mt_rec_modules_unlock(void)
{
    MT_UNLOCK(&mt_mods.lock, MT_LOCK_MODULES);
}

void mt_rec_modules_lock_reset(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    mt_mods.lock = fresh;
    mt_lock_order_drop(MT_LOCK_MODULES);
}

// SPDX-License-Identifier: MIT
// The records that open a log: PROCESS (pid, parent, page size, executable, argv), ORIGIN (how
// the log began) and, in a forked child under --leak-check, the blocks it inherited. Written
// once per log, from lifecycle.c; no allocation but mt_map.
#include "record/recorder.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "record/live_table.h"
#include "stack/trace_tree.h"

/* ---- process record ---- */

#define MT_CMDLINE_MAX (128u << 10)

/* PROCESS has no mt_enc_* helper; it is composed from the encoder primitives in the order
 * documented in log_format.h. argv comes from /proc/self/cmdline, truncated to whole
 * arguments within MT_CMDLINE_MAX. */
void mt_rec_emit_process(uint64_t ppid)
{
    uint8_t *cmd = mt_map(MT_CMDLINE_MAX);
    size_t len = 0;
    if (cmd) {
        long fd = mt_sys_open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC, 0);
        while (fd >= 0 && len < MT_CMDLINE_MAX) {
            long n = mt_sys_read((int)fd, cmd + len, MT_CMDLINE_MAX - len);
            if (n <= 0)
                break;
            len += (size_t)n;
        }
        if (fd >= 0)
            mt_sys_close((int)fd);
        while (len > 0 && cmd[len - 1] != '\0') /* drop a cut-off last argument */
            len--;
    }
    uint64_t argc = 0;
    for (size_t i = 0; i < len; i++)
        argc += cmd[i] == '\0';
    size_t exe_len = strlen(mt_config.exe);
    mt_enc_t *e = mt_writer_record_big(64 + exe_len + len + argc * MT_VARINT_MAX);
    if (e) {
        mt_enc_tag(e, MT_TAG_PROCESS);
        mt_enc_v(e, (uint64_t)mt_rec.pid);
        mt_enc_v(e, ppid);
        mt_enc_v(e, (uint64_t)sysconf(_SC_PAGESIZE));
        mt_enc_string(e, mt_config.exe, exe_len);
        mt_enc_v(e, argc);
        for (size_t i = 0; i < len;) {
            size_t n = strlen((const char *)cmd + i);
            mt_enc_string(e, cmd + i, n);
            i += n + 1;
        }
    }
    mt_writer_record_done(e);
    mt_unmap(cmd, MT_CMDLINE_MAX);
}

static void mt_rec_emit_inherited_block(uintptr_t addr, uint64_t size, uint32_t node, void *ctx)
{
    mt_enc_t *e = mt_writer_begin(0);
    if (e) {
        mt_enc_alloc(e, MT_ALLOC_INHERITED, *(const uint64_t *)ctx, size, addr, node);
        mt_writer_end();
    }
}

/*
 * A forked child's heap holds its parent's live blocks, which the leak check at its exit
 * classifies: its log begins with them (MT_ALLOC_INHERITED, not calls of its own) and with
 * the trace nodes they name, the parent's tree, which the child keeps.
 */
void mt_rec_emit_inherited(void)
{
    uint64_t now = mt_rec_now();
    mt_writer_lock();
    uint32_t count = mt_tree_count();
    for (uint32_t id = 1; id <= count; id++) {
        uint32_t parent;
        uint64_t ip;
        mt_tree_node(id, &parent, &ip);
        mt_enc_t *e = mt_writer_begin(0);
        if (!e)
            break;
        mt_enc_trace_node(e, id, parent, ip);
        mt_writer_end();
    }
    mt_live_each(mt_rec_emit_inherited_block, &now);
    mt_writer_unlock();
}

/* ORIGIN (log_format.h): how this log began, so that a reader can find the log before it. */

void mt_rec_emit_origin(enum mt_origin how, uint64_t fork_seq, unsigned flags, const char *from)
{
    size_t run_len = strlen(mt_config.run_id), from_len = strlen(from);
    mt_enc_t *e =
        mt_writer_record_big(64 + mt_enc_string_size(run_len) + mt_enc_string_size(from_len));
    if (e) {
        mt_enc_origin(e, mt_config.run_id, run_len, how, fork_seq, flags, from, from_len);
    }
    mt_writer_record_done(e);
}

/* Opens this process's log and writes PROCESS, the modules and ORIGIN; 0 or -errno. A fork
 * child names its parent's log; its heap is the parent's at FORK number fork_seq (0: a child
 * of a raw clone, whose point in the parent's log is unknown). */

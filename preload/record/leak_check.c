// SPDX-License-Identifier: MIT
// The leak check's trigger at exit: exports the block table, runs the scan (leak/leak_scan.h)
// and writes LEAK_SCAN, one LEAK_BLOCK per block not reachable, LEAK_SCAN_END. Writer lock
// held throughout, so no event is logged meanwhile; the table is exported once the changes of
// the events logged already are in (mt_slot_wait_idle), under all its shard locks, so that it
// lists exactly the blocks the log has live. Memory from mt_map only.
#include "record/recorder.h"

#include "base/config.h"
#include "base/thread_slots.h"
#include "leak/leak_scan.h"
#include "record/live_table.h"

static size_t mt_rec_emit_leaks(const mt_leak_block_t *blocks, size_t n)
{
    size_t listed = 0;
    for (size_t i = 0; i < n; i++) {
        const mt_leak_block_t *b = &blocks[i];
        if (b->state == MT_LEAK_REACHABLE)
            continue;
        mt_enc_t *e = mt_writer_begin(0);
        if (!e)
            break;
        uint64_t extra = b->state == MT_LEAK_DEFINITE   ? b->indirect_bytes
                         : b->state == MT_LEAK_INDIRECT ? blocks[b->leader].addr
                                                        : 0;
        mt_enc_leak_block(e, b->addr, b->state, extra);
        mt_writer_end();
        listed++;
    }
    return listed;
}

/* The leak check at exit (writer lock held, so no event is logged meanwhile): classifies
 * every live block and writes the result into the log before EXIT. */
void mt_rec_leak_check(void)
{
    if (!mt_config.leak_check || !mt_live_ok())
        return;
    mt_slot_wait_idle();
    mt_live_lock_all();
    size_t n = mt_live_count();
    size_t blocks_size = (n ? n : 1) * sizeof(mt_leak_block_t);
    size_t stack_size = (n ? 2 * n : 1) * sizeof(uint32_t);
    mt_leak_block_t *blocks = mt_map(blocks_size);
    uint32_t *stack = mt_map(stack_size);
    if (blocks)
        n = mt_live_export(blocks);
    /* Before the scan holds the threads still: one held inside a shard must not block us. */
    mt_live_unlock_all();
    mt_leakscan_stats_t st;
    if (!blocks || !stack) {
        mt_msg("out of memory for the leak check; no leak check at exit");
    } else if (mt_leakscan_run(blocks, n, stack, &st) < 0) {
        mt_msg("the leak check could not hold the threads still; no leak check at exit");
    } else {
        mt_enc_t *e = mt_writer_begin(0);
        if (e) {
            mt_enc_leak_scan(e, mt_rec_now(), n, st.threads_stopped, st.threads_missed,
                             st.root_bytes);
            mt_writer_end();
        }
        size_t listed = mt_rec_emit_leaks(blocks, n);
        if ((e = mt_writer_begin(0))) {
            mt_enc_leak_scan_end(e, listed);
            mt_writer_end();
        }
    }
    mt_unmap(blocks, blocks_size);
    mt_unmap(stack, stack_size);
}

/* Before the log's end: what handlers that memtrace could not hold did (signal_defer.h). */

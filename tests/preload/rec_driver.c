// SPDX-License-Identifier: MIT
// See rec_driver.h. Only the recorder's headers here.
#include "rec_driver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/config.h"
#include "base/mt_libc.h"
#include "io/log_writer.h"
#include "lifecycle.h"
#include "record/recorder.h"

static void rd_nothing(void)
{
}

static const mt_life_python_t rd_no_python = {rd_nothing, rd_nothing, rd_nothing};

/* Allocations handed to the recorder: real blocks, so that their usable size is real. */
static char *rd_block1, *rd_block2;

int rd_record_script(void)
{
    mt_life_init(&rd_no_python);
    if (!mt_rec_active())
        return -1;
    mt_guard = 1; /* as the hooks set it */
    rd_block1 = malloc(100);
    rd_block2 = calloc(1, 200);
    mt_rec_alloc(MT_ALLOC_MALLOC, rd_block1, 100);
    mt_rec_alloc(MT_ALLOC_CALLOC, rd_block2, 200);
    mt_rec_free(MT_TAG_FREE, rd_block1, mt_rec_usable(rd_block1));
    free(rd_block1);
    void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mt_rec_mmap(m, 8192, MT_MAP_MMAP);
    mt_rec_munmap(m, 8192);
    munmap(m, 8192);
    mt_rec_thread_name((uint32_t)mt_sys_gettid(), RD_TID_NAME, strlen(RD_TID_NAME));
    mt_rec_notice(MT_NOTICE_EVENTS_LOST, RD_NOTICE_TEXT);
    mt_guard = 0;
    mt_life_finish(MT_EXIT_NORMAL, RD_EXIT_STATUS);
    return 0;
}

int rd_write_log(unsigned n, uint32_t tid, char *path, size_t cap)
{
    mt_config_load();
    int rc = mt_writer_init(true);
    if (rc < 0)
        return rc;
    if ((rc = mt_writer_open(4242, 1000000000ull)) < 0)
        return rc;
    for (unsigned i = 0; i < n; i++) {
        mt_enc_t *e = mt_writer_record(tid);
        if (e)
            mt_enc_alloc(e, MT_ALLOC_MALLOC, i, 16, 0x10000 + 64 * (uint64_t)i, 0);
        mt_writer_record_done(e);
        e = mt_writer_record(tid);
        if (e)
            mt_enc_free(e, MT_TAG_FREE, i, 0x10000 + 64 * (uint64_t)i);
        mt_writer_record_done(e);
    }
    mt_enc_t *e = mt_writer_record(0);
    if (e)
        mt_enc_exit(e, n, MT_EXIT_NORMAL, 0);
    mt_writer_record_done(e);
    mt_writer_flush(true);
    if (strlen(mt_writer.path) >= cap)
        return -ENAMETOOLONG;
    strcpy(path, mt_writer.path);
    return 0;
}

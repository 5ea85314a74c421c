// SPDX-License-Identifier: MIT
// A narrow door into the recorder for test_recorder.c and test_log_writer.c, which see the
// analyzer's headers and only these operations of the recorder. Each function runs the real preload
// code; the tests read the log back.
#ifndef MT_REC_DRIVER_H
#define MT_REC_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/* The recorder started as the hooks start it (mt_life_init, with no Python), the events of
 * rd_script recorded through mt_rec_* with the guard set, then mt_life_finish(NORMAL, 3).
 * Returns 0 or -1 when recording did not start. */
int rd_record_script(void);
/* What rd_record_script records, for the test to compare. */
#define RD_TID_NAME "rd-worker"
#define RD_NOTICE_TEXT "driver notice"
#define RD_EXIT_STATUS 3

/* The log writer alone: init, open (pid 4242, template from MEMTRACE_OUTPUT), records
 * written n times each (one ALLOC of size 16 and one FREE, thread tid), then a final flush.
 * The log's path into path. 0 or a negative errno. */
int rd_write_log(unsigned n, uint32_t tid, char *path, size_t cap);

#endif

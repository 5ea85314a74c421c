// SPDX-License-Identifier: MIT
// The callback through which a reader waits for a log that is still being written.
#ifndef MT_FOLLOW_H
#define MT_FOLLOW_H

#include <stdint.h>

/* Called when a read finds no more bytes in a file that is still being written (`memtrace run`
 * analyses the log while the program runs); bytes_read is how much of the file has been read
 * so far (unchanged since the last call: nothing came in). Returns nonzero after waiting, to
 * read again; 0 when the writer is done, and the end of the file is its end. Runs on the
 * reader's prefetch thread, never concurrently with itself. */
typedef int (*mt_follow_fn)(void *arg, uint64_t bytes_read);

#endif

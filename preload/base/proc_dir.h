// SPDX-License-Identifier: MIT
// /proc for the recorder after the program changes its root directory (chroot into a
// directory without /proc, as sshd, ntpd and bind do): a descriptor of /proc taken just before
// the chroot, through which "self/..." still names the calling process. Raw syscalls, no
// allocation; nothing is kept by a program that never calls chroot.
#ifndef MT_PROC_DIR_H
#define MT_PROC_DIR_H

/* Called just before a chroot (hooks.c): keeps a descriptor of /proc, once per process. */
void mt_proc_keep(void);

/* Opens path, which starts with "/proc/", through the kept descriptor of /proc when there is
 * one and it is still /proc (the program may have closed it and reused the number), else by
 * path. The descriptor, or -errno. flags gain O_CLOEXEC. */
long mt_proc_open(const char *path, int flags);

#endif

// SPDX-License-Identifier: MIT
// The hooks into a Python interpreter in the host (python_hooks.c): found with dlsym at run
// time, its allocator domains and arena allocator wrapped, the audit hook added. The
// lifecycle reaches these through the table hooks.c hands it (lifecycle.h).
#ifndef MT_PYTHON_HOOKS_H
#define MT_PYTHON_HOOKS_H

/* Finds the interpreter (constructor, before the log is open; MEMTRACE_PYTHON=0 disables). */
void mt_py_detect(void);
/* The log has just been opened (also in a forked child): writes PY_INTERP, forgets the code
 * and location tables so they are emitted again in the new log. Writer lock NOT held. */
void mt_py_log_started(void);
/* Wraps the allocator domains and the arena allocator, adds the audit hook (constructor,
 * after the log is open, before Py_Initialize). */
void mt_py_install(void);

/*
 * Nonzero while Python may still replace the domains mt_py_install wrapped (until one of the
 * wrappers is first called): the allocation hooks then call mt_py_domains_check, which wraps
 * again what Python's pre-initialization set for PYTHONMALLOC or -X dev.
 */
extern int mt_py_domains_watch;
void mt_py_domains_check(void);

#endif

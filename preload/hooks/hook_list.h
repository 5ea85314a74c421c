// SPDX-License-Identifier: MIT
// Every function the hooks forward to, written once: hooks.c generates from this list the
// table of real functions (mt_real) and their dlsym(RTLD_NEXT) resolution. A hook added to
// hooks.c adds its line here. Only included by hooks.c.
#ifndef MT_HOOK_LIST_H
#define MT_HOOK_LIST_H

/*
 * X(field, symbol, when, return type, parameter types, attributes)
 *
 * field   mt_real.field, the real function (symbol when it is a C identifier)
 * when    MT_AT_START: resolved by mt_hooks_resolve, before the first call is recorded, in
 *         this order; MT_ON_USE: resolved by its hook when first called (exit, whose
 *         lookup must wait for the program's own; __libc_start_main, which runs once; _Fork,
 *         which glibc has from 2.34 on)
 *
 * free comes last of the MT_AT_START ones: a non-NULL mt_real.free means all are resolved.
 */
#define MT_HOOK_LIST(X)                                                                            \
    X(calloc, "calloc", MT_AT_START, void *, (size_t, size_t), )                                   \
    X(malloc, "malloc", MT_AT_START, void *, (size_t), )                                           \
    X(realloc, "realloc", MT_AT_START, void *, (void *, size_t), )                                 \
    X(reallocarray, "reallocarray", MT_AT_START, void *, (void *, size_t, size_t), )               \
    X(posix_memalign, "posix_memalign", MT_AT_START, int, (void **, size_t, size_t), )             \
    X(aligned_alloc, "aligned_alloc", MT_AT_START, void *, (size_t, size_t), )                     \
    X(memalign, "memalign", MT_AT_START, void *, (size_t, size_t), )                               \
    X(valloc, "valloc", MT_AT_START, void *, (size_t), )                                           \
    X(pvalloc, "pvalloc", MT_AT_START, void *, (size_t), )                                         \
    X(mmap, "mmap", MT_AT_START, void *, (void *, size_t, int, int, int, off_t), )                 \
    X(mmap64, "mmap64", MT_AT_START, void *, (void *, size_t, int, int, int, off_t), )             \
    X(munmap, "munmap", MT_AT_START, int, (void *, size_t), )                                      \
    X(mremap, "mremap", MT_AT_START, void *, (void *, size_t, size_t, int, ...), )                 \
    X(dlopen, "dlopen", MT_AT_START, void *, (const char *, int), )                                \
    X(dlclose, "dlclose", MT_AT_START, int, (void *), )                                            \
    X(execve, "execve", MT_AT_START, int, (const char *, char *const[], char *const[]), )          \
    X(execvpe, "execvpe", MT_AT_START, int, (const char *, char *const[], char *const[]), )        \
    X(fexecve, "fexecve", MT_AT_START, int, (int, char *const[], char *const[]), )                 \
    X(exit_, "_exit", MT_AT_START, void, (int), __attribute__((noreturn)))                         \
    X(Exit_, "_Exit", MT_AT_START, void, (int), __attribute__((noreturn)))                         \
    X(pthread_exit, "pthread_exit", MT_AT_START, void, (void *), __attribute__((noreturn)))        \
    X(quick_exit, "quick_exit", MT_AT_START, void, (int), __attribute__((noreturn)))               \
    X(prctl, "prctl", MT_AT_START, int,                                                            \
      (int, unsigned long, unsigned long, unsigned long, unsigned long), )                         \
    X(pthread_setname_np, "pthread_setname_np", MT_AT_START, int, (pthread_t, const char *), )     \
    X(unshare, "unshare", MT_AT_START, int, (int), )                                               \
    X(setns, "setns", MT_AT_START, int, (int, int), )                                              \
    X(chroot, "chroot", MT_AT_START, int, (const char *), )                                        \
    X(setuid, "setuid", MT_AT_START, int, (uid_t), )                                               \
    X(seteuid, "seteuid", MT_AT_START, int, (uid_t), )                                             \
    X(setreuid, "setreuid", MT_AT_START, int, (uid_t, uid_t), )                                    \
    X(setresuid, "setresuid", MT_AT_START, int, (uid_t, uid_t, uid_t), )                           \
    X(pthread_create, "pthread_create", MT_AT_START, int,                                          \
      (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *), )                          \
    X(fork, "fork", MT_AT_START, pid_t, (void), )                                                  \
    X(posix_spawn, "posix_spawn", MT_AT_START, int,                                                \
      (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,       \
       char *const[], char *const[]), )                                                            \
    X(posix_spawnp, "posix_spawnp", MT_AT_START, int,                                              \
      (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,       \
       char *const[], char *const[]), )                                                            \
    X(__libc_malloc, "__libc_malloc", MT_AT_START, void *, (size_t), )                             \
    X(__libc_calloc, "__libc_calloc", MT_AT_START, void *, (size_t, size_t), )                     \
    X(__libc_realloc, "__libc_realloc", MT_AT_START, void *, (void *, size_t), )                   \
    X(__libc_free, "__libc_free", MT_AT_START, void, (void *), )                                   \
    X(__libc_memalign, "__libc_memalign", MT_AT_START, void *, (size_t, size_t), )                 \
    X(__libc_valloc, "__libc_valloc", MT_AT_START, void *, (size_t), )                             \
    X(__libc_pvalloc, "__libc_pvalloc", MT_AT_START, void *, (size_t), )                           \
    X(free, "free", MT_AT_START, void, (void *), )                                                 \
    X(exit, "exit", MT_ON_USE, void, (int), __attribute__((noreturn)))                             \
    X(daemon, "daemon", MT_ON_USE, int, (int, int), )                                              \
    X(Fork_, "_Fork", MT_ON_USE, pid_t, (void), )                                                  \
    X(libc_start_main, "__libc_start_main", MT_ON_USE, int,                                        \
      (int (*)(int, char **, char **), int, char **, void (*)(void), void (*)(void),               \
       void (*)(void), void *), )

#endif

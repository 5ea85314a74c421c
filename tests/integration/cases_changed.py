# SPDX-License-Identifier: MIT
# Integration tests of reports whose binaries are not what was recorded: a library loaded from
# a memfd through /proc/self/fd/N (a path that, read by the analysis, is one of its own
# descriptors), a program stripped after the run. Each report must say what it could not
# symbolize, and never read the wrong file. Uses mt_harness.py; exit 77 = skip.
import os

import mt_harness as it
from mt_harness import check, show, record

case = it.suite("integration", "changed")

LIB = r"""
#include <stdlib.h>
__attribute__((noinline)) void *lib_alloc(size_t n) { return malloc(n); }
"""

MEMFD = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    int fd = memfd_create("plugin", 0), src = open(argv[1], O_RDONLY);
    char buf[65536];
    ssize_t n;
    while ((n = read(src, buf, sizeof buf)) > 0)
        if (write(fd, buf, (size_t)n) != n)
            return 1;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    void *h = dlopen(path, RTLD_NOW);
    if (!h)
        return 2;
    void *(*f)(size_t) = (void *(*)(size_t))dlsym(h, "lib_alloc");
    for (int i = 0; i < 3; i++)
        f(48);
    printf("%s\n", path);
    return 0;
}
"""


@case(90)
def case_changed_memfd_library():
    lib = os.path.join(it.TMP, "libplugin.so")
    p = it.compile_c(it.write("plugin.c", LIB), lib, "-g", "-shared", "-fPIC")
    check(p.returncode == 0, f"cannot build the library\n{show(p)}")
    exe = it.build_c("memfd_load", MEMFD, "-g", "-ldl")
    log = os.path.join(it.TMP, "memfd.mtr")
    run = record(log, exe, lib)
    fdpath = run.stdout.strip()
    # The analysis opens files of its own at that descriptor number (the log, its index, an
    # ELF file of libdw's): it must not take one of them for the library.
    rep = it.json_of("report", "--format", "json", log)
    warned = [w for w in rep["warnings"] if w.startswith(fdpath + ":")]
    check(len(warned) == 1 and "recorded process's /proc" in warned[0] and
          "build-id" not in warned[0], f"warnings {rep['warnings']}")

// SPDX-License-Identifier: MIT
// Unit tests for what the exec hooks give a new image: the environment without memtrace's
// library (preload/base/exec_link.c) and the check for a sanitizer runtime that must be loaded
// first (preload/base/exec_sanitizer.c), on ELF files written here.
#include <check.h>

#include "check_main.h"
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/exec_link.h"
#include "base/exec_sanitizer.h"

static const char *env_var(char **env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

static size_t env_count(char **env)
{
    size_t n = 0;
    while (env[n])
        n++;
    return n;
}

START_TEST(unpreload_keeps_the_other_libraries)
{
    char *in[] = {"A=1", "LD_PRELOAD=/x/liba.so:/b/libmemtrace_preload.so /y/libb.so", "B=2", NULL};
    size_t mapped;
    char **env = mt_exec_unpreload_env(in, &mapped);
    ck_assert_ptr_nonnull(env);
    ck_assert_uint_eq(env_count(env), 3);
    ck_assert_str_eq(env_var(env, "LD_PRELOAD"), "/x/liba.so:/y/libb.so");
    ck_assert_str_eq(env_var(env, "A"), "1");
    ck_assert_str_eq(env_var(env, "B"), "2");
    mt_exec_link_env_free(env, mapped);
}
END_TEST

START_TEST(unpreload_drops_a_variable_left_empty)
{
    char *in[] = {"LD_PRELOAD=/b/libmemtrace_preload.so", "PATH=/bin", NULL};
    size_t mapped;
    char **env = mt_exec_unpreload_env(in, &mapped);
    ck_assert_ptr_nonnull(env);
    ck_assert_uint_eq(env_count(env), 1);
    ck_assert_ptr_null(env_var(env, "LD_PRELOAD"));
    ck_assert_str_eq(env_var(env, "PATH"), "/bin");
    mt_exec_link_env_free(env, mapped);
}
END_TEST

/* A dynamic ELF file whose only needed libraries are libc and lib: one PT_LOAD over the whole
 * file at 0x1000 and a PT_DYNAMIC with the two DT_NEEDED and DT_STRTAB. */
static void write_elf(const char *path, const char *lib)
{
    unsigned char file[512] = {0};
    Elf64_Ehdr *eh = (Elf64_Ehdr *)file;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_phoff = sizeof *eh;
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 2;
    Elf64_Phdr *ph = (Elf64_Phdr *)(file + sizeof *eh);
    size_t dyn_at = sizeof *eh + 2 * sizeof *ph, str_at = dyn_at + 4 * sizeof(Elf64_Dyn);
    ph[0] = (Elf64_Phdr){.p_type = PT_LOAD, .p_vaddr = 0x1000, .p_filesz = sizeof file};
    ph[1] = (Elf64_Phdr){.p_type = PT_DYNAMIC,
                         .p_offset = dyn_at,
                         .p_vaddr = 0x1000 + dyn_at,
                         .p_filesz = 4 * sizeof(Elf64_Dyn)};
    Elf64_Dyn *d = (Elf64_Dyn *)(file + dyn_at);
    d[0] = (Elf64_Dyn){.d_tag = DT_NEEDED, .d_un.d_val = 1};
    d[1] = (Elf64_Dyn){.d_tag = DT_NEEDED, .d_un.d_val = 11};
    d[2] = (Elf64_Dyn){.d_tag = DT_STRTAB, .d_un.d_ptr = 0x1000 + str_at};
    d[3] = (Elf64_Dyn){.d_tag = DT_NULL};
    memcpy(file + str_at + 1, "libc.so.6", 10);
    ck_assert_uint_lt(str_at + 11 + strlen(lib) + 1, sizeof file);
    memcpy(file + str_at + 11, lib, strlen(lib) + 1);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(file, 1, sizeof file, f), sizeof file);
    fclose(f);
}

START_TEST(sanitizer_runtimes_are_found_by_path_and_in_path)
{
    char dir[] = "/tmp/mt-exec-env.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char asan[256], tsan[256], other[256];
    snprintf(asan, sizeof asan, "%s/asan_prog", dir);
    snprintf(tsan, sizeof tsan, "%s/tsan_prog", dir);
    snprintf(other, sizeof other, "%s/other_prog", dir);
    write_elf(asan, "libasan.so.8");
    write_elf(tsan, "libtsan.so.2");
    write_elf(other, "libz.so.1");
    ck_assert_str_eq(mt_exec_sanitizer(asan, false), "AddressSanitizer");
    ck_assert_str_eq(mt_exec_sanitizer(tsan, true), "ThreadSanitizer");
    ck_assert_ptr_null(mt_exec_sanitizer(other, false));
    /* a bare name is a file in the current directory for execve, a PATH entry for execvp */
    char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    char path[512];
    snprintf(path, sizeof path, "/nonexistent:%s", dir);
    setenv("PATH", path, 1);
    ck_assert_str_eq(mt_exec_sanitizer("asan_prog", true), "AddressSanitizer");
    ck_assert_ptr_null(mt_exec_sanitizer("asan_prog", false));
    ck_assert_ptr_null(mt_exec_sanitizer("missing_prog", true));
    if (old_path)
        setenv("PATH", old_path, 1);
    free(old_path);
    /* scripts, missing files and static programs need no runtime */
    ck_assert_ptr_null(mt_exec_sanitizer("/nonexistent/prog", false));
    FILE *f = fopen(other, "w");
    fputs("#!/bin/sh\nexit 0\n", f);
    fclose(f);
    ck_assert_ptr_null(mt_exec_sanitizer(other, false));
    unlink(asan);
    unlink(tsan);
    unlink(other);
    rmdir(dir);
}
END_TEST

MT_SUITE(.name = "exec_env", .tests = MT_TESTS(unpreload_keeps_the_other_libraries,
                                               unpreload_drops_a_variable_left_empty,
                                               sanitizer_runtimes_are_found_by_path_and_in_path));

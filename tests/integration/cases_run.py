# SPDX-License-Identifier: MIT
# `memtrace run`: the program's exit status, stdin, stdout, stderr, arguments and environment
# passed through; the summary; fork and exec; refusals and usage errors; the installed
# layout; real programs nobody here wrote.
import glob
import os
import re
import shutil
import signal

import mt_harness as it
from mt_harness import Skip, check, show, run, memtrace, record, report_json, compile_c

case = it.suite("integration")


# ---- run: passthrough and exit status ----

@case(60)
def case_exit_status():
    p = memtrace("run", "-q", "--", "/bin/sh", "-c", "exit 3")
    check(p.returncode == 3, f"exit 3 should give 3\n{show(p)}")
    p = memtrace("run", "-q", "--", "/bin/sh", "-c", "exit 0")
    check(p.returncode == 0, f"exit 0 should give 0\n{show(p)}")
    p = memtrace("run", "-q", "--", "/bin/sh", "-c", "kill -TERM $$")
    # killed by a signal: memtrace run ends by the same signal, as the program did plain
    check(p.returncode == -signal.SIGTERM, f"SIGTERM should end memtrace by SIGTERM\n{show(p)}")
    p = memtrace("run", "--", "/bin/sh", "-c", "kill -KILL $$")
    check(p.returncode == -signal.SIGKILL, f"SIGKILL should end memtrace by SIGKILL\n{show(p)}")
    check("signal 9" in p.stderr, f"memtrace should say the program was killed\n{show(p)}")


@case(60)
def case_passthrough():
    env = dict(os.environ, MT_TEST_VAR="value with spaces")
    os.mkdir(os.path.join(it.TMP, "cwd"))
    script = 'read x; echo "in:$x"; echo "args:$#:$1:$2"; echo "env:$MT_TEST_VAR"; pwd; echo err >&2'
    p = memtrace("run", "-q", "-o", os.path.join(it.TMP, "p.mtr"), "--", "/bin/sh", "-c", script,
                 "sh", "a b", "-l", input="hello world\n", env=env,
                 cwd=os.path.join(it.TMP, "cwd"))
    check(p.returncode == 0, f"passthrough run failed\n{show(p)}")
    want = f"in:hello world\nargs:2:a b:-l\nenv:value with spaces\n{os.path.join(it.TMP, 'cwd')}\n"
    check(p.stdout == want, f"stdout should be exactly {want!r}\n{show(p)}")
    check(p.stderr == "err\n", f"with -q, stderr should be the program's only\n{show(p)}")
    # PROG's own options are not memtrace's: options stop at the first non-option.
    p = memtrace("run", "-q", "ls", "-l", "-d", "/")
    check(p.returncode == 0 and p.stdout.startswith("d"), f"memtrace run ls -l -d /\n{show(p)}")
    # The summary goes to stderr and names the log; stdout stays the program's.
    p = memtrace("run", "-o", "sum.mtr", "/bin/echo", "out")
    check(p.returncode == 0 and p.stdout == "out\n", f"echo under memtrace\n{show(p)}")
    log = os.path.join(it.TMP, "sum.mtr")
    check(f"log written to {log}" in p.stderr,
          f"summary should name the absolute log path {log}\n{show(p)}")
    check(re.search(r"memtrace: [\d,]+ allocations, [\d,]+ frees, peak heap", p.stderr),
          f"summary line missing\n{show(p)}")
    # Its figures read as the report's do (one formatter: three significant digits).
    demo = os.path.join(it.TMP, "sum_demo.mtr")
    p = memtrace("run", "-o", demo, "--", os.path.join(it.ARGS.build_root, "samples", "demo"))
    m = re.search(r"peak heap (\S+ \S+) at .*, (\S+ \S+) in [\d,]+ blocks? not freed", p.stderr)
    check(p.returncode == 0 and m, f"summary of demo\n{show(p)}")
    r = memtrace("report", demo).stdout
    check(re.search(rf"peak heap\s+{re.escape(m.group(1))} \(", r) and
          re.search(rf"not freed at exit\s+{re.escape(m.group(2))} \(", r),
          f"the summary says {m.groups()}, the report\n{r[:600]}")


SLOW_ALLOCATOR_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* 40 rounds 5 ms apart of 2000 malloc/free pairs, 3 blocks kept per round: a run long enough
 * that memtrace reads the log while it is written. */
int main(void)
{
    static void *kept[120];
    for (int r = 0; r < 40; r++) {
        for (int i = 0; i < 2000; i++)
            free(malloc(16 + i % 512));
        for (int k = 0; k < 3; k++)
            kept[r * 3 + k] = malloc(100);
        usleep(5000);
    }
    printf("kept %p\n", kept[0]);
    return 0;
}
"""


def summary_counts(stderr):
    m = re.search(r"memtrace: ([\d,]+) allocations, ([\d,]+) frees, peak heap .*?, "
                  r"(?:no heap blocks left|.* in ([\d,]+) blocks? not freed)", stderr)
    check(m, f"no summary line in\n{stderr}")
    return tuple(int((g or "0").replace(",", "")) for g in m.groups())


@case(60)
def case_summary_while_running():
    """The summary `memtrace run` prints is read while the program runs (also across an
    exec): it must equal the report of the finished log exactly."""
    prog = it.build_c("slow_alloc", SLOW_ALLOCATOR_C, "-O0")
    for argv in ([prog], ["/bin/sh", "-c", f"exec {prog}"]):
        p = memtrace("run", "-o", os.path.join(it.TMP, "follow.mtr"), "--", *argv)
        check(p.returncode == 0, f"memtrace run {argv}\n{show(p)}")
        m = re.search(r"log written to (\S+) ", p.stderr)
        check(m, f"the summary names no log\n{show(p)}")
        rep = report_json(m.group(1))
        want = (rep["allocations"], rep["frees"], rep["leaked_blocks"])
        got = summary_counts(p.stderr)
        check(got == want, f"{argv}: summary says allocations, frees, leaked blocks = {got}, "
              f"the report of {m.group(1)} {want}\n{show(p)}")
        check(rep["allocations"] >= 80120 and rep["leaked_blocks"] >= 120,
              f"{argv}: the program's own 80,120 allocations and 120 kept blocks are missing: "
              f"{want}")
        for log in glob.glob(os.path.join(it.TMP, "follow.mtr*")):
            os.unlink(log)


@case(60)
def case_fork_exec_logs():
    p = memtrace("run", "-o", os.path.join(it.TMP, "f.%p.mtr"), "--", "/bin/sh", "-c",
                 "/bin/true; /bin/echo child")
    check(p.returncode == 0 and p.stdout == "child\n", f"sh -c under memtrace\n{show(p)}")
    logs = sorted(glob.glob(os.path.join(it.TMP, "f.*.mtr*")))
    check(len(logs) >= 3, f"expected logs for sh, true and echo, found {logs}\n{show(p)}")
    check("more log" in p.stderr, f"summary should list the other logs\n{show(p)}")
    for log in logs:
        rep = report_json(log)
        check(rep.get("allocations", 0) >= 0, f"{log}: no allocations field")


# ---- run: errors ----

@case(30)
def case_missing_program():
    p = memtrace("run", "memtrace-no-such-program")
    check(p.returncode == 127, f"missing program should exit 127\n{show(p)}")
    check(p.stderr.strip() == "memtrace: memtrace-no-such-program: command not found",
          f"unexpected message\n{show(p)}")
    p = memtrace("run", "./no/such/path")
    check(p.returncode == 127, f"missing path should exit 127\n{show(p)}")
    noexec = it.write("noexec", "#!/bin/sh\n")
    p = memtrace("run", noexec)
    check(p.returncode == 126 and p.stderr.count("\n") == 1,
          f"non-executable file should exit 126 with one line\n{show(p)}")
    garbage = it.write("garbage", b"\x00\x01not a program\n", 0o755)
    p = memtrace("run", garbage)
    check(p.returncode == 126 and "Exec format error" in p.stderr,
          f"a binary non-ELF without #! should fail as in bash\n{show(p)}")
    # a text script without #!: a shell (and execvp, env, valgrind) runs it with /bin/sh
    script = it.write("noshebang", 'echo "args: $1 $2"; exit 3\n', 0o755)
    plain = run(["/bin/sh", "-c", '"$0" x "y z"', script])
    p = memtrace("run", "-q", "-o", os.path.join(it.TMP, "noshebang.mtr"), "--", script, "x",
                 "y z")
    check(plain.returncode == 3 and plain.stdout == "args: x y z\n",
          f"the script without memtrace\n{show(plain)}")
    check(p.returncode == 3 and p.stdout == plain.stdout and not p.stderr,
          f"a script without #! should run as from a shell\n{show(p)}")


@case(30)
def case_usage_errors():
    p = memtrace("run", "--bogus", "true")
    check(p.returncode == 2, f"unknown option should exit 2\n{show(p)}")
    check(p.stderr.startswith("memtrace: run: unknown option '--bogus'"),
          f"unexpected message\n{show(p)}")
    p = memtrace("run")
    check(p.returncode == 2, f"no program should exit 2\n{show(p)}")
    p = memtrace("frobnicate")
    check(p.returncode == 2 and
          p.stderr.strip() == "memtrace: unknown command 'frobnicate' (try 'memtrace --help')",
          f"unknown command\n{show(p)}")
    p = memtrace()
    check(p.returncode == 2 and "usage" in p.stderr, f"no arguments\n{show(p)}")
    p = memtrace("--version")
    check(p.returncode == 0 and p.stdout.startswith("memtrace "), f"--version\n{show(p)}")
    p = memtrace("--help")
    check(p.returncode == 0 and "run" in p.stdout and "report" in p.stdout, f"--help\n{show(p)}")
    p = memtrace("run", "--help")
    check(p.returncode == 0 and "--output" in p.stdout, f"run --help\n{show(p)}")


@case(60)
def case_static_refused():
    exe = os.path.join(it.TMP, "st")
    c = compile_c(it.write("st.c", "int main(void) { return 0; }\n"), exe, "-static")
    if c.returncode != 0:
        raise Skip(f"the compiler cannot link statically here: {c.stderr.strip()[:200]}")
    p = memtrace("run", exe)
    check(p.returncode == 1, f"static binary should be refused with exit 1\n{show(p)}")
    check(f"memtrace: {exe} is statically linked" in p.stderr and p.stderr.count("\n") == 1,
          f"unexpected message\n{show(p)}")
    p = memtrace("run", it.write("st.sh", f"#!{exe}\n", 0o755))
    check(p.returncode == 1 and "statically linked" in p.stderr,
          f"a script whose interpreter is static should be refused\n{show(p)}")


@case(120)
def case_sanitizer_refused():
    """A program built with a sanitizer that serves malloc itself cannot be recorded: gcc's
    shared runtimes stop it at its start under LD_PRELOAD (ASan exits 1, TSan crashes, LSan
    fails a check), clang's linked-in ones leave memtrace nothing to see. memtrace refuses
    each with one line naming the sanitizer, before the program runs; UBSan is fine."""
    src = it.write("san.c", '#include <stdio.h>\n#include <stdlib.h>\n'
                   'int main(int argc, char **argv) {\n'
                   '    FILE *f = fopen(argv[1], "w"); char *p = malloc(10);\n'
                   '    fputs("ran", f); fclose(f); free(p); return 0;\n}\n')
    builds = [("gcc", "address", "AddressSanitizer"), ("gcc", "thread", "ThreadSanitizer"),
              ("gcc", "leak", "LeakSanitizer"), ("clang", "address", "AddressSanitizer"),
              ("clang", "thread", "ThreadSanitizer"), ("clang", "memory", "MemorySanitizer")]
    tried = 0
    for cc, kind, name in builds:
        exe = os.path.join(it.TMP, f"san-{cc}-{kind}")
        c = run([cc, f"-fsanitize={kind}", "-o", exe, src])
        if c.returncode != 0 or run([exe, exe + ".plain"]).returncode != 0:
            continue  # that compiler or its runtime is not installed here
        tried += 1
        ran = exe + ".ran"
        p = memtrace("run", "-q", "-o", exe + ".mtr", "--", exe, ran)
        check(p.returncode == 1 and p.stderr.count("\n") == 1 and
              p.stderr.startswith(f"memtrace: {exe} is built with {name} (-fsanitize={kind})"),
              f"{cc} -fsanitize={kind}: expected one line naming {name}, exit 1\n{show(p)}")
        check(not os.path.exists(ran), f"{cc} -fsanitize={kind}: the program ran")
    check(tried >= 3, f"only {tried} sanitizer builds could be made: gcc's runtimes missing?")
    exe = os.path.join(it.TMP, "san-ubsan")
    check(run(["gcc", "-fsanitize=undefined", "-o", exe, src]).returncode == 0, "gcc ubsan")
    p = memtrace("run", "-q", "-o", exe + ".mtr", "--", exe, exe + ".ran")
    check(p.returncode == 0 and os.path.exists(exe + ".ran"), f"UBSan refused\n{show(p)}")


@case(30)
def case_setuid_refused():
    if os.geteuid() != 0:
        raise Skip("needs root to make a file setuid to another user")
    exe = os.path.join(it.TMP, "suid-true")
    shutil.copy("/bin/true", exe)
    os.chown(exe, 65534, -1)
    os.chmod(exe, 0o4755)
    st = os.statvfs(it.TMP)
    if st.f_flag & os.ST_NOSUID:
        raise Skip(f"{it.TMP} is mounted nosuid")
    p = memtrace("run", exe)
    check(p.returncode == 1 and "setuid" in p.stderr, f"setuid should be refused\n{show(p)}")


@case(60)
def case_install_layout():
    """memtrace finds the recorder relative to itself after `meson install`, wherever the
    prefix is, and says clearly when it cannot."""
    if os.path.isabs(it.ARGS.libdir):
        raise Skip(f"libdir {it.ARGS.libdir} is absolute, not relative to the prefix")
    preload = os.path.join(it.ARGS.build_root, "preload", "libmemtrace_preload.so")
    check(os.path.isfile(preload), f"{preload} was not built")
    prefix = os.path.join(it.TMP, "prefix")
    os.makedirs(os.path.join(prefix, "bin"))
    exe = os.path.join(prefix, "bin", "memtrace")
    shutil.copy(it.ARGS.memtrace, exe)
    env = {k: v for k, v in os.environ.items() if k != "MEMTRACE_PRELOAD"}
    p = run([exe, "run", "/bin/true"], env=env)
    check(p.returncode == 1 and "cannot find the recorder library" in p.stderr
          and p.stderr.count("\n") == 1, f"missing recorder should be one clear line\n{show(p)}")
    p = run([exe, "run", "-q", "-o", "o.mtr", "/bin/echo", "x"],
            env=dict(env, MEMTRACE_PRELOAD=preload))
    check(p.returncode == 0 and os.path.isfile(os.path.join(it.TMP, "o.mtr")),
          f"MEMTRACE_PRELOAD should override the search\n{show(p)}")
    libdir = os.path.join(prefix, it.ARGS.libdir, "memtrace")
    os.makedirs(libdir)
    shutil.copy(preload, libdir)
    p = run([exe, "run", "-q", "-o", "i.mtr", "/bin/echo", "x"], env=env)
    check(p.returncode == 0 and p.stdout == "x\n" and os.path.isfile(os.path.join(it.TMP, "i.mtr")),
          f"installed layout bin/ + {it.ARGS.libdir}/memtrace/ should work\n{show(p)}")


# ---- report: bad input ----
# ---- real programs ----

def real_program(name, *argv):
    exe = shutil.which(argv[0]) if not argv[0].startswith("/") else argv[0]
    if not exe or not os.access(exe, os.X_OK):
        raise Skip(f"{argv[0]} is not installed")
    log = os.path.join(it.TMP, f"{name}.mtr")
    record(log, exe, *argv[1:])
    rep = report_json(log)
    check(rep.get("allocations", 0) > 0, f"{name}: report shows no allocations: {rep}")
    check(rep.get("frees", 0) > 0, f"{name}: report shows no frees")
    p = memtrace("report", log)
    check(p.returncode == 0 and p.stdout.strip(), f"{name}: text report failed\n{show(p)}")


@case(120)
def case_real_sqlite3():
    real_program("sqlite3", "sqlite3", ":memory:", "select 1")


@case(120)
def case_real_python3():
    real_program("python3", "/usr/bin/python3", "-c", "pass")


@case(120)
def case_real_git():
    real_program("git", "git", "--version")

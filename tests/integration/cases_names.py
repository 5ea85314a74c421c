# SPDX-License-Identifier: MIT
# Integration tests of how frames are named and matched (issue 16): C++ names shortened unless
# --full-names (and always full in JSON), Python functions named so that pprof keeps them,
# diff matching sites by function and call path before lines, paths shown from the current
# directory and SARIF locations under %SRCROOT%, native frames told apart by file.
# Uses mt_harness.py's helpers; exit 77 = skip.
import json
import os
import re
import shutil

import mt_harness as it
from mt_harness import Skip, check, show, memtrace, record, json_of
import cases_tools

case = it.suite("integration")


def functions_of(rep):
    """Every "function" value in a JSON report."""
    return {d["function"] for d in it.json_dicts(rep) if isinstance(d.get("function"), str)}


# ---- C++ names ----

def cpp_log():
    log = os.path.join(it.TMP, "cpp.mtr")
    record(log, os.path.join(it.ARGS.build_root, "samples", "cpp_containers"))
    return log


RB_FULL = ("std::_Rb_tree<std::__cxx11::basic_string<char, std::char_traits<char>, "
           "std::allocator<char> >, std::pair<std::__cxx11::basic_string<char, "
           "std::char_traits<char>, std::allocator<char> > const, int>")


@case(120)
def case_names_cpp_short():
    log = cpp_log()
    p = memtrace("report", "--no-color", "--top", "50", "--frames", "0", log)
    check(p.returncode == 0, f"report\n{show(p)}")
    longest = max(len(ln) for ln in p.stdout.splitlines())
    check(longest < 400, f"a report line of {longest} characters")
    check("std::_Rb_tree<>::_M_get_node()" in p.stdout and "char_traits" not in p.stdout,
          f"template arguments not shortened\n{show(p)}")
    check("std::map<>::operator[](std::basic_string<> const&)" in p.stdout,
          f"operator[] of std::map\n{show(p)}")
    p = memtrace("report", "--no-color", "--full-names", "--top", "50", "--frames", "0", log)
    check(p.returncode == 0 and RB_FULL in p.stdout, f"--full-names\n{show(p)}")
    # JSON: always the full name
    fns = functions_of(json_of("report", "--format", "json", "--top", "50", "--frames", "0", log))
    check(any(f.startswith(RB_FULL) for f in fns), f"JSON names {sorted(fns)[:20]}")
    # flame graph labels and tooltips, folded stacks, the HTML page, leaks
    svg = os.path.join(it.TMP, "cpp.svg")
    p = memtrace("flamegraph", "--cost", "allocations", "-o", svg, log)
    check(p.returncode == 0, f"flamegraph\n{show(p)}")
    with open(svg) as f:
        text = f.read()
    check("std::_Rb_tree&lt;&gt;::_M_get_node()" in text and "char_traits" not in text,
          "flame graph names not shortened")
    p = memtrace("flamegraph", "--full-names", "--cost", "allocations", "-o", svg, log)
    with open(svg) as f:
        check("char_traits" in f.read(), "flamegraph --full-names")
    p = memtrace("export", "--to", "folded", "--cost", "allocations", "-o", "-", log)
    check(p.returncode == 0 and "std::_Rb_tree<>::_M_get_node()" in p.stdout and
          "char_traits" not in p.stdout, f"folded\n{show(p)}")
    p = memtrace("export", "--to", "massif", "-o", "-", log)
    check(p.returncode == 0 and "std::_Rb_tree<>::_M_get_node()" in p.stdout and
          "char_traits" not in p.stdout, f"massif\n{show(p)}")
    p = memtrace("export", "--to", "massif", "--full-names", "-o", "-", log)
    check(p.returncode == 0 and "char_traits" in p.stdout, f"massif --full-names\n{show(p)}")
    html = os.path.join(it.TMP, "cpp.html")
    p = memtrace("html", "-o", html, log)
    with open(html) as f:
        check(p.returncode == 0 and "char_traits" not in f.read(), f"html\n{show(p)}")
    for cmd in ("peak", "fragmentation", "leaks", "diff"):
        args = [cmd, "--full-names", log] + ([log] if cmd == "diff" else [])
        p = memtrace(*args)
        check(p.returncode in (0, 1) and "unknown option" not in p.stderr,
              f"{cmd} --full-names\n{show(p)}")


# ---- pprof ----

def pprof_functions(data):
    """id -> (name, system_name, filename) of a gzipped profile."""
    import gzip
    f = cases_tools.pb_fields(gzip.decompress(data))
    strings = [v.decode() for n, w, v in f if n == 6]
    out = {}
    for n, w, v in f:
        if n == 5:
            fn = dict((a, c) for a, _, c in cases_tools.pb_fields(v))
            out[fn[1]] = (strings[fn.get(2, 0)], strings[fn.get(3, 0)], strings[fn.get(4, 0)])
    return out


def pprof_remove_matching(name, start, end):
    """google/pprof internal/symbolizer removeMatching."""
    nesting = first = 0
    i = 0
    while i < len(name):
        c = name[i]
        if c == start:
            nesting += 1
            if nesting == 1:
                first = i
        elif c == end:
            nesting -= 1
            if nesting < 0:
                return name
            if nesting == 0:
                name = name[:first] + name[i + 1:]
                i = first - 1
        i += 1
    return name


def pprof_shown(name, system_name):
    """The name `go tool pprof` shows by default (symbolizer.Demangle, mode ""): a name equal
    to its system name that looks like C++ loses its (...) and <...>."""
    if name and name != system_name:
        return name
    if ".<" not in system_name and (any(c in system_name for c in "<>[]") or
                                    "::" in system_name):
        return pprof_remove_matching(pprof_remove_matching(system_name, "(", ")"), "<", ">")
    return system_name


PY_APP = '''\
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import names_pkg
def build():
    return [bytearray(4000) for _ in range(200)]
KEEP = build()
TOP = bytearray(3000000)
print("memtrace-names: ok", len(names_pkg.DATA))
'''


@case(60)
def case_names_pprof_python():
    if not os.access(it.PYTHON, os.X_OK):
        raise Skip(f"{it.PYTHON} is not installed")
    os.makedirs(os.path.join(it.TMP, "names_pkg"), exist_ok=True)
    with open(os.path.join(it.TMP, "names_pkg", "__init__.py"), "w") as f:
        f.write("DATA = bytearray(2000000)\n")
    app = os.path.join(it.TMP, "names_app.py")
    with open(app, "w") as f:
        f.write(PY_APP)
    log = os.path.join(it.TMP, "names_app.mtr")
    p = record(log, it.PYTHON, app, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    check("memtrace-names: ok 2000000" in p.stdout, f"script\n{show(p)}")
    out = os.path.join(it.TMP, "names_app.pb.gz")
    p = memtrace("export", "--to", "pprof", "-o", out, log)
    check(p.returncode == 0, f"export pprof\n{show(p)}")
    with open(out, "rb") as f:
        data = f.read()
    fns = pprof_functions(data)
    py = {fid: v for fid, v in fns.items() if v[2].endswith(".py")}
    shown = {fid: pprof_shown(n, s) for fid, (n, s, _) in py.items()}
    check(all(shown.values()), f"pprof would show names as <unknown>: "
          f"{[py[k] for k, v in shown.items() if not v]}")
    names = set(shown.values())
    for want in ("<module> (names_app.py)", "build (names_app.py)",
                 "<module> (names_pkg/__init__.py)"):
        check(want in names, f"no Python function '{want}' in {sorted(names)[:30]}")
    # the peak's biggest stack starts in the script's <module>, under its own name
    prof = cases_tools.decode_profile(data)
    top = max(prof["samples"], key=lambda s: s[1][3])
    stack = []
    for lid in top[0]:
        for fid, _ in prof["locations"][lid]["lines"]:
            stack.append(pprof_shown(*fns[fid][:2]))
    check("<module> (names_app.py)" in stack, f"biggest stack {stack}")
    go = shutil.which("go")
    if go:
        g = it.run([go, "tool", "pprof", "-top", "-sample_index=inuse_space", out], timeout=300)
        check(g.returncode == 0 and "<module> (names_app.py)" in g.stdout and
              "<unknown>" not in g.stdout, f"go tool pprof\n{show(g)}")
    else:
        print("  go not installed: pprof's naming checked with its rules reimplemented here")


# ---- diff: sites matched by function and call path before lines ----

MOVED_C = r"""#include <stdlib.h>
%sstatic void *small[1000], *big[1000], *once;
__attribute__((noinline)) static void hold(int n)
{
    for (int i = 0; i < n; i++)
        small[i] = malloc(1000);
    for (int i = 0; i < n; i++)
        big[i] = malloc(2000);
}
__attribute__((noinline)) static void other(void)
{
    once = malloc(4096);
}
int main(void)
{
    other();
    hold(N);
    for (int i = 0; i < 1000; i++) {
        free(small[i]);
        free(big[i]);
    }
    free(once);
    return 0;
}
"""


def moved_build(name, n, comment):
    """moved.c built in its own directory (two checkouts of one file)."""
    os.makedirs(os.path.join(it.TMP, name), exist_ok=True)
    exe = it.build_c(os.path.join(name, "moved"),
                     MOVED_C % ("/* one comment line more */\n" if comment else ""),
                     "-O0", "-g", f"-DN={n}")
    log = os.path.join(it.TMP, name + ".mtr")
    record(log, exe)
    return log


@case(60)
def case_diff_moved_lines():
    old = moved_build("moved_old", 264, False)
    new = moved_build("moved_new", 792, True)
    d = json_of("diff", "--format", "json", old, new)
    check(d["delta"]["peak_bytes"] == 528 * 1000 + 528 * 2000, f"delta {d['delta']}")
    sites = d["sites"]
    got = sorted((s["status"], s.get("lines_moved"), s["delta"]["peak_bytes"],
                  s["stack"][0]["function"], s["stack"][0]["line"]) for s in sites)
    # lines 6 and 8 of the old source, one further down in the new one
    check(got == [("changed", True, 528000, "hold", 7), ("changed", True, 1056000, "hold", 9)],
          f"sites {got}")
    check(d["sites_changed"] == 2, f"sites_changed {d['sites_changed']}")
    p = memtrace("diff", "--no-color", old, new)
    check(p.returncode == 0 and "+528,000 B" in p.stdout and "+1,056,000 B" in p.stdout and
          "[new]" not in p.stdout and "[vanished]" not in p.stdout and
          p.stdout.count("[lines moved]") == 2, f"text diff\n{show(p)}")
    # a site that really is new stays new: the same build against the moved one, reversed
    d = json_of("diff", "--format", "json", new, old)
    check(sorted(s["delta"]["peak_bytes"] for s in d["sites"]) == [-1056000, -528000] and
          all(s["status"] == "changed" for s in d["sites"]), f"reversed {d['sites']}")

# ---- paths as a person reads them, SARIF locations for code scanning ----

FRAME_LINE = re.compile(r"^\s+(\S+)\s+(\S+):(\d+)$", re.M)


def frame_files(text):
    return [m.group(2) for m in FRAME_LINE.finditer(text)]


def real_roots():
    """The source and build roots with every link resolved (cwd is reported that way)."""
    return os.path.realpath(it.ARGS.source_root), os.path.realpath(it.ARGS.build_root)


@case(60)
def case_paths_build_dir():
    src_root, build = real_roots()
    demo_c = os.path.join(src_root, "samples", "demo.c")
    log = os.path.join(it.TMP, "demo.mtr")
    record(log, it.sample_exe("demo"), cwd=build)
    # JSON: the file as an absolute path (DWARF said ../samples/demo.c, from the build dir)
    rep = json_of("report", "--format", "json", log)
    fns = {d["function"]: d["file"] for d in it.json_dicts(rep)
           if d.get("function") in ("tokenize", "main", "intern_word") and d.get("file")}
    check(fns.get("tokenize") == demo_c and fns.get("main") == demo_c,
          f"JSON files {fns}, want {demo_c}")
    # text from the build directory: the source is not under it, so absolute
    p = memtrace("report", "--no-color", "--frames", "0", log, cwd=build)
    seen = frame_files(p.stdout)
    check(p.returncode == 0 and f"{demo_c}:30" in p.stdout, f"from the build dir\n{show(p)}")
    check(not any(f.startswith("../") or "/../" in f for f in seen),
          f"a path climbs out of the current directory: {seen}")
    # from the source root: relative to it
    p = memtrace("report", "--no-color", log, cwd=src_root)
    check(p.returncode == 0 and re.search(r"^\s+tokenize\s+samples/demo\.c:30$", p.stdout, re.M),
          f"from the source root\n{show(p)}")
    # leaks text from the build directory
    p = memtrace("leaks", "--no-color", log, cwd=build)
    check(f"{demo_c}:49" in p.stdout and "../samples" not in p.stdout, f"leaks text\n{show(p)}")


def sarif_locations(path):
    with open(path) as f:
        sarif = json.load(f)
    return [r["locations"][0]["physicalLocation"] for r in sarif["runs"][0]["results"]]


@case(60)
def case_paths_sarif():
    src_root, build = real_roots()
    leak_c = os.path.join(src_root, "samples", "leak_kinds.c")
    log = os.path.join(it.TMP, "leak_kinds.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--",
                 os.path.join(build, "samples", "leak_kinds"), cwd=build)
    check(p.returncode == 0, f"record\n{show(p)}")
    out = os.path.join(it.TMP, "out.sarif")
    # From the build directory: the source root is the checkout's top (its .git), and the
    # location is relative to it, never ../samples/... under %SRCROOT%.
    p = memtrace("leaks", "--format", "sarif", "-o", out, log, cwd=build)
    check(p.returncode == 0, f"sarif\n{show(p)}")
    in_repo = any(os.path.exists(os.path.join(d, ".git"))
                  for d in (build, os.path.dirname(build), src_root))
    for loc in sarif_locations(out):
        a = loc["artifactLocation"]
        if in_repo:
            check(a == {"uri": "samples/leak_kinds.c", "uriBaseId": "%SRCROOT%"},
                  f"from the build dir of a checkout: {a}")
        else:
            check(a == {"uri": "file://" + leak_c}, f"from a build dir, no checkout: {a}")
    # From a directory outside the sources (no checkout above it): absolute file URIs
    outside = os.path.join(it.TMP, "elsewhere")
    os.makedirs(outside, exist_ok=True)
    if not any(os.path.exists(os.path.join(d, ".git")) for d in ("/tmp", "/", it.TMP)):
        p = memtrace("leaks", "--format", "sarif", "-o", out, log, cwd=outside)
        for loc in sarif_locations(out):
            check(loc["artifactLocation"] == {"uri": "file://" + leak_c},
                  f"from outside the sources: {loc}")
    # From the source root: relative, as before
    p = memtrace("leaks", "--format", "sarif", "-o", out, log, cwd=src_root)
    for loc in sarif_locations(out):
        check(loc["artifactLocation"] == {"uri": "samples/leak_kinds.c",
                                          "uriBaseId": "%SRCROOT%"}, f"from the root: {loc}")
    # --source-root names the root wherever memtrace runs: samples/ itself, from outside
    p = memtrace("leaks", "--format", "sarif", "--source-root",
                 os.path.join(src_root, "samples"), "-o", out, log, cwd=outside)
    check(p.returncode == 0, f"--source-root\n{show(p)}")
    locs = sarif_locations(out)
    check(locs and all(loc["artifactLocation"] == {"uri": "leak_kinds.c", "uriBaseId": "%SRCROOT%"}
                       for loc in locs), f"--source-root samples: {locs[:2]}")
    p = memtrace("leaks", "--format", "sarif", "--source-root", leak_c, "-o", out, log)
    check(p.returncode == 2 and p.stderr == f"memtrace: leaks: --source-root '{leak_c}': "
          "not a directory\n", f"--source-root FILE\n{show(p)}")

# ---- a frame is its function and file ----

STATIC_A = r"""#include <stdlib.h>
void *keep_a;
static void make(void) { keep_a = malloc(100000); }
void (*get_a(void))(void) { return make; }
"""
STATIC_B = r"""#include <stdlib.h>
void *keep_b;
static void make(void) { keep_b = malloc(300000); }
void (*get_b(void))(void) { return make; }
"""
STATIC_MAIN = r"""#include <stdlib.h>
extern void *keep_a, *keep_b;
void (*get_a(void))(void);
void (*get_b(void))(void);
int main(void)
{
    void (*volatile fa)(void) = get_a(), (*volatile fb)(void) = get_b();
    fa();
    fb();
    free(keep_a);
    free(keep_b);
    return 0;
}
"""

TITLE = re.compile(r"<title>([^<]*)</title>")


@case(60)
def case_flame_static_same_name():
    srcs = [it.write(name, text)
            for name, text in (("a.c", STATIC_A), ("b.c", STATIC_B), ("main.c", STATIC_MAIN))]
    exe = os.path.join(it.TMP, "statics")
    cc = os.environ.get("CC") or it.ARGS.cc or "cc"
    p = it.run([*cc.split(), "-O0", "-g", "-o", exe, *srcs])
    check(p.returncode == 0, f"cc\n{show(p)}")
    log = os.path.join(it.TMP, "statics.mtr")
    record(log, exe)
    svg = os.path.join(it.TMP, "statics.svg")
    p = memtrace("flamegraph", "--min-percent", "0", "-o", svg, log)
    check(p.returncode == 0, f"flamegraph\n{show(p)}")
    with open(svg) as f:
        titles = [t.split("\n") for t in TITLE.findall(f.read())]
    makes = sorted((t[1].split(" in ")[0], t[2].split(" in ")[0]) for t in titles
                   if t[0] == "make")
    check(makes == [("a.c:3", "97.7 KiB (100,000 B)"), ("b.c:3", "293 KiB (300,000 B)")],
          f"make of a.c and make of b.c: {makes}")

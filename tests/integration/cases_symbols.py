# SPDX-License-Identifier: MIT
# Function, file and line of every frame, whatever compiler and DWARF flavour built the
# program: gcc -g is the reference; clang -g (no .debug_aranges), DWARF 4 and 5, and split
# DWARF (.dwo beside the binary) must give the same frames, inlined calls included. The
# expected lines come from "line:NAME" marks in tests/symbols/*.c. Exit 0 pass, 77 skip.
import os
import re
import shutil

import mt_harness as it
from mt_harness import Skip, check, show

case = it.suite("integration")

SOURCES = ("symbols.c", "symbols_other.c")
CXX_SOURCE = "symbols_ns.cpp"
VARIANTS = {
    "gcc": ["-g"],
    "gcc-split": ["-g", "-gsplit-dwarf"],
    "gcc-split-dwarf4": ["-gdwarf-4", "-gsplit-dwarf"],
    "clang": ["-g"],
    "clang-dwarf5": ["-gdwarf-5"],
    "clang-dwarf4": ["-gdwarf-4"],
    "clang-split": ["-g", "-gsplit-dwarf"],
}


def marks():
    """{NAME: (file, line)} from the "line:NAME" comments."""
    out = {}
    for name in SOURCES + (CXX_SOURCE,):
        with open(os.path.join(it.ARGS.source_root, "tests", "symbols", name)) as f:
            for n, line in enumerate(f, 1):
                for m in re.finditer(r"line:(\w+)", line):
                    out[m.group(1)] = (name, n)
    return out


def expected():
    """Innermost frames of each block, by its size: (function, file, line, inlined)."""
    m = marks()

    def at(fn, mark, inlined=False):
        return (fn, m[mark][0], m[mark][1], inlined)

    return {
        101: [at("plain_alloc", "plain_alloc"), at("main", "main_plain")],
        202: [at("inlined_alloc", "inlined_alloc", True),
              at("outer_of_inlined", "outer_of_inlined"), at("main", "main_inlined")],
        303: [at("other_unit_alloc", "other_unit_alloc"), at("main", "main_other")],
    }


def build(variant, flags):
    cc = "clang" if variant.startswith("clang") else "gcc"
    if not shutil.which(cc):
        return None
    d = os.path.join(it.TMP, variant)  # split DWARF: each build's .dwo files in its own dir
    os.makedirs(d)
    srcs = [os.path.join(it.ARGS.source_root, "tests", "symbols", s) for s in SOURCES]
    objs = []
    for src in srcs:  # compiled apart, as a build system does: one .dwo per object
        obj = os.path.join(d, os.path.basename(src)[:-2] + ".o")
        p = it.run([cc, *flags, "-O1", "-c", "-o", obj, src], cwd=d)
        check(p.returncode == 0, f"{variant}: {cc} -c {src}\n{show(p)}")
        objs.append(obj)
    prog = os.path.join(d, "symbols")
    p = it.run([cc, "-o", prog, *objs], cwd=d)
    check(p.returncode == 0, f"{variant}: link\n{show(p)}")
    if "-gsplit-dwarf" in flags:
        check(any(f.endswith(".dwo") for f in os.listdir(d)), f"{variant}: no .dwo in {d}")
    return prog


def frames_of(prog, variant, sizes=(101, 202, 303)):
    log = prog + ".mtr"
    p = it.memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    check(p.returncode == 0, f"{variant}: memtrace run\n{show(p)}")
    rep = it.leaks_json(log, "--kinds", "all")
    check(not rep["warnings"], f"{variant}: warnings {rep['warnings']}")
    out = {}
    for r in rep["leaks"]:
        if r["bytes"] in sizes and r["blocks"] == 1:
            out[r["bytes"]] = [(f.get("function"), os.path.basename(f.get("file") or ""),
                                f.get("line"), f.get("inlined")) for f in r["stack"]]
    return out


def check_frames(variant, got, size, frames):
    """The innermost frames of the stack of the size-byte block (frames_of) are frames."""
    check(size in got, f"{variant}: no record of the {size}-byte block: {sorted(got)}")
    check(got[size][:len(frames)] == frames,
          f"{variant}: {size}-byte block\n  expected {frames}\n  got      "
          f"{got[size][:len(frames) + 1]}")


def checked(ran, none):
    """Says which variants ran; a skip, saying none, when none could be built."""
    if not ran:
        raise Skip(none)
    print("checked: " + " ".join(ran))


def check_variants(names):
    want = expected()
    ran = []
    for variant in names:
        prog = build(variant, VARIANTS[variant])
        if prog is None:
            continue
        got = frames_of(prog, variant)
        for size, frames in want.items():
            check_frames(variant, got, size, frames)
        ran.append(variant)
    checked(ran, "neither gcc nor clang found")


@case(60)
def case_symbols_gcc():
    check_variants(["gcc"])


@case(120)
def case_symbols_clang():
    if not shutil.which("clang"):
        raise Skip("clang is not installed")
    check_variants(["clang", "clang-dwarf5", "clang-dwarf4"])


@case(120)
def case_symbols_split_dwarf():
    check_variants(["gcc-split", "gcc-split-dwarf4", "clang-split"])


@case(120)
def case_symbols_cpp_namespace():
    """Functions inside namespaces, inlined calls in a loop: the same frames from g++ and
    clang++ (DWARF 4 and 5)."""
    m = marks()
    src = os.path.join(it.ARGS.source_root, "tests", "symbols", CXX_SOURCE)
    ran = []
    for cxx, flags in (("g++", ["-g"]), ("clang++", ["-g"]), ("clang++", ["-gdwarf-4"])):
        if not shutil.which(cxx):
            continue
        tag = cxx.replace("+", "x") + flags[0]
        prog = os.path.join(it.TMP, "ns-" + tag)
        p = it.run([cxx, *flags, "-O1", "-o", prog, src])
        check(p.returncode == 0, f"{tag}: build\n{show(p)}")
        got = frames_of(prog, tag, sizes=(404,))
        for size in (404,):
            want = [("outer_ns::helper(unsigned long)", *m["ns_helper"], True),
                    ("outer_ns::fill(int)", *m["ns_fill"], False), ("main", *m["ns_main"], False)]
            check_frames(tag, got, size, want)
        ran.append(tag)
    checked(ran, "no C++ compiler")


@case(60)
def case_symbols_split_dwarf_missing():
    """The .dwo gone: lines from the skeleton and names from the symbol table, one warning."""
    prog = build("gcc-split", VARIANTS["gcc-split"])
    if prog is None:
        raise Skip("gcc is not installed")
    for f in os.listdir(os.path.dirname(prog)):
        if f.endswith(".dwo"):
            os.unlink(os.path.join(os.path.dirname(prog), f))
    log = prog + ".mtr"
    p = it.memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    check(p.returncode == 0, f"memtrace run\n{show(p)}")
    rep = it.leaks_json(log, "--kinds", "all")
    check(len(rep["warnings"]) == 1 and ".dwo) not found" in rep["warnings"][0],
          f"warnings {rep['warnings']}")
    m = marks()
    rec = [r for r in rep["leaks"] if r["bytes"] == 101]
    check(rec, "no record of the 101-byte block")
    top = rec[0]["stack"][0]
    check((top["function"], os.path.basename(top["file"] or ""), top["line"]) ==
          ("plain_alloc", *m["plain_alloc"]), f"frame {top}")

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The debug file cache (src/debug_cache.c) end to end: dc_prog.c is built with compressed DWARF
# and its debug info split into prog.debug (found by .gnu_debuglink), recorded once, and
# `memtrace report --format json` must give the same bytes from an empty cache (which it
# fills with an uncompressed copy), a warm one, with MEMTRACE_DEBUG_CACHE=0, and with an entry
# that is truncated, stale, of another build-id or unwritable. The case `libc` does the same
# for libc's debug file from libc6-dbg (skipped when it is not installed or not compressed),
# `dwz` for a debug file whose .gnu_debugaltlink names a compressed common file (needs dwz; the
# common file is cached too), and `cap` for MEMTRACE_DEBUG_CACHE_MAX's least-recently-used
# eviction.
import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SITE_BYTES = 123
SITE_BLOCKS = 3


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(cmd, env=None, **kw):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        fail("%s exited %d:\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p


def build_id(path):
    m = re.search(r"Build ID: ([0-9a-f]+)", run(["readelf", "-n", path]).stdout)
    if not m:
        fail(path + ": no build-id")
    return m.group(1)


def sections(path):
    """(name, flags) of every section, from readelf -S."""
    out = run(["readelf", "-SW", path]).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+"
                     r"[0-9a-f]+\s+([A-Za-z]*)\s+\d+", line)
        if m:
            rows.append((m.group(1), m.group(2)))
    return rows


def compressed(path):
    return [n for n, f in sections(path) if "C" in f or n.startswith(".zdebug")]


class Case:
    def __init__(self, args, work):
        self.memtrace = args.memtrace
        self.work = work
        self.log = os.path.join(work, "prog.mtr")

    def report(self, cache, extra_env=None):
        env = dict(os.environ)
        env.pop("MEMTRACE_DEBUG_CACHE", None)
        env["XDG_CACHE_HOME"] = cache
        env.update(extra_env or {})
        p = run([self.memtrace, "report", "--format", "json", self.log], env=env)
        return p.stdout, p.stderr


def entry_paths(cache, bid):
    d = os.path.join(cache, "memtrace", "debug")
    return os.path.join(d, bid + ".debug"), os.path.join(d, bid + ".key")


def check_entry(entry, debug_file, bid,
                need=(".debug_info", ".debug_line", ".debug_abbrev", ".symtab")):
    if not os.path.isfile(entry):
        fail("no cache entry %s for %s" % (entry, debug_file))
    left = compressed(entry)
    if left:
        fail("cache entry still has compressed sections: %s" % left)
    if build_id(entry) != bid:
        fail("cache entry's build-id differs")
    names = {n for n, _ in sections(entry)}
    for want in need:
        if want not in names:
            fail("cache entry lacks %s (has %s)" % (want, sorted(names)))


def same(what, got, want):
    if got != want:
        diff = difflib.unified_diff(want.splitlines(), got.splitlines(), "first", what,
                                    lineterm="")
        fail("%s: the report differs from the first one:\n%s" %
             (what, "\n".join(list(diff)[:40])))


def functions(out):
    return {f["function"] for s in json.loads(out)["top_sites"] for f in s["stack"]}


def exercise(case, debug_file, bid, check_report, pick_name):
    """Cold, warm, disabled and broken-entry runs must all give the first report's bytes."""
    cache = os.path.join(case.work, "cache")
    entry, key = entry_paths(cache, bid)

    first, err_first = case.report(cache)
    check_entry(entry, debug_file, bid)
    check_report(first)
    size = os.path.getsize(entry)
    ino = os.stat(entry).st_ino

    warm, _ = case.report(cache)
    same("warm", warm, first)
    if os.stat(entry).st_ino != ino:
        fail("a valid entry was written again instead of being used")

    # What libdw reads is the copy, not the original: a name changed in the copy (its size,
    # build-id and key intact, so the entry stays valid) shows in the report.
    with open(entry, "rb") as f:
        data = f.read()
    name = pick_name(first)
    other = name[:-1] + name[-1].swapcase()
    if name == other or data.count(name.encode() + b"\0") == 0:
        fail("cannot rename %r in the cache entry" % name)
    with open(entry, "wb") as f:
        f.write(data.replace(name.encode() + b"\0", other.encode() + b"\0"))
    out, _ = case.report(cache)
    if other not in functions(out) or name in functions(out):
        fail("%s renamed %s in the cache entry, but the report did not read it" % (name, other))
    with open(entry, "wb") as f:
        f.write(data)

    off_cache = os.path.join(case.work, "off")
    off, err_off = case.report(off_cache, {"MEMTRACE_DEBUG_CACHE": "0"})
    same("disabled", off, first)
    if os.path.exists(off_cache):
        fail("MEMTRACE_DEBUG_CACHE=0 still made %s" % off_cache)
    if err_off != err_first:
        fail("stderr differs with the cache off:\n%s\n---\n%s" % (err_off, err_first))

    # A truncated entry (a crash while someone else wrote it, a full disk) is never used.
    with open(entry, "r+b") as f:
        f.truncate(size // 2)
    out, err = case.report(cache)
    same("truncated", out, first)
    if err != err_first:
        fail("a truncated entry changed stderr:\n" + err)
    if os.path.getsize(entry) != size or compressed(entry):
        fail("a truncated entry was not replaced")

    # An entry of another build (one byte of its build-id changed, size and key intact).
    with open(entry, "rb") as f:
        data = bytearray(f.read())
    at = data.find(bytes.fromhex(bid))
    if at < 0:
        fail("build-id bytes not found in the entry")
    data[at] ^= 0xFF
    with open(entry, "wb") as f:
        f.write(data)
    out, _ = case.report(cache)
    same("other-build-id", out, first)
    if build_id(entry) != bid:
        fail("an entry of another build-id was not replaced")

    # A stale entry: the debug file changed since (its mtime), or a key that is not one.
    st = os.stat(debug_file)
    if os.access(debug_file, os.W_OK) and debug_file.startswith(case.work):
        os.utime(debug_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1000000000))
        out, _ = case.report(cache)
        same("stale", out, first)
        with open(key) as f:
            if str(st.st_mtime_ns // 1000000000 + 1) not in f.read():
                fail("the key of a stale entry was not rewritten")
    with open(key, "w") as f:
        f.write("memtrace debug cache 1\nnot a key\n")
    out, _ = case.report(cache)
    same("bad-key", out, first)
    with open(key) as f:
        if "not a key" in f.read():
            fail("a broken key was not rewritten")

    # A cache that cannot be written: the parent of memtrace/ is a regular file.
    blocked = os.path.join(case.work, "blocked")
    with open(blocked, "w") as f:
        f.write("not a directory\n")
    out, err = case.report(blocked)
    same("unwritable", out, first)
    if err != err_first:
        fail("an unwritable cache changed stderr:\n" + err)


def prog_case(args, work, gz):
    prog = os.path.join(work, "prog")
    debug = prog + ".debug"
    run([args.cc, "-g", "-O0", "-gz=" + gz, "-Wl,--build-id", "-o", prog, args.source])
    run(["objcopy", "--only-keep-debug", prog, debug])
    run(["objcopy", "--strip-debug", "--add-gnu-debuglink=" + debug, prog])
    if not compressed(debug):
        fail("-gz=%s gave no compressed section in %s: nothing to test" % (gz, debug))
    if any(n.startswith((".debug_", ".zdebug_")) for n, _ in sections(prog)):
        fail("the program kept its DWARF: the debug file would not be read")
    case = Case(args, work)
    run([args.memtrace, "run", "-q", "-o", case.log, "--", prog], cwd=work)
    with open(args.source) as f:
        line = 1 + next(i for i, t in enumerate(f) if "DEBUGCACHE_SITE" in t)

    def check_report(out):
        doc = json.loads(out)
        sites = [s for s in doc["top_sites"] if s["stack"] and
                 s["stack"][0]["function"] == "leaky_site"]
        if len(sites) != 1:
            fail("expected one leaky_site site, got %d" % len(sites))
        s = sites[0]
        if s["bytes"] != SITE_BYTES * SITE_BLOCKS or s["blocks"] != SITE_BLOCKS:
            fail("leaky_site: %d bytes in %d blocks" % (s["bytes"], s["blocks"]))
        top = s["stack"][0]
        # file and line come from DWARF only: the debug file was read.
        if not (top["file"] or "").endswith("dc_prog.c") or top["line"] != line:
            fail("leaky_site at %s:%s, expected dc_prog.c:%d" % (top["file"], top["line"], line))

    exercise(case, debug, build_id(debug), check_report, lambda out: "leaky_site")


SHARED_H = """#include <stdlib.h>
static inline __attribute__((always_inline)) void *dc_shared_alloc(size_t n)
{
    return malloc(n);
}
"""


def dwz_case(args, work):
    """dwz moves what two programs share (here an inlined function from a header) into a
    common file that each debug file names in .gnu_debugaltlink, relative to itself: read
    through the cached copy, the alt file must still be found."""
    if not shutil.which("dwz"):
        print("SKIP: dwz not installed")
        sys.exit(77)
    with open(args.source) as f:
        src = f.read()
    src = src.replace("#include <string.h>", '#include <string.h>\n\n#include "dc_shared.h"')
    src = src.replace("return malloc(n); /* DEBUGCACHE_SITE */",
                      "return dc_shared_alloc(n); /* DEBUGCACHE_SITE */")
    with open(os.path.join(work, "dc_shared.h"), "w") as f:
        f.write(SHARED_H)
    for name, text in (("prog", src), ("other", src.replace("leaky_site", "other_site"))):
        with open(os.path.join(work, name + ".c"), "w") as f:
            f.write(text)
        run([args.cc, "-g", "-O0", "-o", name, name + ".c"], cwd=work)
        run(["objcopy", "--only-keep-debug", name, name + ".debug"], cwd=work)
    run(["dwz", "-m", "common.debug", "-M", "common.debug", "prog.debug", "other.debug"],
        cwd=work)
    for name in ("prog.debug", "common.debug"):
        run(["objcopy", "--compress-debug-sections=zlib", name], cwd=work)
        if not compressed(os.path.join(work, name)):
            fail(name + ": not compressed")
    prog = os.path.join(work, "prog")
    run(["objcopy", "--strip-debug", "--add-gnu-debuglink=prog.debug", "prog"], cwd=work)
    case = Case(args, work)
    run([args.memtrace, "run", "-q", "-o", case.log, "--", prog], cwd=work)

    def check_report(out):
        doc = json.loads(out)
        stacks = [[(f["function"], f["inlined"]) for f in s["stack"]] for s in doc["top_sites"]]
        want = [("dc_shared_alloc", True), ("leaky_site", False)]
        if not any(st[:2] == want for st in stacks):
            fail("no site %s (the inlined function is named in the alt file): %s" %
                 (want, stacks))

    exercise(case, prog + ".debug", build_id(prog + ".debug"), check_report,
             lambda out: "leaky_site")

    # The common file has its own copy, and that copy is what libdw reads: the inlined
    # function's name, renamed in it, shows in the report.
    cache = os.path.join(work, "cache")
    common = os.path.join(work, "common.debug")
    alt_bid = build_id(common)
    alt_entry, _ = entry_paths(cache, alt_bid)
    ref, _ = case.report(os.path.join(work, "off"), {"MEMTRACE_DEBUG_CACHE": "0"})
    check_entry(alt_entry, common, alt_bid, need=(".debug_info", ".debug_abbrev"))
    with open(alt_entry, "rb") as f:
        data = f.read()
    name, other = "dc_shared_alloc", "dc_shared_alloC"
    if data.count(name.encode() + b"\0") == 0:
        fail("%s is not named in the common file's copy" % name)
    with open(alt_entry, "wb") as f:
        f.write(data.replace(name.encode() + b"\0", other.encode() + b"\0"))
    out, _ = case.report(cache)
    if other not in functions(out) or name in functions(out):
        fail("%s renamed %s in the common file's copy, but the report did not read it" %
             (name, other))
    with open(alt_entry, "wb") as f:
        f.write(data)
    out, _ = case.report(cache)
    same("common file's copy", out, ref)
    # A truncated copy of the common file is never used, and is made again.
    with open(alt_entry, "r+b") as f:
        f.truncate(len(data) // 2)
    out, _ = case.report(cache)
    same("truncated common file's copy", out, ref)
    if os.path.getsize(alt_entry) != len(data):
        fail("a truncated copy of the common file was not replaced")


def cap_case(args, work):
    """MEMTRACE_DEBUG_CACHE_MAX: three programs, each with its own compressed debug file. Over
    the cap, the copies least recently used go first, never the one just made; every report
    is the one made without the cache."""
    with open(args.source) as f:
        src = f.read()
    cases, refs, bids = {}, {}, {}
    for name in ("a", "b", "c"):
        d = os.path.join(work, name)
        os.mkdir(d)
        with open(os.path.join(d, "prog.c"), "w") as f:
            f.write(src.replace('"debug cache"', '"debug cache %s"' % name))
        run([args.cc, "-g", "-O0", "-gz=zlib", "-Wl,--build-id", "-o", "prog", "prog.c"], cwd=d)
        run(["objcopy", "--only-keep-debug", "prog", "prog.debug"], cwd=d)
        run(["objcopy", "--strip-debug", "--add-gnu-debuglink=prog.debug", "prog"], cwd=d)
        case = Case(args, work)
        case.log = os.path.join(d, "prog.mtr")
        run([args.memtrace, "run", "-q", "-o", case.log, "--", os.path.join(d, "prog")], cwd=d)
        cases[name] = case
        bids[name] = build_id(os.path.join(d, "prog.debug"))
        refs[name], _ = case.report(os.path.join(work, "off"), {"MEMTRACE_DEBUG_CACHE": "0"})
    if len(set(bids.values())) != 3:
        fail("the three programs share a build-id")

    # Every copy the three reports make: the programs' and, with libc6-dbg, libc's, which
    # each report reads too (it is used last or next to last in each run, whatever the order).
    for name in cases:
        out, _ = cases[name].report(os.path.join(work, "sizes"))
        same("uncapped " + name, out, refs[name])
    sizes_dir = os.path.dirname(entry_paths(os.path.join(work, "sizes"), "x")[0])
    copies = [f for f in os.listdir(sizes_dir) if f.endswith(".debug")]
    total = sum(os.path.getsize(os.path.join(sizes_dir, f)) for f in copies)

    def step(cache, name, cap):
        out, _ = cases[name].report(cache, {"MEMTRACE_DEBUG_CACHE_MAX": cap})
        same("%s with MEMTRACE_DEBUG_CACHE_MAX=%s" % (name, cap), out, refs[name])
        time.sleep(0.05)  # the next use gets a later time than this one, whatever the clock tick

    def kept(cache, want):
        have = {n for n in bids if os.path.exists(entry_paths(cache, bids[n])[0])}
        keys = {n for n in bids if os.path.exists(entry_paths(cache, bids[n])[1])}
        if have != set(want) or keys != set(want):
            fail("copies %s, keys %s; expected %s" % (sorted(have), sorted(keys), sorted(want)))

    # Room for all copies but one: a, b, a used again, then c evicts b (least recently used),
    # not a (made first).
    cache = os.path.join(work, "lru")
    cap = str(total - 1)
    for name in ("a", "b", "a"):
        step(cache, name, cap)
    kept(cache, "ab")
    step(cache, "c", cap)
    kept(cache, "ac")
    # b again: made, and a goes now
    step(cache, "b", cap)
    kept(cache, "bc")
    # A cap smaller than two copies (here, than one) keeps only the newest: a's, or libc's
    # when the report made it again after a's.
    step(cache, "a", "1")
    cache_dir = os.path.dirname(entry_paths(cache, "x")[0])
    left = sorted(os.listdir(cache_dir))
    if len(left) != 2 or left[0][:-len(".debug")] != left[1][:-len(".key")] or \
            left[0][:-len(".debug")] in (bids["b"], bids["c"]):
        fail("a cap of 1 byte left %s, not a's or libc's copy and its key" % left)
    # Units: 1G holds every copy made from now on.
    step(cache, "c", "1G")
    step(cache, "b", "1GiB")
    have = {f for f in os.listdir(cache_dir) if f.endswith(".debug")}
    a_copy = bids["a"] + ".debug"
    want = set(copies) if left[0] == a_copy else set(copies) - {a_copy}  # a is not read again
    if have != want:
        fail("with a cap of 1G: copies %s, expected %s" % (sorted(have), sorted(want)))


def libc_case(args, work):
    prog = os.path.join(work, "prog")
    run([args.cc, "-g", "-O0", "-o", prog, args.source])
    ldd = run(["ldd", prog]).stdout
    m = re.search(r"libc\.so\.6 => (\S+)", ldd)
    if not m:
        print("SKIP: no libc.so.6 in ldd's output")
        sys.exit(77)
    libc = os.path.realpath(m.group(1))
    bid = build_id(libc)
    debug = "/usr/lib/debug/.build-id/%s/%s.debug" % (bid[:2], bid[2:])
    if not os.path.exists(debug) or not compressed(debug):
        print("SKIP: %s: not installed (libc6-dbg) or not compressed" % debug)
        sys.exit(77)
    case = Case(args, work)
    run([args.memtrace, "run", "-q", "-o", case.log, "--", prog], cwd=work)

    def check_report(out):
        doc = json.loads(out)
        frames = [f for s in doc["top_sites"] for f in s["stack"]
                  if os.path.realpath(f["module"] or "") == libc]
        if not frames or not all(f["file"] and f["line"] for f in frames[:1]):
            fail("no libc frame with a file and line: libc's DWARF was not read")

    def libc_function(out):
        return next(f["function"] for s in json.loads(out)["top_sites"] for f in s["stack"]
                    if os.path.realpath(f["module"] or "") == libc and f["function"])

    exercise(case, debug, bid, check_report, libc_function)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memtrace", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--cc", default="cc")
    ap.add_argument("case", choices=["zlib", "zlib-gnu", "libc", "dwz", "cap"])
    args = ap.parse_args()
    args.memtrace = os.path.abspath(args.memtrace)
    args.source = os.path.abspath(args.source)
    for tool in ("readelf", "objcopy"):
        if not shutil.which(tool):
            print("SKIP: %s not installed" % tool)
            sys.exit(77)
    with tempfile.TemporaryDirectory(prefix="mt-debugcache-") as work:
        os.chdir(work)
        if args.case == "libc":
            libc_case(args, work)
        elif args.case == "dwz":
            dwz_case(args, work)
        elif args.case == "cap":
            cap_case(args, work)
        else:
            prog_case(args, work, args.case)
    print("ok")


if __name__ == "__main__":
    main()

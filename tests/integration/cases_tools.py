# SPDX-License-Identifier: MIT
# Integration tests of the commands that hand data on: `memtrace diff` (exact growth between two
# runs of samples/peak, --fail-above exit codes), `memtrace export` (folded, pprof decoded here
# by a small protobuf reader, massif read by ms_print), and the CLI polish shared by every
# command (--help naming every option the source parses, unknown options, NO_COLOR on a tty,
# bash completion, --version, progress). Uses mt_harness.py's helpers; exit 77 = skip.
import gzip
import json
import os
import pty
import re
import shutil
import subprocess

import mt_harness as it
from mt_harness import Fail, Skip, check, show, memtrace, record, json_of

case = it.suite("integration", "tools")

PEAK_LINE = re.compile(r"^memtrace-peak: peak_bytes=(\d+) site=(\w+) churn_bytes=(\d+)$", re.M)


def peak_run(name, *args, prog=None):
    """Records samples/peak (or prog) with args; returns (log, peak_bytes it printed)."""
    log = os.path.join(it.TMP, name)
    p = record(log, prog or it.sample_exe("peak"), *args)
    m = PEAK_LINE.search(p.stdout)
    check(m, f"peak prints no memtrace-peak line\n{show(p)}")
    return log, int(m.group(1))


def inner_function(site):
    return (site.get("stack") or [{}])[0].get("function")


# ---- diff ----

@case(90)
def case_diff_growth():
    old, old_peak = peak_run("old.mtr")
    new, new_peak = peak_run("new.mtr", "96")
    check(old_peak == 96256 and new_peak == 168960, f"sample peaks {old_peak} {new_peak}")
    growth = new_peak - old_peak
    d = json_of("diff", "--format", "json", old, new)
    check(d["old"]["totals"]["peak_bytes"] == old_peak and
          d["new"]["totals"]["peak_bytes"] == new_peak, f"totals {d['old']} {d['new']}")
    check(d["delta"]["peak_bytes"] == growth, f"delta {d['delta']}, want {growth}")
    check(d["delta"]["allocations"] == 32 and d["delta"]["leaked_bytes"] == 0,
          f"delta {d['delta']}")
    # Only hold_buffers changed (churn allocates the same, and holds nothing at the peak).
    check(d["sites_changed"] == 1 and len(d["sites"]) == 1, f"sites {d['sites']}")
    s = d["sites"][0]
    check(s["status"] == "changed" and inner_function(s) == "hold_buffers" and
          s["delta"]["peak_bytes"] == growth and s["old"]["peak_blocks"] == 64 and
          s["new"]["peak_blocks"] == 96, f"site {s}")
    check(d["fail_above"] is None, "fail_above without the option")
    p = memtrace("diff", "--no-color", old, new)
    check(p.returncode == 0 and "+72,704 B" in p.stdout and "hold_buffers" in p.stdout,
          f"text diff\n{show(p)}")
    # --fail-above: bytes, units and percentages on both sides of the exact growth (75.5%)
    for limit, want in [(str(growth - 1), 1), (str(growth), 0), ("70KiB", 1), ("71K", 0),
                        ("70.9k", 1), ("71.1 KB", 0), ("1MiB", 0), ("75%", 1), ("75.6%", 0),
                        ("0", 1)]:
        p = memtrace("diff", "--fail-above", limit, old, new)
        check(p.returncode == want, f"--fail-above {limit}: exit {p.returncode}, want {want}\n"
              f"{show(p)}")
        if want:
            lines = p.stderr.strip().splitlines()
            check(len(lines) == 1 and "peak heap grew by" in lines[0] and
                  "(72,704 B)" in lines[0] and limit in lines[0],
                  f"--fail-above {limit} should say why in one line\n{show(p)}")
        else:
            check(p.stderr == "", f"--fail-above {limit} passed but wrote to stderr\n{show(p)}")
    p = memtrace("diff", "--format", "json", "--fail-above", "5%", old, new)
    d = json.loads(p.stdout)
    check(p.returncode == 1 and d["fail_above"]["exceeded"] is True and
          d["fail_above"]["percent"] is True, f"JSON fail_above {d['fail_above']}")
    # Shrinking never fails, and a log against itself has no changed site.
    p = memtrace("diff", "--fail-above", "0", new, old)
    check(p.returncode == 0, f"shrinking should pass --fail-above 0\n{show(p)}")
    d = json_of("diff", "--format", "json", old, old)
    check(d["sites_changed"] == 0 and d["delta"]["peak_bytes"] == 0, f"self diff {d}")
    # usage errors: exit 2, one line
    for args in (["diff", old], ["diff", "--fail-above", "ten", old, new],
                 ["diff", "--by", "size", old, new], ["diff", "--format", "xml", old, new]):
        p = memtrace(*args)
        check(p.returncode == 2 and p.stderr.count("\n") == 1, f"{args}\n{show(p)}")
    p = memtrace("diff", old, os.path.join(it.TMP, "missing.mtr"))
    check(p.returncode == 1 and p.stderr.count("\n") == 1, f"missing log\n{show(p)}")


@case(90)
def case_diff_builds():
    """Two different binaries built in different places still match by function/file/line."""
    exe = os.path.join(it.TMP, "peak-other-build")
    p = it.compile_c(os.path.join(it.ARGS.source_root, "samples", "peak.c"), exe, "-O0", "-g")
    check(p.returncode == 0, f"cannot compile samples/peak.c\n{show(p)}")
    old, old_peak = peak_run("old.mtr")
    new, new_peak = peak_run("new.mtr", "80", prog=exe)
    d = json_of("diff", "--format", "json", old, new)
    check(d["sites_changed"] == 1, f"expected one changed site, got {d['sites']}")
    s = d["sites"][0]
    check(s["status"] == "changed" and inner_function(s) == "hold_buffers" and
          s["delta"]["peak_bytes"] == new_peak - old_peak, f"site {s}")
    check(s["stack"][0]["module"] == exe, f"the new run's stack is shown: {s['stack'][0]}")


SHRINK_C = r"""
#include <stdlib.h>
void *big[200], *small[200];
__attribute__((noinline)) static void hold_big(int n)
{
    for (int i = 0; i < n; i++)
        big[i] = malloc(1000); /* the site that shrinks */
}
__attribute__((noinline)) static void hold_small(int n)
{
    for (int i = 0; i < n; i++)
        small[i] = malloc(100); /* the site that grows a little */
}
int main(int argc, char **argv)
{
    hold_big(atoi(argv[1]));
    hold_small(atoi(argv[2]));
    return 0;
}
"""


@case(60)
def case_diff_shrink_first():
    """Sites are ranked by the size of their change, either sign: a site that shrank by
    90,000 B comes before one that grew by 200 B, and its delta is negative."""
    exe = it.build_c("shrink", SHRINK_C, "-g", "-O0")
    old, new = os.path.join(it.TMP, "old.mtr"), os.path.join(it.TMP, "new.mtr")
    record(old, exe, "100", "10")
    record(new, exe, "10", "12")
    d = json_of("diff", "--format", "json", "--by", "leaked", old, new)
    got = [(inner_function(s), s["delta"]["leaked_bytes"]) for s in d["sites"]]
    check(got[:2] == [("hold_big", -90000), ("hold_small", 200)],
          f"sites by change: {got}, want hold_big -90000 first, then hold_small +200")
    p = memtrace("diff", "--no-color", "--by", "leaked", old, new)
    check(p.returncode == 0 and p.stdout.find("hold_big") < p.stdout.find("hold_small") and
          "-90,000 B" in p.stdout, f"text diff\n{show(p)}")


@case(60)
def case_diff_new_vanished():
    old, _ = peak_run("peak.mtr")
    log = os.path.join(it.TMP, "demo.mtr")
    p = record(log, it.sample_exe("demo"))
    truth = it.SAMPLE_LINE.search(p.stdout)
    leaked = int(truth.group(3))
    d = json_of("diff", "--format", "json", "--by", "leaked", "--top", "0", old, log)
    check(d["by"] == "leaked" and d["delta"]["leaked_bytes"] == leaked, f"delta {d['delta']}")
    top = d["sites"][0]
    check(top["status"] == "new" and inner_function(top) == "remember_error" and
          top["delta"]["leaked_bytes"] == leaked and top["old"]["allocations"] == 0,
          f"top site {top}")
    gone = [s for s in d["sites"] if inner_function(s) == "hold_buffers"]
    check(len(gone) == 1 and gone[0]["status"] == "vanished" and
          gone[0]["new"]["allocations"] == 0 and gone[0]["old"]["peak_bytes"] == 96256,
          f"hold_buffers should be vanished: {gone}")
    p = memtrace("diff", "--by", "leaked", "--fail-above", "1%", old, log)
    check(p.returncode == 1 and "not freed at exit grew by" in p.stderr,
          f"growth from 0 is above any percentage\n{show(p)}")
    p = memtrace("diff", "--no-color", "--by", "leaked", old, log)
    check("[new]" in p.stdout and "[vanished]" in p.stdout, f"text marks\n{show(p)}")


# ---- export ----

def demo_log(name="demo.mtr", env=None):
    log = os.path.join(it.TMP, name)
    p = record(log, it.sample_exe("demo"), env=env)
    m = it.SAMPLE_LINE.search(p.stdout)
    check(m, f"demo prints no sample line\n{show(p)}")
    return log, tuple(int(x) for x in m.groups())


FOLDED_LINE = re.compile(r"^([^;\n]+(?:;[^;\n]+)*) (\d+)$")


@case(60)
def case_export_folded():
    log, peak = peak_run("peak.mtr")
    p = memtrace("export", "--to", "folded", log)
    check(p.returncode == 0, f"export folded\n{show(p)}")
    lines = p.stdout.splitlines()
    parsed = [FOLDED_LINE.match(line) for line in lines]
    check(lines and all(parsed), f"not folded lines:\n{p.stdout}")
    check(len(lines) == 1 and lines[0].endswith(";main;hold_buffers 96256"),
          f"the peak is hold_buffers alone: {lines}")
    dlog, (allocs, frees, leaked, leaked_blocks) = demo_log()
    summ = json_of("report", "--format", "json", dlog)
    # allocations is the number of calls, as in flamegraph; allocated the bytes (issue 16)
    for cost, want in [("leaked", leaked), ("allocations", summ["allocations"]),
                       ("allocated", summ["bytes_allocated"]), ("peak", summ["peak_heap_bytes"])]:
        p = memtrace("export", "--to", "folded", "--cost", cost, dlog)
        check(p.returncode == 0, f"--cost {cost}\n{show(p)}")
        total = sum(int(FOLDED_LINE.match(x).group(2)) for x in p.stdout.splitlines())
        check(total == want, f"--cost {cost}: folded total {total}, want {want}\n{p.stdout}")
    p = memtrace("export", "--to", "folded", "--cost", "leaked", "-o",
                 os.path.join(it.TMP, "d.folded"), dlog)
    with open(os.path.join(it.TMP, "d.folded")) as f:
        text = f.read()
    check(p.returncode == 0 and p.stdout == "" and
          re.search(r";main;remember_error 1600$", text, re.M), f"-o file:\n{text}")
    for args in (["export", dlog], ["export", "--to", "svg", dlog],
                 ["export", "--to", "folded", "--cost", "time", dlog]):
        p = memtrace(*args)
        check(p.returncode == 2 and p.stderr.count("\n") == 1, f"{args}\n{show(p)}")


# A protobuf reader just big enough for profile.proto: wire types 0 (varint), 1, 2, 5.
def pb_varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if c < 0x80:
            return v, i


def pb_fields(b):
    """[(field, wire, value)]; value is an int or bytes."""
    out, i = [], 0
    while i < len(b):
        key, i = pb_varint(b, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = pb_varint(b, i)
        elif wire == 2:
            n, i = pb_varint(b, i)
            v = b[i:i + n]
            check(len(v) == n, "length-delimited field runs past the end")
            i += n
        elif wire == 1:
            v, i = int.from_bytes(b[i:i + 8], "little"), i + 8
        elif wire == 5:
            v, i = int.from_bytes(b[i:i + 4], "little"), i + 4
        else:
            raise Fail(f"bad wire type {wire} at {i}")
        out.append((field, wire, v))
    return out


def pb_packed(v):
    if isinstance(v, int):
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = pb_varint(v, i)
        out.append(x)
    return out


def decode_profile(data):
    f = pb_fields(gzip.decompress(data))
    strings = [v.decode() for n, w, v in f if n == 6]
    check(strings and strings[0] == "", f"string_table[0] must be '': {strings[:3]}")
    S = lambda i: strings[i]  # noqa: E731
    prof = {"strings": strings, "sample_type": [], "samples": [], "locations": {},
            "functions": {}, "mappings": {}}
    for n, w, v in f:
        if n == 1:
            vt = dict((a, c) for a, _, c in pb_fields(v))
            prof["sample_type"].append((S(vt.get(1, 0)), S(vt.get(2, 0))))
        elif n == 2:
            locs, vals = [], []
            for a, _, c in pb_fields(v):
                if a == 1:
                    locs += pb_packed(c)
                elif a == 2:
                    vals += pb_packed(c)
            prof["samples"].append((locs, vals))
        elif n == 3:
            m = dict((a, c) for a, _, c in pb_fields(v))
            prof["mappings"][m[1]] = S(m.get(5, 0))
        elif n == 4:
            loc = {"lines": []}
            for a, _, c in pb_fields(v):
                if a == 4:
                    ln = dict((x, y) for x, _, y in pb_fields(c))
                    loc["lines"].append((ln.get(1, 0), ln.get(2, 0)))
                else:
                    loc[a] = c
            prof["locations"][loc[1]] = loc
        elif n == 5:
            fn = dict((a, c) for a, _, c in pb_fields(v))
            prof["functions"][fn[1]] = (S(fn.get(2, 0)), S(fn.get(4, 0)))
        elif n == 14:
            prof["default"] = S(v)
    return prof


def sample_stack(prof, locs):
    """Function names of a sample, innermost first (inlined lines first within a location)."""
    names = []
    for lid in locs:
        check(lid in prof["locations"], f"sample refers to unknown location {lid}")
        for fid, line in prof["locations"][lid]["lines"]:
            check(fid in prof["functions"], f"location refers to unknown function {fid}")
            names.append(prof["functions"][fid][0])
    return names


@case(300)
def case_export_pprof():
    dlog, (allocs, frees, leaked, leaked_blocks) = demo_log()
    summ = json_of("report", "--format", "json", dlog)
    out = os.path.join(it.TMP, "demo.pb.gz")
    p = memtrace("export", "--to", "pprof", "--cost", "leaked", "-o", out, dlog)
    check(p.returncode == 0 and p.stdout == "", f"export pprof\n{show(p)}")
    with open(out, "rb") as f:
        data = f.read()
    check(data[:2] == b"\x1f\x8b", "not gzip")
    prof = decode_profile(data)
    check(prof["sample_type"] == [("alloc_objects", "count"), ("alloc_space", "bytes"),
                                  ("inuse_objects", "count"), ("inuse_space", "bytes")],
          f"sample types {prof['sample_type']}")
    check(prof.get("default") == "inuse_space", f"default sample type {prof.get('default')}")
    sums = [sum(v[i] for _, v in prof["samples"]) for i in range(4)]
    # exactly what the sample printed about itself, and what the report says
    check(sums == [allocs, summ["bytes_allocated"], leaked_blocks, leaked],
          f"sample sums {sums}, want allocations={allocs} bytes={summ['bytes_allocated']} "
          f"leaked_blocks={leaked_blocks} leaked_bytes={leaked}")
    leaking = [s for s in prof["samples"] if s[1][3]]
    check(len(leaking) == 1, f"one leaking stack expected: {leaking}")
    names = sample_stack(prof, leaking[0][0])
    check(names[:2] == ["remember_error", "main"], f"leaking stack {names}")
    fn_files = {n: f for n, f in prof["functions"].values()}
    check(fn_files.get("remember_error", "").endswith("samples/demo.c"), f"files {fn_files}")
    check(any(m.endswith("/demo") for m in prof["mappings"].values()),
          f"mappings {prof['mappings']}")
    # default cost: inuse = at the peak, which is the peak the report gives
    p = memtrace("export", "--to", "pprof", "-o", out, dlog)
    with open(out, "rb") as f:
        prof = decode_profile(f.read())
    check(sum(v[3] for _, v in prof["samples"]) == summ["peak_heap_bytes"],
          "inuse_space at the peak")
    for cost, want in (("allocations", "alloc_objects"), ("allocated", "alloc_space")):
        p = memtrace("export", "--to", "pprof", "--cost", cost, "-o", out, dlog)
        with open(out, "rb") as f:
            got = decode_profile(f.read()).get("default")
        check(got == want, f"--cost {cost}: default sample type {got}, want {want}")
    # go tool pprof, when installed (never a CI requirement)
    go = shutil.which("go")
    if go:
        p = memtrace("export", "--to", "pprof", "--cost", "leaked", "-o", out, dlog)
        g = it.run([go, "tool", "pprof", "-top", "-sample_index=inuse_space", out], timeout=300)
        check(g.returncode == 0 and "remember_error" in g.stdout and
              "Total samples = 1.56kB" in g.stdout, f"go tool pprof\n{show(g)}")
        print("  go tool pprof read it: " + g.stdout.splitlines()[4].strip())
    else:
        print("  go not installed: checked with the decoder only")


def ms_print_of(log, out):
    """`memtrace export --to massif -o OUT LOG`, read by valgrind's ms_print: (ms_print, its
    output)."""
    ms = shutil.which("ms_print")
    if not ms:
        raise Skip("ms_print (valgrind) not installed")
    p = memtrace("export", "--to", "massif", "-o", out, log)
    check(p.returncode == 0, f"export massif\n{show(p)}")
    r = it.run([ms, out])
    check(r.returncode == 0, f"ms_print failed\n{show(r)}")
    return ms, r


@case(60)
def case_export_massif():
    log, peak = peak_run("peak.mtr")
    out = os.path.join(it.TMP, "massif.out")
    ms, r = ms_print_of(log, out)
    m = re.search(r"Detailed snapshots: \[([^\]]*)\]", r.stdout)
    check(m and "(peak)" in m.group(1), f"no peak snapshot\n{r.stdout[:3000]}")
    peak_num = re.search(r"(\d+) \(peak\)", m.group(1)).group(1)
    row = re.search(r"^\s+%s\s+[\d,]+\s+([\d,]+)\s+([\d,]+)\s" % peak_num, r.stdout, re.M)
    check(row and int(row.group(1).replace(",", "")) == peak and
          int(row.group(2).replace(",", "")) == peak,
          f"ms_print's peak row should show {peak}\n{r.stdout[:4000]}")
    check(re.search(r"^->100\.00% \(96,256B\) 0x[0-9A-F]+: hold_buffers \(.*peak\.c:\d+\)$",
                    r.stdout, re.M), f"peak tree should be hold_buffers\n{r.stdout[:4000]}")
    # a log with many sites: ms_print's threshold line and several snapshots still parse
    dlog, _ = demo_log()
    p = memtrace("export", "--to", "massif", dlog)
    with open(out, "w") as f:
        f.write(p.stdout)
    r = it.run([ms, "--threshold=50", out])
    check(r.returncode == 0 and "remember_error" in r.stdout, f"ms_print demo\n{show(r)}")


GROW_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static void *keep[200];
__attribute__((noinline)) static void *grow(size_t n) { return malloc(n); }
__attribute__((noinline)) static void *scratch(size_t n) { return malloc(n); }
int main(void)
{
    struct timespec ts = {0, 2000000};
    void *tmp = scratch(300000);
    for (int i = 0; i < 200; i++) {
        keep[i] = grow(1024);
        if (i == 100) { free(tmp); tmp = NULL; }
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < 200; i++) free(keep[i]);
    return 0;
}
"""


def ms_snapshots(text):
    """{number: (total bytes, {function: bytes at the tree's first level})} from ms_print."""
    snaps, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^\s+(\d+)\s+[\d,]+\s+([\d,]+)\s+[\d,]+\s+[\d,]+\s+[\d,]+$", line)
        if m:
            cur = int(m.group(1))
            snaps[cur] = (int(m.group(2).replace(",", "")), {})
            continue
        m = re.match(r"^->[\d.]+% \(([\d,]+)B\) 0x[0-9A-F]+: (\w+) ", line)
        if m and cur is not None:
            snaps[cur][1][m.group(2)] = int(m.group(1).replace(",", ""))
    return snaps


@case(60)
def case_export_massif_detailed():
    """Every 10th snapshot is detailed, as valgrind massif's default, plus the peak and the end,
    each with what the sites held then (issue 16): a site that grows shows its steps."""
    if not shutil.which("ms_print"):
        raise Skip("ms_print (valgrind) not installed")
    exe = it.build_c("grow", GROW_C, "-g", "-O0")
    log = os.path.join(it.TMP, "grow.mtr")
    record(log, exe)
    _, r = ms_print_of(log, os.path.join(it.TMP, "grow.massif"))
    m = re.search(r"Detailed snapshots: \[([^\]]*)\]", r.stdout)
    check(m, f"no detailed snapshots\n{r.stdout[:3000]}")
    listed = m.group(1).split(", ")
    peak = int(next(x for x in listed if x.endswith("(peak)")).split()[0])
    detailed = sorted(int(x.split()[0]) for x in listed)
    snaps = ms_snapshots(r.stdout)
    last = max(snaps)
    want = sorted({i for i in range(9, last, 10)} | {peak, last})
    check(last >= 40 and detailed == want,
          f"detailed snapshots {detailed}, want every 10th of {last + 1}, the peak and the end")
    # the peak: scratch's 300,000 B and grow's 101 blocks of 1 KiB, exactly
    check(snaps[peak] == (300000 + 101 * 1024, {"scratch": 300000, "grow": 101 * 1024}),
          f"peak snapshot {peak}: {snaps[peak]}")
    seen, prev = set(), 0
    for i in detailed:
        if i in (peak, last):
            continue
        total, sites = snaps[i]
        check(sum(sites.values()) == total, f"snapshot {i}: sites {sites}, total {total}")
        g = sites.get("grow", 0)
        check(g % 1024 == 0 and g >= prev and set(sites) <= {"grow", "scratch"} and
              sites.get("scratch", 300000) == 300000,
              f"snapshot {i}: {sites} (grow in 1 KiB steps, never less than {prev})")
        prev = g
        seen.add(tuple(sorted(sites)))
    # scratch is held before i == 100 and freed after: both states are drawn
    check(("grow", "scratch") in seen and ("grow",) in seen,
          f"the detailed snapshots never show scratch freed and held: {seen}")
    print(f"  detailed snapshots {detailed}; peak {snaps[peak]}")


# ---- CLI polish ----

COMMANDS = ["run", "report", "peak", "fragmentation", "timeline", "leaks", "diff", "export",
            "flamegraph", "html", "lines", "logstats", "attach"]


def parsed_options(cmd):
    """The options the source of a command parses: getopt_long tables and the strcmp'd
    literals of `run`'s own parser; the site reports share cli_common.c's table."""
    cli = os.path.join(it.ARGS.source_root, "cli")
    with open(os.path.join(cli, f"cmd_{cmd}.c")) as f:
        src = f.read()
    if "mt_cli_site_options(" in src:
        with open(os.path.join(cli, "cli_common.c")) as f:
            src += f.read()
    with open(os.path.join(cli, "cli_common.h")) as f:  # the entries of its option groups
        for name, body in re.findall(r"#define (MT_CLI_\w+_OPTIONS)((?:.*\\\n)*.*)", f.read()):
            if name in src:
                src += body
    opts = {"--" + m for m in re.findall(r'\{"([a-z][a-z-]*)", (?:no|required|optional)_argument',
                                          src)}
    opts |= {m.split("=")[0] for m in re.findall(r'(?:strcmp|mt_run_opt_is)\(a, "(-[^"]+)"\)',
                                                  src)}
    opts |= {"-" + c for c in re.findall(r'getopt_long\([^"]*"[:]?([a-zA-Z:]+)"', src)
             for c in c.replace(":", "")}
    if "MT_CLI_THREAD_OPTION" in src:  # cli_common.h's table entry for --thread
        opts.add("--thread")
    if "MT_CLI_FULL_NAMES_OPTION" in src:  # and for --full-names
        opts.add("--full-names")
    opts.discard("--")
    return opts


@case(60)
def case_cli_output_dash():
    """-o - is standard output for every command that writes a file, and never a file named
    '-' (issue 16: timeline, export and leaks created one)."""
    log, _ = demo_log()
    cwd = os.path.join(it.TMP, "cwd")
    os.mkdir(cwd)
    for args, start in ((["flamegraph", "-o", "-"], "<?xml"), (["html", "-o", "-"], "<!DOCTYPE"),
                        (["timeline", "-o", "-"], "<?xml"), (["leaks", "-o", "-"], "memtrace leaks"),
                        (["export", "--to", "folded", "-o", "-"], "")):
        p = it.run([it.ARGS.memtrace, *args, log], cwd=cwd)
        check(p.returncode in (0, 1) and p.stdout.strip() and p.stdout.startswith(start),
              f"{' '.join(args)}: stdout should hold the output\n{show(p)}")
        check(not os.path.exists(os.path.join(cwd, "-")), f"{' '.join(args)} created a file '-'")


@case(60)
def case_cli_help():
    for cmd in COMMANDS:
        opts = parsed_options(cmd)
        check(len(opts) >= 3, f"{cmd}: found only {opts} in its source")
        p = memtrace(cmd, "--help")
        check(p.returncode == 0 and p.stdout.startswith(f"usage: memtrace {cmd}") and
              p.stderr == "", f"{cmd} --help\n{show(p)}")
        missing = [o for o in sorted(opts)
                   if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), p.stdout)]
        check(not missing, f"{cmd} --help does not mention {missing}\n{p.stdout}")
        h = memtrace(cmd, "-h")
        check(h.returncode == 0 and h.stdout == p.stdout, f"{cmd} -h\n{show(h)}")
        h = memtrace("help", cmd)
        check(h.returncode == 0 and h.stdout == p.stdout, f"help {cmd}\n{show(h)}")
        print(f"  {cmd}: {len(opts)} options, all in --help")
    p = memtrace("--help")
    for cmd in COMMANDS:
        check(re.search(r"^  %s\s" % cmd, p.stdout, re.M), f"--help lists no {cmd}\n{p.stdout}")
    # the man page documents every command and option too
    with open(os.path.join(it.ARGS.source_root, "man", "memtrace.1")) as f:
        man = f.read().replace("\\-", "-")
    for cmd in COMMANDS:
        check(re.search(r"\b%s\b" % cmd, man), f"man page lacks {cmd}")
        for o in parsed_options(cmd):
            if o.startswith("--") and o not in ("--no-colour",):
                check(o in man, f"man page lacks {cmd} {o}")


@case(30)
def case_cli_usage_errors():
    log = os.path.join(it.TMP, "x.mtr")
    open(log, "wb").close()
    for cmd in COMMANDS:
        args = [cmd, "--no-such-option"] + ([] if cmd == "run" else [log])
        if cmd == "diff":
            args.append(log)
        p = memtrace(*args)
        check(p.returncode == 2, f"{cmd}: unknown option should exit 2\n{show(p)}")
        check(p.stderr.count("\n") == 1 and p.stderr.startswith(f"memtrace: {cmd}: ") and
              "--no-such-option" in p.stderr, f"{cmd}: one line naming the option\n{show(p)}")
        check(p.stdout == "", f"{cmd}: nothing on stdout\n{show(p)}")
    p = memtrace("--no-such-option")
    check(p.returncode == 2 and p.stderr.count("\n") == 1, f"global unknown option\n{show(p)}")
    # a value out of range says so in one line, never a silent exit 2 (issue 16)
    for opt, value, word in (("--width", "5", "at least 8"), ("--height", "1", "at least 2")):
        p = memtrace("timeline", opt, value, log)
        check(p.returncode == 2 and p.stderr.count("\n") == 1 and word in p.stderr and
              opt in p.stderr, f"timeline {opt} {value}\n{show(p)}")


DEEP_C = r"""
#include <stdio.h>
#include <stdlib.h>
void *volatile keep;
__attribute__((noinline)) static void *down(int n, size_t size)
{
    if (n == 0)
        return malloc(size);
    void *p = down(n - 1, size);
    __asm__ volatile("" ::: "memory");
    return p;
}
int main(int argc, char **argv)
{
    (void)argv;
    keep = down(20, argc > 1 ? 8192 : 4096); /* 21 frames of down, then main: leaked */
    printf("done\n");
    return 0;
}
"""

# A mistyped option of each command, and the one meant.
MISTYPED = {"run": ("--leak-chek", "--leak-check"), "report": ("--tpo", "--top"),
            "peak": ("--frmaes", "--frames"), "fragmentation": ("--reqest", "--request"),
            "timeline": ("--widht", "--width"), "leaks": ("--kidns", "--kinds"),
            "diff": ("--fail-abvoe", "--fail-above"), "export": ("--cots", "--cost"),
            "flamegraph": ("--min-precent", "--min-percent"), "html": ("--tittle", "--title"),
            "lines": ("--functoin", "--function"), "logstats": ("--fromat", "--format"),
            "attach": ("--duraton", "--duration")}


@case(90)
def case_cli_vocabulary():
    """Issue 16, 'one option parser and one vocabulary for all': every usage error is one line
    'memtrace: CMD: ... (try 'memtrace CMD --help')', a mistyped command or option gets a
    did-you-mean, --top 0 means no limit and --frames has one default (12) in every command,
    and --cost allocations is the number of calls wherever it exists."""
    log = os.path.join(it.TMP, "empty.mtr")
    open(log, "wb").close()
    check(set(MISTYPED) == set(COMMANDS), "MISTYPED should name every command")
    for cmd, (bad, good) in MISTYPED.items():
        p = memtrace(cmd, bad, "true") if cmd == "run" else memtrace(cmd, bad, log)
        want = (f"memtrace: {cmd}: unknown option '{bad}'; did you mean '{good}'? "
                f"(try 'memtrace {cmd} --help')\n")
        check(p.returncode == 2 and p.stderr == want, f"{cmd} {bad}: want {want!r}\n{show(p)}")
    # a mistyped or cut-short value names the one meant, with the list of them
    for args, want in ((["report", "--format", "jsno"], "unknown --format 'jsno'; did you mean "
                        "'json'? (text, json)"),
                       (["diff", "--by", "leak", log], "unknown --by 'leak'; did you mean "
                        "'leaked'? (peak, leaked)"),
                       (["export", "--to", "pprf"], "unknown --to 'pprf'; did you mean 'pprof'? "
                        "(folded, pprof, massif)"),
                       (["leaks", "--format", "sarf"], "unknown --format 'sarf'; did you mean "
                        "'sarif'? (text, json, sarif, junit)"),
                       (["logstats", "--format", "xml"], "unknown --format 'xml' (text, json)")):
        cmd = args[0]
        p = memtrace(*args, log)
        line = f"memtrace: {cmd}: {want} (try 'memtrace {cmd} --help')\n"
        check(p.returncode == 2 and p.stderr == line, f"{' '.join(args)}: want {line!r}\n{show(p)}")
    p = memtrace("reprot", log)
    check(p.returncode == 2 and p.stderr == "memtrace: unknown command 'reprot'; did you mean "
          "'report'? (try 'memtrace --help')\n", f"reprot\n{show(p)}")
    # a value given to an option that takes none names the option, whichever command
    for args, opt in ((["report", "--show-import-machinery=1"], "--show-import-machinery"),
                      (["flamegraph", "--full-names=yes"], "--full-names"),
                      (["leaks", "--full-n=1"], "--full-names")):
        p = memtrace(*args, log)
        line = (f"memtrace: {args[0]}: option '{opt}' takes no value "
                f"(try 'memtrace {args[0]} --help')\n")
        check(p.returncode == 2 and p.stderr == line, f"{' '.join(args)}: want {line!r}\n{show(p)}")
    p = memtrace("report", "--f", log)
    check(p.returncode == 2 and "option '--f' is ambiguous: --format, --frames" in p.stderr,
          f"report --f\n{show(p)}")
    for args in (["report", "--top", "x", log], ["peak"], ["fragmentation", "--request", "x", log],
                 ["diff", log], ["timeline", "--width", "5", log], ["export", log],
                 ["export", "--to", "folded", "--cost", "bytes", log], ["flamegraph", log],
                 ["html", log],
                 ["leaks", "--kinds", "bogus", log], ["leaks", "--format", "xml", log],
                 ["leaks", "--frames", "-1", log], ["lines", "--format", "xml", log],
                 ["logstats", "--format", "xml", log], ["run", "--sample-interval", "0", "true"],
                 ["run"], ["diff", "--top", "x", log, log], ["html", "--top", "x", "-o", "-", log],
                 ["run", "-o", "-", "true"]):
        p = memtrace(*args)
        cmd = args[0]
        check(p.returncode == 2 and p.stderr.count("\n") == 1 and
              p.stderr.startswith(f"memtrace: {cmd}: ") and
              p.stderr.endswith(f" (try 'memtrace {cmd} --help')\n"),
              f"{' '.join(args)}: one line in the house style\n{show(p)}")

    # --top 0: no limit, in every command that has --top
    dlog, _ = demo_log()
    for cmd, key in (("report", "top_sites"), ("peak", "sites")):
        every = json_of(cmd, "--format", "json", "--top", "1000000", dlog)[key]
        got = json_of(cmd, "--format", "json", "--top", "0", dlog)[key]
        check(every and len(got) == len(every), f"{cmd} --top 0: {len(got)} of {len(every)}")
    every = json_of("fragmentation", "--format", "json", "--top", "1000000", dlog)["churn_sites"]
    got = json_of("fragmentation", "--format", "json", "--top", "0", dlog)["churn_sites"]
    check(every and len(got) == len(every), f"fragmentation --top 0: {len(got)} of {len(every)}")
    p = memtrace("html", "--top", "0", "-o", "-", dlog)
    check(p.returncode == 0 and "tables show every row;" in p.stdout, f"html --top 0\n{show(p)}")

    # one default frame count: a 22-frame stack shows 12 frames and how many are left out
    exe = it.build_c("deep", DEEP_C, "-O0", "-g", "-fno-omit-frame-pointer")
    old, new = os.path.join(it.TMP, "deep-old.mtr"), os.path.join(it.TMP, "deep-new.mtr")
    for log_, extra in ((old, []), (new, ["big"])):
        p = memtrace("run", "-q", "--leak-check", "-o", log_, "--", exe, *extra)
        check(p.returncode == 0 and os.path.isfile(log_), f"memtrace run deep\n{show(p)}")
    for args in (["report", "--top", "1", old], ["peak", "--top", "1", old], ["leaks", "--kinds", "all", old],
                 ["diff", "--top", "1", old, new]):
        p = memtrace(*args)
        lines = p.stdout.splitlines()
        first = next((i for i, l in enumerate(lines) if re.match(r"^\s+down\s", l)), None)
        check(first is not None, f"{args[0]}: no stack of down()\n{show(p)}")
        n = 0
        while first + n < len(lines) and re.match(r"^\s+(down|main)\s", lines[first + n]):
            n += 1
        more = lines[first + n] if first + n < len(lines) else ""
        check(n == 12 and re.match(r"^\s+\.\.\. \d+ more frames?$", more),
              f"{args[0]}: {n} frames shown, then {more!r}; the default is 12\n{p.stdout}")
    for cmd in ("report", "peak", "fragmentation", "leaks", "diff"):
        h = memtrace(cmd, "--help").stdout
        check(re.search(r"--frames N .*\(default 12\)", h), f"{cmd} --help: frames default")

    # --cost allocations: calls in export and in flamegraph, bytes are --cost allocated
    summ = json_of("report", "--format", "json", dlog)
    p = memtrace("export", "--to", "folded", "--cost", "allocations", dlog)
    total = sum(int(FOLDED_LINE.match(x).group(2)) for x in p.stdout.splitlines())
    check(total == summ["allocations"], f"export --cost allocations: {total} calls, "
          f"the report says {summ['allocations']}")
    p = memtrace("flamegraph", "--cost", "allocations", "-o", "-", dlog)
    check(p.returncode == 0 and re.search(r"\b%s allocations\b" %
                                          format(summ["allocations"], ","), p.stdout),
          f"flamegraph --cost allocations: no total of {summ['allocations']} calls")
    p = memtrace("flamegraph", "--cost", "allocated", "-o", "-", dlog)
    m = re.search(r'data-cost="allocated" data-unit="bytes" data-total="(\d+)"', p.stdout)
    check(p.returncode == 0 and m and int(m.group(1)) == summ["bytes_allocated"],
          f"flamegraph --cost allocated: total {m and m.group(1)}, the report says "
          f"{summ['bytes_allocated']} bytes allocated\n{show(p) if not m else ''}")


def options_of_table(rows):
    """{command: options} from (options cell, commands cell) pairs of the option table."""
    got = {cmd: set() for cmd in COMMANDS}
    for opts, cmds in rows:
        names = {m.split("=")[0] for m in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*(?:=\w+)?)", opts)}
        for cmd in (COMMANDS if cmds.strip() == "all" else cmds.split()):
            check(cmd in got, f"option table: unknown command {cmd!r} in {cmds!r}")
            got[cmd] |= names
    return got


@case(30)
def case_cli_options_table():
    """Issue 16: one table in the README and the man page with every option of every command
    (the same name meaning the same thing everywhere), checked against the options each
    command's source parses, both ways."""
    with open(os.path.join(it.ARGS.source_root, "README.md")) as f:
        readme = f.read()
    sec = readme.split("### Every option of every command", 1)
    check(len(sec) == 2, "README has no 'Every option of every command' section")
    rows = [line.split(" | ") for line in sec[1].split("\n\n### ", 1)[0].splitlines()
            if line.startswith("| `")]
    from_readme = options_of_table((r[0].replace("\\|", "|"), r[-1].rstrip(" |")) for r in rows)
    with open(os.path.join(it.ARGS.source_root, "man", "memtrace.1")) as f:
        man = f.read()
    sec = man.split(".SS Every option of every command", 1)
    check(len(sec) == 2, "man page has no 'Every option of every command' section")
    tbl = sec[1].split(".TE", 1)[0].replace("\\-", "-")
    cells = re.findall(r"T\{\n(.*?)\nT\}", tbl, re.S)
    check(len(cells) % 3 == 0 and cells, f"man table: {len(cells)} cells")
    from_man = options_of_table((cells[i], cells[i + 2]) for i in range(0, len(cells), 3))
    for cmd in COMMANDS:
        want = parsed_options(cmd)
        for name, got in (("README", from_readme[cmd]), ("man page", from_man[cmd])):
            check(got == want, f"{name} table, {cmd}: lacks {sorted(want - got)}, "
                  f"has {sorted(got - want)} that it does not parse")
    check(len(rows) == len(cells) // 3, f"README has {len(rows)} rows, the man page "
          f"{len(cells) // 3}")


@case(30)
def case_man_sections():
    """Issue 16: the man page has every command in SYNOPSIS (with its options: flamegraph and
    html only said [options]), an OPTIONS subsection per command and its EXIT STATUS."""
    with open(os.path.join(it.ARGS.source_root, "man", "memtrace.1")) as f:
        man = f.read().replace("\\-", "-")
    sections = dict(re.findall(r"^\.SH ([A-Z ]+)\n(.*?)(?=^\.SH |\Z)", man, re.M | re.S))
    synopsis = re.findall(r"^\.SY memtrace\n(.*?)^\.YS", sections["SYNOPSIS"], re.M | re.S)
    for cmd in COMMANDS:
        blocks = [b for b in synopsis if re.match(r"\.BR? %s\b|\.BR [\w| \"]*\b%s\b" % (cmd, cmd), b)]
        check(blocks, f"SYNOPSIS has no {cmd}")
        if cmd != "run":  # run: [options], each in its own OPTIONS subsection
            words = set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", blocks[0]))
            want = {o for o in parsed_options(cmd) if o not in ("-h", "--help", "--no-colour")}
            missing = {o for o in want - words if not (o == "--output" and "-o" in words)}
            check(not missing, f"SYNOPSIS of {cmd} lacks {sorted(missing)}")
        check(re.search(r"^\.SS Options of memtrace [^\n]*\b%s\b" % cmd, sections["OPTIONS"],
                        re.M), f"OPTIONS has no subsection for {cmd}")
        check(re.search(r"^\.B[R]? [^\n]*\b%s\b" % cmd, sections["EXIT STATUS"], re.M),
              f"EXIT STATUS does not name {cmd}")


def run_on_tty(argv, env):
    """Runs argv with stdout and stderr on a pseudo-terminal; returns (status, output)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env,
                         cwd=it.TMP)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return p.wait(timeout=120), out.decode(errors="replace")


@case(90)
def case_cli_no_color():
    log, _ = peak_run("peak.mtr")
    dlog, _ = demo_log()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    cases = [["report", log], ["peak", log], ["fragmentation", log], ["timeline", log],
             ["leaks", dlog], ["diff", log, dlog]]
    for args in cases:
        rc, out = run_on_tty([it.ARGS.memtrace, *args], env)
        check(rc == 0 and "\x1b[" in out, f"{args[0]} on a tty should be coloured:\n{out[:500]}")
        rc, out = run_on_tty([it.ARGS.memtrace, *args], dict(env, NO_COLOR="1"))
        check(rc == 0 and "\x1b" not in out, f"{args[0]} with NO_COLOR has escapes:\n{out[:500]}")
        rc, out = run_on_tty([it.ARGS.memtrace, args[0], "--no-color", *args[1:]], env)
        check(rc == 0 and "\x1b" not in out, f"{args[0]} --no-color has escapes:\n{out[:500]}")
        p = memtrace(*args, env=env)  # a pipe
        check("\x1b" not in p.stdout + p.stderr, f"{args[0]} on a pipe has escapes")
    # NO_COLOR set but empty does not count (no-color.org)
    rc, out = run_on_tty([it.ARGS.memtrace, "report", log], dict(env, NO_COLOR=""))
    check("\x1b[" in out, "an empty NO_COLOR should not turn colour off")


@case(30)
def case_cli_completion():
    script = os.path.join(it.ARGS.source_root, "completion", "memtrace.bash")
    bash = shutil.which("bash")
    if not bash:
        raise Skip("no bash")
    for name in ("a.mtr", "b.mtr.2", "notes.txt"):
        open(os.path.join(it.TMP, name), "w").close()

    def complete(*words):
        words = list(words)
        prog = ('source "$0" || exit 9; COMP_WORDS=(%s); COMP_CWORD=%d; _memtrace; '
                'printf "%%s\\n" "${COMPREPLY[@]}"' %
                (" ".join("'%s'" % w for w in words), len(words) - 1))
        p = it.run([bash, "--norc", "--noprofile", "-c", prog, script])
        check(p.returncode == 0 and p.stderr == "", f"completion of {words}\n{show(p)}")
        return sorted(x for x in p.stdout.splitlines() if x)

    check(complete("memtrace", "ex") == ["export"], f"ex -> {complete('memtrace', 'ex')}")
    check(complete("memtrace", "d") == ["diff"], "d -> diff")
    check(complete("memtrace", "export", "--to", "") == ["folded", "massif", "pprof"], "--to")
    # --from/--to elsewhere take a time: the words among them (export's --to stays the format)
    check(complete("memtrace", "report", "--from", "") == ["end", "peak", "start"], "--from")
    check(complete("memtrace", "flamegraph", "--to", "p") == ["peak"], "flamegraph --to p")
    check(complete("memtrace", "diff", "--by", "") == ["leaked", "peak"], "--by")
    check(complete("memtrace", "report", "") == ["a.mtr", "b.mtr.2"],
          f"logs: {complete('memtrace', 'report', '')}")
    got = complete("memtrace", "diff", "--f")
    check(got == ["--fail-above", "--format", "--frames", "--from", "--full-names"],
          f"diff --f -> {got}")
    got = complete("memtrace", "leaks", "--format", "")
    check(got == ["json", "junit", "sarif", "text"], f"leaks --format -> {got}")
    # a list of kinds keeps what was typed before the last comma (issue 16: it lost definite,),
    # also after '=', which bash splits into its own word
    for words in (["leaks", "--kinds", "definite,in"], ["leaks", "--kinds", "=", "definite,in"],
                  ["run", "--fail-on", "definite,in"]):
        got = complete("memtrace", *words)
        check(got == ["definite,indirect"], f"{' '.join(words)} -> {got}")
    check(complete("memtrace", "export", "--cost", "al") == ["allocated", "allocations"],
          "export --cost al")
    # run: after its options (and their values, also as --opt=value) comes the program, then
    # the program's own arguments (issue 16: no program after an option with a value)
    for words in (["--leak-check"], ["--fail-peak-above", "1M"], ["--fail-leaked-above", "64K"],
                  ["--fail-on", "=", "all"], ["--python", "=", "off"], ["-q", "--"],
                  ["--kinds", "all", "--error-exitcode", "3"]):
        got = complete("memtrace", "run", *words, "tru")
        check("true" in got and all(g.startswith("tru") for g in got),
              f"run {' '.join(words)} tru -> {got}")
        got = complete("memtrace", "run", *words, "true", "a.m")
        check(got == ["a.mtr"], f"run {' '.join(words)} true a.m -> {got}")
    check(complete("memtrace", "run", "--python", "=", "") == ["off", "on"], "--python=")
    check(complete("memtrace", "run", "true", "--le") == [], "run true --le: PROG's own option")
    # every option a command parses is offered
    for cmd in COMMANDS:
        offered = {o.split("=")[0] for o in complete("memtrace", cmd, "-")}
        missing = parsed_options(cmd) - offered - {"--no-colour"}
        check(not missing, f"completion of {cmd} lacks {sorted(missing)}")
    # and meson installs it where bash-completion looks
    with open(os.path.join(it.ARGS.source_root, "meson.build")) as f:
        check("bash-completion" in f.read(), "meson.build does not install the completion")


@case(60)
def case_logstats():
    """memtrace logstats: every byte of the log counted once; its allocation records are the
    report's allocations, its free records at most the frees (a FREE_RUN counts once), when the
    log has no REPEAT (which counts once too, whatever records it stands for)."""
    log, (allocs, frees, _, _) = demo_log("demo-plain.mtr",
                                          env=dict(os.environ, MEMTRACE_LOG_REPEAT="0"))
    p = memtrace("logstats", "--format", "json", log)
    check(p.returncode == 0, f"logstats\n{show(p)}")
    st = json.loads(p.stdout)
    check(st.get("format") == "memtrace-logstats" and st.get("file_bytes") == os.path.getsize(log),
          f"header: {p.stdout[:300]}")
    streams = st.get("streams") or {}
    check(sum(s["compressed_bytes"] for s in streams.values()) == st["compressed_bytes"],
          f"streams' compressed bytes do not add up: {streams}")
    recs = st.get("records") or {}
    check(sum(r["raw_bytes"] for r in recs.values()) + streams["time"]["raw_bytes"]
          == sum(s["raw_bytes"] for s in streams.values()),
          f"records' bytes do not add up: {recs}")
    got = sum(r["count"] for k, r in recs.items() if k.startswith("alloc"))
    check(got == allocs, f"{got} allocation records, the sample made {allocs}")
    fr = sum(r["count"] for k, r in recs.items() if k.startswith("free"))
    check(0 < fr <= frees, f"{fr} free records for {frees} frees")
    t = memtrace("logstats", log)
    check(t.returncode == 0 and "alloc" in t.stdout and "stream" in t.stdout,
          f"text\n{show(t)}")
    bad = memtrace("logstats", os.path.join(it.TMP, "none.mtr"))
    check(bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1,
          f"a missing log: one line, exit 1\n{show(bad)}")


@case(30)
def case_cli_version():
    with open(os.path.join(it.ARGS.source_root, "meson.build")) as f:
        version = re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)
    for flag in ("--version", "-V"):
        p = memtrace(flag)
        check(p.returncode == 0 and p.stdout == f"memtrace {version}\n", f"{flag}\n{show(p)}")


@case(90)
def case_cli_progress():
    # a log big enough for the analysis to report progress (every 65,536 records)
    exe = it.build_c("churn", "#include <stdlib.h>\nint main(void){for(int i=0;i<200000;i++)"
                     "{void*volatile p=malloc(16+i%64);free(p);}return 0;}\n", "-O0")
    log = os.path.join(it.TMP, "churn.mtr")
    record(log, exe)
    env = dict(os.environ, MEMTRACE_PROGRESS_DELAY_MS="0", TERM="xterm", NO_COLOR="1")
    rc, out = run_on_tty([it.ARGS.memtrace, "report", log], env)
    check(rc == 0 and re.search(r"\rmemtrace: reading \S+churn\.mtr: \d+%", out) and
          "\r\x1b[K" in out, f"no progress on a tty:\n{out[:400]!r}")
    check(out.index("\r\x1b[K") < out.index("memtrace report"),
          "the progress line is erased before the report")
    p = memtrace("report", log, env=env)  # stderr is a pipe: never any progress
    check(p.returncode == 0 and p.stderr == "", f"progress on a pipe\n{show(p)}")

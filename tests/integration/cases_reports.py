# SPDX-License-Identifier: MIT
# peak, temporaries, fragmentation and timeline on samples that print their own ground truth.
import os
import re

import mt_harness as it
from mt_harness import Fail, check, show, memtrace, record, json_of, report_json, sample_exe

case = it.suite("integration")


# ---- peak, temporaries, fragmentation: samples that print their own ground truth ----

def recorded_truth(name, line, log_name=None):
    """Records samples/NAME; returns (log, the groups of the ground-truth LINE it printed)."""
    log = os.path.join(it.TMP, (log_name or name) + ".mtr")
    p = record(log, sample_exe(name))
    m = re.search(line, p.stdout, re.M)
    check(m, f"{name} prints no {line[1:line.index(':')]} line\n{show(p)}")
    return log, m.groups()


@case(60)
def case_peak():
    log, (want, site, churn) = recorded_truth(
        "peak", r"^memtrace-peak: peak_bytes=(\d+) site=(\w+) churn_bytes=(\d+)$")
    want, churn = int(want), int(churn)
    rep = json_of("peak", "--format", "json", log)
    check(rep.get("peak_heap_bytes") == want,
          f"peak_heap_bytes {rep.get('peak_heap_bytes')}, the sample says {want}")
    sites = rep.get("sites") or []
    check(sites, f"peak report lists no sites: {rep}")
    top = sites[0]
    check(top.get("bytes") == want and top.get("blocks") == 64,
          f"the top site should hold all {want} bytes in 64 blocks: {top}")
    fn = (top.get("stack") or [{}])[0].get("function")
    check(fn == site, f"the top site's innermost function should be {site}, got {fn}")
    check(len(sites) == 1, f"only {site} holds memory at the peak, got {len(sites)} sites")
    # churn allocates the most in total (two call sites in main, so two sites): first in
    # `report`, absent from `peak`.
    summ = json_of("report", "--format", "json", "--top", "1000000", log)
    tops = summ.get("top_sites") or [{}]
    inner = [((s.get("stack") or [{}])[0].get("function"), s) for s in tops]
    check(inner[0][0] == "churn", f"report's top site by bytes should be churn: {tops[0]}")
    in_churn = sum(s.get("bytes", 0) for f, s in inner if f == "churn")
    check(in_churn == churn, f"churn sites allocate {in_churn} bytes, the sample says {churn}")
    # --fail-peak-above: a limit of exactly the peak passes, one byte less fails, naming the
    # function that held it all (report after the fact, run at the end of the program)
    check(memtrace("report", "--fail-peak-above", str(want), log).returncode == 0,
          f"report --fail-peak-above {want} (the peak itself)")
    r = memtrace("report", "--fail-peak-above", str(want - 1), log)
    line = (r.stderr.splitlines() or [""])[-1]
    check(r.returncode == 1 and re.fullmatch(
        rf"memtrace: report: peak heap .* is above --fail-peak-above {want - 1}; the most held "
        rf"then, {want:,} bytes, allocated at peak\.c:\d+ in {site}", line),
        f"report --fail-peak-above {want - 1}\n{show(r)}")
    for opts, status in ((["--fail-peak-above", str(want - 1)], 1),
                         (["--error-exitcode", "5", "--fail-peak-above", "64K"], 5),
                         (["--fail-peak-above", "1MiB"], 0)):
        q = memtrace("run", "-q", *opts, "-o", os.path.join(it.TMP, f"p{status}.mtr"), "--",
                     sample_exe("peak"))
        last = (q.stderr.splitlines() or [""])[-1]
        check(q.returncode == status and (status == 0 and q.stderr == "" or re.fullmatch(
            rf"memtrace: peak check: exit status {status}( \(--error-exitcode\))?: peak heap .* "
            rf"is above --fail-peak-above \S+; the most held then, {want:,} bytes, allocated at "
            rf"peak\.c:\d+ in {site}; \S+ itself exited 0", last)),
            f"run {' '.join(opts)}: expected exit {status}\n{show(q)}")
    check(all(s.get("peak_bytes") == 0 for f, s in inner if f == "churn"),
          "churn holds nothing at the peak")


@case(60)
def case_churny():
    log, (temp, allocs, site) = recorded_truth(
        "churny", r"^memtrace-churny: temporary=(\d+) allocations=(\d+) site=(\w+)$")
    temp, allocs = int(temp), int(allocs)
    rep = report_json(log)
    check(rep.get("allocations") == allocs,
          f"allocations {rep.get('allocations')}, the sample says {allocs}")
    check(rep.get("temporary_allocations") == temp,
          f"temporary_allocations {rep.get('temporary_allocations')}, the sample says {temp}")
    sites = rep.get("top_temporary_sites") or []
    check(len(sites) == 1, f"only {site} makes temporaries: {sites}")
    fn = (sites[0].get("stack") or [{}])[0].get("function")
    check(fn == site and sites[0].get("temporary") == temp,
          f"top temporary site should be {site} with {temp}: {fn}, {sites[0].get('temporary')}")
    sizes = {(b["min"], b["max"]): b["count"] for b in rep.get("sizes") or []}
    want = {(32, 63): 1000, (16, 31): 500, (128, 255): 500}
    check(sizes == want, f"size histogram {sizes}, expected {want}")
    life = rep.get("lifetimes") or {}
    check(sum(life.values()) == allocs and life.get("never_freed") == 0,
          f"every block is freed once: {life}")


@case(60)
def case_fragment():
    log, (want,) = recorded_truth("fragment", r"^memtrace-frag: free_held=(\d+)$")
    want = int(want)
    rep = json_of("fragmentation", "--format", "json", log)
    got = (rep.get("at_exit") or {}).get("free_held_bytes")
    check(isinstance(got, int) and abs(got - want) <= want / 10,
          f"at_exit free_held_bytes {got}, the program's mallinfo2 says {want} (10% allowed)")
    holes = rep.get("holes") or []
    check(sum(h.get("count", 0) for h in holes) >= 1900,
          f"about 2000 holes of ~1 KiB between live blocks expected: {holes}")
    # The 2000 freed 1000-byte blocks are the holes: a request of their size fits in each of
    # them, one byte more needs a bigger chunk than any of them.
    for request, fits in ((1000, 2000), (1001, 0)):
        r = json_of("fragmentation", "--format", "json", "--request", str(request), log)
        got = (r.get("request") or {}).get("fitting_holes")
        check(got == fits, f"a {request}-byte request fits in {got} holes, expected {fits}")
    series = rep.get("over_time") or []
    check(series and series[-1].get("free_held_bytes") == got_exit_free(rep),
          f"over_time should end with the exit sample: {series[-1:]}")
    check(all(a["time_s"] <= b["time_s"] for a, b in zip(series, series[1:])),
          "over_time is in time order")


@case(60)
def case_fragment_peak():
    """A heap peak that comes and goes between two timer samples: with one tick a second,
    only the recorder's own sample at the new high can give the allocator's view at it."""
    log = os.path.join(it.TMP, "burst.mtr")
    p = memtrace("run", "-o", log, "--sample-interval", "1000", "--", sample_exe("burst"))
    check(p.returncode == 0 and os.path.isfile(log), f"memtrace run burst\n{show(p)}")
    m = re.search(r"^memtrace-burst: peak_free_held=(\d+) peak_footprint=(\d+) "
                  r"peak_bytes=(\d+)$", p.stdout, re.M)
    check(m, f"burst prints no memtrace-burst line\n{show(p)}")
    free_held, footprint, peak = (int(x) for x in m.groups())
    rep = json_of("fragmentation", "--format", "json", log)
    at = rep.get("at_peak") or {}
    check(at.get("live_bytes") == peak, f"at_peak live_bytes {at.get('live_bytes')}, the "
          f"program held {peak}")
    for key, want in (("free_held_bytes", free_held), ("footprint_bytes", footprint)):
        got = at.get(key)
        check(isinstance(got, int) and abs(got - want) <= want / 10,
              f"at_peak {key} {got}, the program's mallinfo2 at its peak says {want} "
              f"(10% allowed): {at}")
    # Taken at the first free after the peak, before the exit sample (which sees 0 bytes live).
    t, st = at.get("time_s"), at.get("sample_time_s")
    exit_t = (rep.get("at_exit") or {}).get("sample_time_s")
    check(st is not None and exit_t is not None and t <= st < exit_t,
          f"the at-peak sample should follow the peak ({t} s) and precede exit ({exit_t} s): "
          f"{st}")
    text = memtrace("fragmentation", log)
    check(text.returncode == 0 and "not sampled" not in text.stdout,
          f"the text report says the peak was not sampled\n{show(text)}")


def got_exit_free(rep):
    return (rep.get("at_exit") or {}).get("free_held_bytes")


@case(60)
def case_pinning():
    log, (want, site) = recorded_truth("pinning", r"^memtrace-pin: free_held=(\d+) site=(\w+)$")
    want = int(want)
    # 3000 freed rows of 700 B sit below the pin unless something else took a hole first: the
    # recorder's own start-up (a failed dlsym allocates) must not change where blocks land.
    check(want >= 3000 * 700, f"under memtrace the program's heap holds only {want} B free: "
          "the recorder changed where its blocks landed")
    rep = json_of("fragmentation", "--format", "json", log)
    pins = rep.get("pinning_sites") or []
    check(len(pins) == 1, f"exactly one site pins the heap ({site}): {pins}")
    fn = (pins[0].get("stack") or [{}])[0].get("function")
    check(fn == site, f"the pinning site should be {site}, got {fn}")
    check(pins[0].get("live_bytes") == 64 and pins[0].get("blocks") == 1,
          f"{site} holds one 64-byte block: {pins[0]}")
    got = pins[0].get("pinned_free_bytes")
    check(isinstance(got, int) and abs(got - want) <= want / 10,
          f"pinned_free_bytes {got}, the program's mallinfo2 says {want} free (10% allowed)")
    check(got_exit_free(rep) is not None,
          "a run shorter than one sampling tick still has the allocator's view at exit")


@case(60)
def case_timeline():
    log, (want,) = recorded_truth("peak", r"^memtrace-peak: peak_bytes=(\d+)", "timeline")
    want = int(want)
    svg = os.path.join(it.TMP, "timeline.svg")
    t = memtrace("timeline", "-o", svg, log)
    check(t.returncode == 0, f"timeline -o failed\n{show(t)}")
    import xml.etree.ElementTree as ET
    try:
        root = ET.parse(svg).getroot()
    except ET.ParseError as e:
        raise Fail(f"timeline SVG is not well-formed XML: {e}")
    ns = "{http://www.w3.org/2000/svg}"
    titles = [e.text or "" for e in root.iter(ns + "title")]
    check(any(f"({want:,} B)" in x for x in titles),
          f"the peak marker should say {want:,} B: {titles}")
    lines = [e.get("points", "") for e in root.iter(ns + "polyline")]
    check(len(lines) == 3, f"heap, RSS and footprint lines expected, got {len(lines)}")
    heap = [tuple(map(float, pt.split(","))) for pt in lines[0].split()]
    bottom = max(y for _, y in heap)
    check(heap[-1][1] == bottom, f"every block is freed: the heap line must end at 0: {heap[-3:]}")
    txt = memtrace("timeline", log)
    check(txt.returncode == 0 and "heap in use" in txt.stdout and "peak" in txt.stdout,
          f"text timeline\n{show(txt)}")
    bad = memtrace("timeline", "-o", os.path.join(it.TMP, "no-such-dir", "x.svg"), log)
    check(bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1,
          f"an unwritable -o gives one line and exit 1\n{show(bad)}")

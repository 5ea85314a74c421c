# SPDX-License-Identifier: MIT
# Integration tests of the pictures: `memtrace flamegraph` and `memtrace html` on samples whose
# figures the programs print themselves, and the same files opened in headless Chromium (the
# page's own script must run without errors and show those figures). Reuses the helpers of
# mt_harness.py; one case per meson test, exit 0 pass, 77 skip (no Chromium), else fail.
import html as html_lib
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import mt_harness as it
from mt_harness import Fail, Skip, check, show

case = it.suite("integration", "viz")

SVG_NS = "{http://www.w3.org/2000/svg}"
# The page must be usable for any log: tables and graphs are summarized, so it stays small.
HTML_MAX_BYTES = 8 * 1024 * 1024


def mt(*args, **kw):
    return it.memtrace(*args, **kw)


def recorded(sample):
    """Records a sample; returns (log, the sample's stdout)."""
    exe = it.sample_exe(sample)
    log = os.path.join(it.TMP, f"{sample}.mtr")
    p = it.record(log, exe)
    return log, p.stdout


def flamegraph(log, *extra, name="out.svg"):
    out = os.path.join(it.TMP, name)
    p = mt("flamegraph", *extra, "-o", out, log)
    check(p.returncode == 0, f"memtrace flamegraph {' '.join(extra)} failed\n{show(p)}")
    try:
        root = ET.parse(out).getroot()
    except ET.ParseError as e:
        raise Fail(f"{out} is not well-formed XML: {e}")
    return out, root


def frames(root):
    """[(name, value, depth, element)] of the graph's frames, in document order."""
    res = []
    for g in root.iter(SVG_NS + "g"):
        if not (g.get("class") or "").startswith("f "):
            continue
        title = g.find(SVG_NS + "title")
        check(title is not None and title.text, f"frame without a tooltip: {g.attrib}")
        res.append((title.text.split("\n")[0], int(g.get("data-v")), int(g.get("data-d")), g))
    check(res, "the flame graph has no frames")
    return res


def by_name(fr, name):
    return [f for f in fr if f[0] == name]


@case(60)
def case_flamegraph_peak():
    log, out = recorded("peak")
    m = re.search(r"peak_bytes=(\d+) site=(\w+) churn_bytes=(\d+)", out)
    check(m, f"peak prints no memtrace-peak line:\n{out}")
    peak, site = int(m.group(1)), m.group(2)
    rep = it.report_json(log)
    check(rep["peak_heap_bytes"] == peak, f"report: {rep['peak_heap_bytes']}, sample: {peak}")
    _, root = flamegraph(log)  # the default cost is peak
    check(root.get("data-cost") == "peak", f"default cost {root.get('data-cost')}")
    fr = frames(root)
    check(fr[0][0] == "all" and fr[0][1] == peak and int(root.get("data-total")) == peak,
          f"root {fr[0][:3]}, total {root.get('data-total')}, the sample's peak is {peak}")
    hold = by_name(fr, site)
    check(len(hold) == 1 and hold[0][1] == peak, f"{site}: {[h[:3] for h in hold]}, want {peak}")
    tip = hold[0][3].find(SVG_NS + "title").text
    check(f"({peak:,} B) in 64 blocks held at the peak (100.00%)" in tip, f"tooltip: {tip!r}")
    check(re.search(r"peak\.c:\d+", tip), f"the tooltip names no file:line: {tip!r}")
    check(not by_name(fr, "churn"), "churn holds nothing at the peak but is drawn")
    main = by_name(fr, "main")
    check(main and hold[0][2] == main[0][2] + 1, "hold_buffers is not drawn on main")
    # allocations: churn is one frame (both call lines of main merge) with 2 x 2000 calls
    _, root = flamegraph(log, "--cost", "allocations", name="alloc.svg")
    fr = frames(root)
    check(fr[0][1] == rep["allocations"], f"root {fr[0][1]} calls, report {rep['allocations']}")
    churn = by_name(fr, "churn")
    check(len(churn) == 1 and churn[0][1] == 4000, f"churn: {[c[:3] for c in churn]}")
    check(by_name(fr, site)[0][1] == 64, "hold_buffers made 64 calls")
    # temporary: every churn block is freed before the next allocation, no held one is
    _, root = flamegraph(log, "--cost", "temporary", name="temp.svg")
    fr = frames(root)
    check(by_name(fr, "churn")[0][1] == 4000, f"temporary churn: {by_name(fr, 'churn')[:1]}")
    check(not by_name(fr, site), "hold_buffers has no temporary allocation")


LEAK_FUNCS = {"leak_with_malloc": 300, "leak_with_calloc": 200, "leak_with_realloc": 500,
              "leak_aligned": 640}


@case(60)
def case_flamegraph_leak():
    log, out = recorded("leak")
    m = it.SAMPLE_LINE.search(out)
    check(m, f"leak prints no memtrace-sample line:\n{out}")
    leaked = int(m.group(3))
    check(sum(LEAK_FUNCS.values()) == leaked, "samples/leak.c changed: update LEAK_FUNCS")
    rep = it.report_json(log)
    _, root = flamegraph(log, "--cost", "leaked", "--title", "leaks <&> \"of\" leak.c")
    fr = frames(root)
    check(fr[0][1] == rep["leaked_bytes"] == leaked,
          f"root {fr[0][1]}, report {rep['leaked_bytes']}, the sample leaks {leaked}")
    for fn, want in LEAK_FUNCS.items():
        got = [f[1] for f in by_name(fr, fn)]
        check(got == [want], f"{fn}: {got}, the sample leaks {want} bytes there")
    check(not by_name(fr, "no_leak"), "no_leak frees everything but is drawn")
    titles = [t.text for t in root.iter(SVG_NS + "text") if t.get("class") == "title"]
    check(titles == ['leaks <&> "of" leak.c'], f"title: {titles}")


@case(60)
def case_flamegraph_cpp():
    log, _ = recorded("cpp_containers")
    out, root = flamegraph(log, "--cost", "allocations", "--min-percent", "0")
    fr = frames(root)
    templ = [f for f in fr if "<" in f[0] and "&" in f[0]]
    check(templ, f"no C++ template name with < and & among {[f[0] for f in fr][:20]}")
    with open(out, encoding="utf-8") as f:
        text = f.read()
    check("&lt;" in text and "&amp;" in text, "template names are not escaped")
    # every parent is at least as wide as its children together
    kids = {}
    stack = []
    for name, v, d, _ in fr:
        del stack[d:]
        if stack:
            kids[id(stack[-1])] = kids.get(id(stack[-1]), 0) + v
            check(v <= stack[-1][1], f"{name} ({v}) is wider than its parent {stack[-1][:2]}")
        stack.append((name, v))
    # pruning: a cut at 5% leaves fewer frames, and what was cut is in "other"
    _, root5 = flamegraph(log, "--cost", "allocations", "--min-percent", "5", name="p5.svg")
    fr5 = frames(root5)
    check(len(fr5) < len(fr), f"--min-percent 5 kept {len(fr5)} of {len(fr)} frames")
    check(fr5[0][1] == fr[0][1], "pruning changed the total")
    check(any(f[0].startswith("other (") for f in fr5), "no 'other' frame after pruning")


@case(60)
def case_flamegraph_usage():
    log, _ = recorded("leak")
    svg = os.path.join(it.TMP, "u.svg")
    for args, status, msg in [
            (["flamegraph", log], 2, "no output file"),
            (["flamegraph", "--cost", "bytes", "-o", svg, log], 2, "unknown cost 'bytes'"),
            (["flamegraph", "--min-percent", "200", "-o", svg, log], 2, "--min-percent"),
            (["flamegraph", "--width", "10", "-o", svg, log], 2, "--width"),
            (["flamegraph", "-o", svg], 2, "no log file"),
            (["flamegraph", "-o", svg, os.path.join(it.TMP, "missing.mtr")], 1, "missing.mtr"),
            (["flamegraph", "-o", "/nonexistent/dir/x.svg", log], 1, "/nonexistent/dir/x.svg"),
            (["html", log], 2, "no output file"),
            (["html", "--top", "x", "-o", svg, log], 2, "--top"),
            (["html", "-o", "/nonexistent/dir/x.html", log], 1, "/nonexistent/dir/x.html")]:
        p = mt(*args)
        check(p.returncode == status and msg in p.stderr and p.stderr.count("\n") == 1,
              f"memtrace {' '.join(args)}: want exit {status} and one line with {msg!r}\n"
              f"{show(p)}")
    for cmd in ("flamegraph", "html"):
        p = mt(cmd, "--help")
        check(p.returncode == 0 and "usage: memtrace " + cmd in p.stdout, f"{cmd} --help\n{show(p)}")
    p = mt("flamegraph", "-o", "-", log)
    check(p.returncode == 0 and p.stdout.startswith("<?xml"), f"-o - writes no SVG\n{show(p)}")


# ---- a large profile: 100,000 distinct stacks (issue 16, item 5) ----

SVG_MAX_BYTES = 2_000_000  # render_flamegraph.h, MT_FLAME_SVG_MAX_BYTES


def synthetic_log(stacks, events):
    """A log of `events` heap events over `stacks` distinct stacks from bench/gen_log.c."""
    exe = os.path.join(it.TMP, "gen_log")
    if not os.path.exists(exe):
        cc = os.environ.get("CC") or it.ARGS.cc or "cc"
        p = it.run([*cc.split(), "-O2", "-I" + os.path.join(it.ARGS.source_root, "format"), "-o",
                    exe, os.path.join(it.ARGS.source_root, "bench", "gen_log.c"), "-lz"])
        check(p.returncode == 0, f"bench/gen_log.c does not build\n{show(p)}")
    log = os.path.join(it.TMP, f"synthetic-{stacks}.mtr")
    p = it.run([exe, str(events), log, "100000", str(stacks)], timeout=300)
    check(p.returncode == 0 and f"{stacks} stacks" in p.stderr, f"gen_log failed\n{show(p)}")
    return log


def self_of(tip):
    """The self cost a tooltip states ("self: 1.00 KiB (1,024 B)" or "self: 12 B"), else 0."""
    m = re.search(r"\nself: (?:[^\n(]*\()?([\d,]+) B", tip)
    return int(m.group(1).replace(",", "")) if m else 0


def check_exact_widths(fr):
    """Every parent is exactly as wide as its children together plus its own stacks: pruning
    merges cost into "other" boxes, it never drops any."""
    kids, stack = {}, []
    for idx, (name, v, d, g) in enumerate(fr):
        del stack[d:]
        if stack:
            kids[stack[-1]] = kids.get(stack[-1], 0) + v
        stack.append(idx)
    for idx, (name, v, d, g) in enumerate(fr):
        if idx not in kids:
            continue
        own = self_of(g.find(SVG_NS + "title").text)
        check(kids[idx] + own == v,
              f"{name} at depth {d}: {v} B, its children {kids[idx]} B + self {own} B")


@case(300)
def case_large_flamegraph():
    log = synthetic_log(100_000, 2_000_000)
    rep = it.report_json(log)
    counts, other = [], None
    for pct in ("0", "0.001", "0.01", "0.1", "1"):
        svg, root = flamegraph(log, "--min-percent", pct, name=f"large-{pct}.svg")
        fr = frames(root)
        size = os.path.getsize(svg)
        check(size < SVG_MAX_BYTES, f"--min-percent {pct}: {size:,} bytes")
        check(fr[0][1] == rep["peak_heap_bytes"],
              f"--min-percent {pct}: root {fr[0][1]}, peak {rep['peak_heap_bytes']}")
        check_exact_widths(fr)
        merged = [f for f in fr if re.match(r"other \(\d+ small frames\)$", f[0])]
        check(merged, f"--min-percent {pct}: 100,000 stacks and no frame merged")
        counts.append((pct, len(fr)))
        if pct == "0":
            other = max(merged, key=lambda f: f[1])
    check(all(a[1] >= b[1] for a, b in zip(counts, counts[1:])),
          f"frames drawn by --min-percent (a bigger cut must never draw more): {counts}")
    print(f"frames by --min-percent: {counts}")
    # the default: under the byte budget, and Chromium runs its script and zooms on "other"
    svg, root = flamegraph(log, name="large.svg")
    fr = frames(root)
    size = os.path.getsize(svg)
    check(size < SVG_MAX_BYTES, f"default flame graph of 100,000 stacks: {size:,} bytes")
    check(len(fr) > 1000, f"only {len(fr)} frames drawn in {SVG_MAX_BYTES:,} bytes")
    try:
        chromium()
    except Skip:
        return
    zoom = next(i for i, f in enumerate(fr) if f[0] == other[0] and f[1] == other[1])
    dom, err = browse(svg, f"#zoom={zoom}")
    check(not console_errors(err), f"console errors: {console_errors(err)}")
    t = svg_tags(dom)
    check(len(t) == 1 and attr(t[0], "data-ready") == "1" and attr(t[0], "data-errors") == "0",
          f"the script did not finish: {t}")
    check(attr(t[0], "data-zoom") == str(zoom), f"zoom {attr(t[0], 'data-zoom')}, want {zoom}")
    # timing is reported, not asserted (a shared machine); bench.sh measures it as well
    print(f"default: {len(fr)} frames, {size:,} bytes, script done "
          f"{attr(t[0], 'data-ready-ms')} ms after navigation start (zoomed)")


SUMMARY_KEYS = ("allocations", "frees", "bytes_allocated", "peak_heap_bytes", "leaked_bytes",
                "leaked_blocks", "pid")


def dom_figures(html):
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r'data-key="(\w+)" data-value="(\d+)"', html)}


def html_report(log, name="report.html"):
    out = os.path.join(it.TMP, name)
    p = mt("html", "-o", out, log)
    check(p.returncode == 0, f"memtrace html failed\n{show(p)}")
    with open(out, encoding="utf-8") as f:
        return out, f.read()


@case(60)
def case_html_report():
    log, out = recorded("demo")
    rep = it.report_json(log)
    path, html = html_report(log)
    got = dom_figures(html)
    for k in SUMMARY_KEYS:
        check(got.get(k) == rep[k], f"{k}: page {got.get(k)}, report --format json {rep[k]}")
    check(len(html) < HTML_MAX_BYTES, f"page of {len(html)} bytes")
    check(not re.search(r'(src|href)="(https?:)?//|url\(|@import', html),
          "the page refers to something outside itself")
    for needle in ('data-cost="peak"', 'data-cost="leaked"', "data:image/svg+xml;base64,",
                   "remember_error", 'class="leaks"'):
        check(needle in html, f"the page has no {needle}")


# ---- a Python script's leaks: one figure in every view of the page (issue 16, item 1) ----

def html_flame_frames(html, cost):
    """[(name, value)] of the page's flame graph of `cost`."""
    m = re.search(r'<svg[^>]*class="mt-flame"[^>]*data-cost="%s".*?</svg>' % cost, html, re.S)
    check(m, f"the page has no {cost} flame graph")
    return [(t.split("\n")[0], int(v)) for v, t in
            re.findall(r'<g class="f [^"]*" data-x="\d+" data-v="(\d+)" data-d="\d+"><title>'
                       r'([^<]*)</title>', m.group(0))]


def leak_rows(html):
    """[(kind, bytes, first frame)] of the page's leaks table."""
    m = re.search(r'<table class="leaks">(.*?)</table>', html, re.S)
    check(m, "the page has no leaks table")
    return [(k, int(b), f) for k, b, f in
            re.findall(r'<tr><td>([^<]*)</td><td class="n" data-value="(\d+)">.*?'
                       r'<span class="frame">([^<]*)</span>', m.group(1))]


@case(120, needs="python_frames")
def case_html_python_leaks():
    log, p = it.py_record("py_leak.py")
    kv = it.sample_kv(p.stdout, "pyleak")
    leaked, line = int(kv["bytes"]), int(kv["line"])
    rep = it.report_json(log)
    path, html = html_report(log, "pyleak.html")
    # the total: summary, leak totals and the leaks flame graph say the same
    got = dom_figures(html)
    totals = dict(re.findall(r'<tr data-kind="(\w+)"><td>[^<]*</td><td class="n" '
                             r'data-value="(\d+)"', html))
    flame = html_flame_frames(html, "leaked")
    check(got["leaked_bytes"] == rep["leaked_bytes"] == int(totals.get("total", -1)) ==
          flame[0][1],
          f"held at script end: summary {got['leaked_bytes']}, report {rep['leaked_bytes']}, "
          f"leak totals {totals}, flame graph {flame[0][1]}")
    check(sum(int(v) for k, v in totals.items() if k != "total") == int(totals["total"]),
          f"the leak totals do not add up: {totals}")
    check("Flame graph: bytes held at the end of the script" in html,
          "the leaks flame graph is not titled with the end of the script")
    # the leaking function: the table's rows and the flame graph's frames, the same bytes
    rows = [r for r in leak_rows(html) if r[2] == "handle"]
    frames_ = [f for f in flame if f[0] == f"handle (py_leak.py:{line})"]
    check(rows and rows[0][0] == "held at script end", f"leaks table rows of handle: {rows}")
    check(len(frames_) == 1, f"handle's line {line} in the leaks flame graph: {frames_}, "
          f"frames {[f[0] for f in flame][:30]}")
    check(rows[0][1] == frames_[0][1] and leaked <= rows[0][1] <= leaked + 4096,
          f"handle leaks {leaked} B (the script): table {rows[0][1]}, flame graph "
          f"{frames_[0][1]}")
    check(rows[0] == max(leak_rows(html), key=lambda r: r[1]), "handle is not the first leak")
    # the fragmentation table says which live bytes are pymalloc's, as the CLI does
    fj = json.loads(mt("fragmentation", "--format", "json", log).stdout)
    got_py = [int(v) for v in re.findall(r'data-fig="pymalloc_object_bytes" data-value="(\d+)"',
                                         html)]
    want_py = [fj[k]["pymalloc_object_bytes"] for k in ("at_peak", "at_script_end", "at_exit")]
    check(got_py == want_py and "of which in pymalloc's arenas" in html and
          'class="note pymalloc"' in html,
          f"fragmentation table: pymalloc bytes {got_py}, fragmentation --format json {want_py}")
    # and in the browser: a search for the function finds those bytes in the leaks graph
    try:
        chromium()
    except Skip:
        return
    dom, err = browse(path, "#search=handle")
    check(not console_errors(err), f"console errors: {console_errors(err)}")
    t = {attr(x, "data-cost"): x for x in svg_tags(dom)}
    check(attr(t["leaked"], "data-matched-value") == str(rows[0][1]),
          f"search handle in the leaks graph: {attr(t['leaked'], 'data-matched-value')}, "
          f"the table says {rows[0][1]}")


# ---- headless Chromium: what the browser shows ----

def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    raise Skip("no chromium (apt-get install chromium; bootstrap.sh test installs it)")


def browse(path, fragment=""):
    """Loads file://path#fragment headless; returns (DOM after the scripts ran, stderr)."""
    exe = chromium()
    profile = tempfile.mkdtemp(prefix="chromium.", dir=it.TMP)
    argv = [exe, "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--enable-logging=stderr",
            "--v=0", f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom",
            "file://" + path + fragment]
    env = dict(os.environ, HOME=profile)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    check(p.returncode == 0 and p.stdout.strip(), f"chromium failed\n{show(p)}")
    return p.stdout, p.stderr


def console_errors(stderr):
    return [line for line in stderr.splitlines()
            if "CONSOLE" in line and ("Uncaught" in line or "rror" in line)]


def attr(tag_text, name):
    m = re.search(r'\s' + re.escape(name) + r'="([^"]*)"', tag_text)
    return m.group(1) if m else None


def svg_tags(dom):
    return re.findall(r'<svg\b[^>]*class="mt-flame"[^>]*>', dom)


@case(180)
def case_browser_flamegraph():
    chromium()  # skip before recording anything
    log, _ = recorded("leak")
    svg, root = flamegraph(log, "--cost", "leaked")
    fr = frames(root)
    aligned = [i for i, f in enumerate(fr) if f[0] == "leak_aligned"]
    check(aligned, "no leak_aligned frame")
    dom, err = browse(svg, f"#search=leak_with&zoom={aligned[0]}")
    check(not console_errors(err), f"console errors: {console_errors(err)}")
    tags = svg_tags(dom)
    check(len(tags) == 1, f"the DOM has {len(tags)} flame graphs:\n{dom[:2000]}")
    t = tags[0]
    check(attr(t, "data-ready") == "1", f"the script did not finish: {t}")
    check(attr(t, "data-errors") == "0", f"script errors: {t}")
    want = sum(v for k, v in LEAK_FUNCS.items() if "leak_with" in k)
    check(attr(t, "data-matched-value") == str(want) and attr(t, "data-matched-frames") == "3",
          f"search leak_with: matched {attr(t, 'data-matched-value')} in "
          f"{attr(t, 'data-matched-frames')} frames, want {want} in 3")
    m = re.search(r'class="matched"[^>]*>([^<]*)<', dom)
    check(m and f"{100 * want / 1640:.2f}%" in m.group(1), f"matched line: {m and m.group(1)}")
    check(attr(t, "data-zoom") == str(aligned[0]), f"zoom: {attr(t, 'data-zoom')}")
    # zoomed on leak_aligned: it spans the whole width, its siblings are hidden
    g = re.search(r'<g class="f[^"]*"[^>]*>\s*<title>leak_aligned\n.*?</g>', dom, re.S)
    check(g and re.search(r'<rect x="10\.00"[^>]*width="1180\.00"', g.group(0)),
          f"leak_aligned after zoom: {g and g.group(0)[-300:]}")
    g = re.search(r'<g class="f[^"]*"([^>]*)>\s*<title>leak_with_malloc\n', dom)
    check(g and "display: none" in g.group(1), f"leak_with_malloc not hidden: {g and g.group(0)}")


@case(180)
def case_browser_html():
    chromium()
    log, out = recorded("peak")
    m = re.search(r"peak_bytes=(\d+)", out)
    peak = int(m.group(1))
    rep = it.report_json(log)
    path, _ = html_report(log)
    dom, err = browse(path, "#search=hold_buffers")
    check(not console_errors(err), f"console errors: {console_errors(err)}")
    check(re.search(r'<html[^>]*data-errors="0"', dom), "script errors on the page")
    got = dom_figures(dom)
    for k in SUMMARY_KEYS:
        check(got.get(k) == rep[k], f"{k}: the page shows {got.get(k)}, report {rep[k]}")
    tags = svg_tags(dom)
    check(len(tags) == 3, f"{len(tags)} flame graphs on the page, want allocated (the one that "
          "follows the window), peak and leaked")
    for t in tags:
        check(attr(t, "data-ready") == "1", f"a flame graph's script did not run: {t}")
    bycost = {attr(t, "data-cost"): t for t in tags}
    t = bycost.get("peak")
    check(t and attr(t, "data-matched-value") == str(peak),
          f"search hold_buffers in the peak graph: {t and attr(t, 'data-matched-value')}, "
          f"want {peak}")
    check(attr(bycost["leaked"], "data-matched-value") == "0", "peak leaks nothing")
    # the search box shows the search of the URL
    check(re.search(r'<input class="flame-search"', dom), "no search box")


# ---- layout: labels inside the picture, nothing drawn over anything (issue 16) ----

# Run after the picture's own script: hovers the frame with the longest tooltip (a flame
# graph's details line at its longest), then writes the box of every label as the browser
# laid it out into data-boxes on the root element.
MEASURE_JS = """
(function () {
  var root = document.documentElement;
  var gs = root.querySelectorAll('g.f'), best = null, len = -1;
  for (var i = 0; i < gs.length; i++) {
    var t = gs[i].querySelector('title').textContent.length;
    if (t > len) { len = t; best = gs[i]; }
  }
  if (best) best.querySelector('rect').dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
  var out = [], els = root.querySelectorAll('text, rect.legend, rect.plot');
  for (var k = 0; k < els.length; k++) {
    var e = els[k], b = e.getBoundingClientRect();
    if (e.closest('g.f') || (e.tagName === 'text' && !e.textContent.trim())) continue;
    out.push([e.getAttribute('class') || '', e.textContent, b.left, b.top, b.width, b.height]);
  }
  root.setAttribute('data-boxes', JSON.stringify(out));
})();
"""


def measured_boxes(svg, fragment=""):
    """[(class, text, x, y, w, h)] of the picture's labels as Chromium lays them out."""
    with open(svg, encoding="utf-8") as f:
        text = f.read()
    probe = svg.replace(".svg", ".measured.svg")
    with open(probe, "w", encoding="utf-8") as f:
        f.write(text.replace("</svg>\n", "<script type=\"text/ecmascript\"><![CDATA[" +
                             MEASURE_JS + "]]></script>\n</svg>\n"))
    dom, err = browse(probe, fragment)
    check(not console_errors(err), f"console errors: {console_errors(err)}")
    m = re.search(r'data-boxes="([^"]*)"', dom)
    check(m, f"the measuring script did not run:\n{dom[:1500]}")
    return json.loads(html_lib.unescape(m.group(1)))


def overlap(a, b):
    return (a[2] < b[2] + b[4] - 0.5 and b[2] < a[2] + a[4] - 0.5 and
            a[3] < b[3] + b[5] - 0.5 and b[3] < a[3] + a[5] - 0.5)


def check_layout(boxes, width, height, what):
    for b in boxes:
        check(b[2] >= -0.5 and b[3] >= -0.5 and b[2] + b[4] <= width + 0.5 and
              b[3] + b[5] <= height + 0.5,
              f"{what}: {b[0]} {b[1]!r} at {b[2:]} leaves the {width}x{height} picture")
    labels = [b for b in boxes if "plot" not in b[0].split()]
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            check(not overlap(a, b), f"{what}: {a[0]} {a[1]!r} {a[2:]} overlaps "
                  f"{b[0]} {b[1]!r} {b[2:]}")


def round_steps(labels, what):
    """The tick labels count in 1, 2 or 5 x 10^n of one unit, from 0."""
    vals = [re.fullmatch(r"([\d.]+) (\S+)", t) for t in labels]
    check(all(vals) and len({v.group(2) for v in vals}) == 1, f"{what} ticks: {labels}")
    nums = [float(v.group(1)) for v in vals]
    step = nums[1] - nums[0] if len(nums) > 1 else 1
    mant = step / 10 ** math.floor(math.log10(step) + 1e-9)
    check(nums[0] == 0 and any(abs(mant - m) < 1e-6 for m in (1, 2, 5)) and
          all(abs(b - a - step) < step * 1e-6 for a, b in zip(nums, nums[1:])),
          f"{what} ticks are not round steps: {labels}")


@case(180)
def case_browser_layout():
    chromium()
    # the timeline: round ticks, every label inside, the legend outside the plot
    log, _ = recorded("peak")
    svg = os.path.join(it.TMP, "timeline.svg")
    p = mt("timeline", "-o", svg, log)
    check(p.returncode == 0, f"timeline\n{show(p)}")
    root = ET.parse(svg).getroot()
    width, height = float(root.get("width")), float(root.get("height"))
    boxes = measured_boxes(svg)
    check_layout(boxes, width, height, "timeline")
    plot = [b for b in boxes if b[0] == "plot"]
    legend = [b for b in boxes if b[0] == "legend"]
    check(plot and len(legend) >= 6, f"timeline: plot {plot}, legend {legend}")
    for b in legend:
        check(not overlap(b, plot[0]), f"timeline: legend {b[1]!r} {b[2:]} is on the plot")
    check(any(b[0] == "label peak" for b in boxes), "timeline: no peak label")
    round_steps([b[1] for b in boxes if b[0] == "tick-y"], "timeline bytes")
    round_steps([b[1] for b in boxes if b[0] == "tick-x"], "timeline time")
    # the flame graph: the details line at its longest, a search's matched line, the legend
    log, _ = recorded("cpp_containers")
    svg, root = flamegraph(log, "--cost", "allocations", name="layout.svg")
    width, height = float(root.get("width")), float(root.get("height"))
    boxes = measured_boxes(svg, "#search=std")
    details = [b for b in boxes if b[0] == "details"]
    check(details and len(details[0][1]) > 100, f"no long details line: {details}")
    check([b for b in boxes if b[0] == "matched"], "no matched line after a search")
    check_layout(boxes, width, height, "flame graph")


# ---- the page's tables: sorted by a click on a header, filtered by a text box ----

TABLES_JS = """
(function () {
  var res = {}, t = document.querySelector('table.sites');
  function vals(col) {
    var out = [];
    for (var i = 1; i < t.rows.length; i++)
      out.push(+t.rows[i].cells[col].getAttribute('data-value'));
    return out;
  }
  var th = t.rows[0].cells[1];
  th.click();
  res.desc = vals(1);
  res.dir1 = th.getAttribute('aria-sort');
  th.click();
  res.asc = vals(1);
  res.dir2 = th.getAttribute('aria-sort');
  var box = t.previousElementSibling;
  box.value = 'REMEMBER_error';
  box.dispatchEvent(new Event('input'));
  res.shown = +t.getAttribute('data-rows-shown');
  res.visible = [];
  for (var i = 1; i < t.rows.length; i++)
    if (t.rows[i].style.display !== 'none') res.visible.push(t.rows[i].textContent);
  res.rows = t.rows.length - 1;
  res.filters = document.querySelectorAll('input.table-filter').length;
  res.tables = document.querySelectorAll('body table').length;
  document.documentElement.setAttribute('data-probe', JSON.stringify(res));
})();
"""


@case(180)
def case_browser_tables():
    chromium()
    log, _ = recorded("demo")
    path, html = html_report(log, "tables.html")
    check(not re.search(r'(src|href)="(https?:)?//', html), "the page refers outside itself")
    probe = path.replace(".html", ".probe.html")
    with open(probe, "w", encoding="utf-8") as f:
        f.write(html.replace("</body>", "<script>" + TABLES_JS + "</script>\n</body>"))
    dom, err = browse(probe)
    check(not console_errors(err), f"console errors: {console_errors(err)}")
    check(re.search(r'<html[^>]*data-errors="0"', dom) or 'data-errors' not in dom,
          "script errors on the page")
    m = re.search(r'data-probe="([^"]*)"', dom)
    check(m, f"the probe did not run:\n{dom[-2000:]}")
    r = json.loads(html_lib.unescape(m.group(1)))
    check(r["tables"] >= 4 and r["filters"] == r["tables"],
          f"{r['tables']} tables, {r['filters']} filter boxes: every table gets one")
    want = sorted(r["desc"], reverse=True)
    check(r["rows"] >= 3 and r["desc"] == want and r["dir1"] == "descending",
          f"a click on 'allocations' sorts biggest first: {r['desc']} ({r['dir1']})")
    check(r["asc"] == sorted(want) and r["dir2"] == "ascending",
          f"a second click sorts smallest first: {r['asc']} ({r['dir2']})")
    expect = len(re.findall(r"remember_error",
                            re.search(r'<table class="sites">(.*?)</table>', html, re.S).group(1)
                            .replace("</tr>", "\n"), re.I))
    check(r["visible"] and r["shown"] == len(r["visible"]) and
          all("remember_error" in v for v in r["visible"]) and len(r["visible"]) < r["rows"],
          f"filter 'REMEMBER_error': {r['shown']} rows shown of {r['rows']}, "
          f"{[v[:60] for v in r['visible']]} ({expect} mentions in the table)")

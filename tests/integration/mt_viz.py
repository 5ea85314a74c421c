# SPDX-License-Identifier: MIT
# Integration tests of the pictures: `memtrace flamegraph` and `memtrace html` on samples whose
# figures the programs print themselves, and the same files opened in headless Chromium (the
# page's own script must run without errors and show those figures). Reuses the helpers of
# mt_integration.py; one case per meson test, exit 0 pass, 77 skip (no Chromium), else fail.
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mt_integration as it  # noqa: E402
from mt_integration import Fail, Skip, check, show  # noqa: E402

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
    check(len(tags) == 2, f"{len(tags)} flame graphs on the page, want peak and leaked")
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


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items()
         if name.startswith("case_")}


if __name__ == "__main__":
    it.CASES = CASES
    sys.exit(it.main())

# SPDX-License-Identifier: MIT
# Integration tests of time windows (issue 18, --from/--to): samples/phases has three phases
# 300 ms apart whose counts it knows (keep: 100 x 1000 B kept; churn: 200 x 2000 B allocated
# then freed; leak: 50 x 3000 B lost). It prints each phase's start and end on the clock of the
# log header's start time, so each window is placed from the log's own clock, 100 ms either
# side of its phase: no guess about how fast the machine is. Every report over a window must
# give exactly that phase. Uses mt_harness.py's helpers; exit 77 = skip.
import os
import re
import struct

import mt_harness as it
from mt_harness import check, show, memtrace, json_of

case = it.suite("integration", "windows")

PHASE_LINE = re.compile(r"^memtrace-phase: (\d) start_ns=(\d+) end_ns=(\d+)$", re.M)
FOLDED_LINE = re.compile(r"^([^;\n]+(?:;[^;\n]+)*) (\d+)$")

# name, allocations, bytes allocated, frees, held at the window's end (bytes, blocks), peak
PHASES = [("phase_keep", 100, 100000, 0, 100000, 100, 100000),
          ("phase_churn", 200, 400000, 200, 0, 0, 400000),
          ("phase_leak", 50, 150000, 0, 150000, 50, 150000)]


def phases_log(name, *run_opts):
    """Records samples/phases; returns (log, [(from, to) seconds around each phase])."""
    log = os.path.join(it.TMP, name)
    p = memtrace("run", "-q", *run_opts, "-o", log, "--", it.sample_exe("phases"))
    check(os.path.isfile(log), f"memtrace run phases wrote no log\n{show(p)}")
    found = {int(n): (int(s), int(e)) for n, s, e in PHASE_LINE.findall(p.stdout)}
    check(sorted(found) == [1, 2, 3], f"phases printed {sorted(found)}\n{show(p)}")
    with open(log, "rb") as f:
        start_ns = struct.unpack("<Q", f.read(32)[16:24])[0]  # header: start, CLOCK_REALTIME
    wins = []
    for n in (1, 2, 3):
        s, e = found[n]
        wins.append(("%.3f" % max((s - start_ns) / 1e9 - 0.1, 0), "%.3f" % ((e - start_ns) / 1e9 + 0.1)))
    return log, wins


def inner(stack):
    return (stack or [{}])[0].get("function")


@case(120)
def case_window_phases():
    """Issue 18: a window around each phase gives exactly that phase, in report, peak, leaks,
    export folded, the flame graph and the HTML page, and each says which window it is."""
    log, wins = phases_log("phases.mtr")
    for (fn, allocs, nbytes, frees, held, held_blocks, peak), (t0, t1) in zip(PHASES, wins):
        w = ["--from", t0, "--to", t1]
        rep = json_of("report", "--format", "json", *w, log)
        got = tuple(rep[k] for k in ("allocations", "bytes_allocated", "frees", "leaked_bytes",
                                     "leaked_blocks", "peak_heap_bytes"))
        check(got == (allocs, nbytes, frees, held, held_blocks, peak),
              f"report {t0}..{t1} ({fn}): {got}, want "
              f"{(allocs, nbytes, frees, held, held_blocks, peak)}")
        check(rep.get("window") == {"from_s": float(t0), "to_s": float(t1),
                                    "to_end_of_log": False},
              f"report {t0}..{t1}: window {rep.get('window')}")
        sites = {inner(s["stack"]) for s in rep["top_sites"]}
        check(sites == {fn}, f"report {t0}..{t1}: sites {sites}, want {fn} only")
        thr = rep["threads"]
        check(len(thr) == 1 and thr[0]["allocations"] == allocs and
              thr[0]["bytes_allocated"] == nbytes,
              f"report {t0}..{t1}: the thread's figures are the window's: {thr}")

        pk = json_of("peak", "--format", "json", *w, log)
        check(pk["peak_heap_bytes"] == peak and pk["window"]["to_s"] == float(t1),
              f"peak {t0}..{t1}: {pk['peak_heap_bytes']}, want {peak}")

        lk = json_of("leaks", "--format", "json", *w, log)
        un = lk["totals"].get("unclassified") or {}
        check(un.get("bytes", 0) == held and un.get("blocks", 0) == held_blocks and
              {inner(x.get("stack")) for x in lk["leaks"]} == ({fn} if held else set()),
              f"leaks {t0}..{t1}: {lk['totals']}, want {held} B in {held_blocks} of {fn}")

        p = memtrace("export", "--to", "folded", "--cost", "allocated", *w, log)
        lines = [FOLDED_LINE.match(x) for x in p.stdout.splitlines()]
        check(p.returncode == 0 and all(lines) and len(lines) == 1 and
              lines[0].group(1).endswith(";" + fn) and int(lines[0].group(2)) == nbytes,
              f"export folded {t0}..{t1}: want one stack ending in {fn} with {nbytes}\n{show(p)}")
        p = memtrace("export", "--to", "folded", "--cost", "allocations", *w, log)
        check(p.returncode == 0 and p.stdout.strip().endswith(f";{fn} {allocs}"),
              f"export folded --cost allocations {t0}..{t1}\n{show(p)}")

        p = memtrace("flamegraph", "--cost", "allocated", *w, "-o", "-", log)
        m = re.search(r'data-cost="allocated" data-unit="bytes" data-total="(\d+)"', p.stdout)
        check(p.returncode == 0 and m and int(m.group(1)) == nbytes and
              f"window {float(t0):.3f} s to {float(t1):.3f} s" in p.stdout,
              f"flamegraph {t0}..{t1}: total {m and m.group(1)}, want {nbytes} and the window")
    # the HTML page names its window
    t0, t1 = wins[2]
    p = memtrace("html", "--from", t0, "--to", t1, "-o", "-", log)
    check(p.returncode == 0 and 'data-key="window"' in p.stdout and
          f"window {float(t0):.3f} s to {float(t1):.3f} s" in p.stdout, f"html window\n{show(p)[:2000]}")
    # text reports name it too, and say what the held figure is
    p = memtrace("report", "--from", t0, "--to", t1, log)
    check(p.returncode == 0 and re.search(r"^  window +%s s to %s s" % (re.escape("%.3f" % float(t0)),
                                          re.escape("%.3f" % float(t1))), p.stdout, re.M) and
          re.search(r"^  held at window end +146 KiB \(150,000 B\) in 50 blocks$", p.stdout, re.M),
          f"report text over a window\n{show(p)}")
    # start, end and peak: the heap peaks when phase 2 holds all its 200 blocks (500,000 B)
    rep = json_of("report", "--format", "json", "--from", "start", "--to", "peak", log)
    check((rep["allocations"], rep["bytes_allocated"], rep["peak_heap_bytes"]) ==
          (300, 500000, 500000), f"--to peak: {rep['allocations']} allocations, "
          f"{rep['bytes_allocated']} B, peak {rep['peak_heap_bytes']}")
    rep = json_of("report", "--format", "json", "--from", wins[1][1], "--to", "end", log)
    check((rep["allocations"], rep["leaked_bytes"], rep["window"]["to_end_of_log"]) ==
          (50, 150000, True), f"--to end: {rep['allocations']}, {rep['leaked_bytes']}, "
          f"{rep['window']}")
    # the whole run is what it was: no window key
    rep = json_of("report", "--format", "json", log)
    check("window" not in rep and (rep["allocations"], rep["leaked_bytes"]) == (350, 250000),
          f"no window: {rep.get('window')}, {rep['allocations']}, {rep['leaked_bytes']}")


@case(120)
def case_window_leak_check():
    """A window that reaches the leak check: its blocks are classified, the blocks allocated
    before it are not listed (phase 1's, still reachable, are outside the window)."""
    log, wins = phases_log("phases-lc.mtr", "--leak-check")
    lk = json_of("leaks", "--format", "json", "--from", wins[2][0], log)
    t = lk["totals"]
    check(lk["classified"] and t["definite"] == {"bytes": 150000, "blocks": 50} and
          t["reachable"] == {"bytes": 0, "blocks": 0} and lk["window"]["to_end_of_log"],
          f"leaks from phase 3 on: {t}")
    lk = json_of("leaks", "--format", "json", log)
    check(lk["totals"]["reachable"] == {"bytes": 100000, "blocks": 100} and "window" not in lk,
          f"leaks of the whole run: {lk['totals']}")


@case(120)
def case_window_timeline_diff():
    """Issue 18: timeline and diff take --from/--to too. The timeline of each phase's window
    spans that window (its axis, in the log's seconds, stays inside it), names it, and marks
    the phase's peak with its exact bytes; diff compares the same window of both runs, with
    each phase's exact figures."""
    log, wins = phases_log("phases-tl.mtr")
    for (fn, allocs, nbytes, frees, held, held_blocks, peak), (t0, t1) in zip(PHASES, wins):
        w = ["--from", t0, "--to", t1]
        p = memtrace("timeline", *w, "-o", "-", log)
        m = re.search(r"<title>heap peak [^<(]*\(([\d,]+) B\) at", p.stdout)
        ticks = [float(x) * (1e-3 if u == "ms" else 1) for x, u in
                 re.findall(r'class="tick-x"[^>]*>([\d.]+) (ms|s)<', p.stdout)]
        check(p.returncode == 0 and m and int(m.group(1).replace(",", "")) == peak and
              f"window {float(t0):.3f} s to {float(t1):.3f} s" in p.stdout and ticks and
              all(float(t0) - 1e-9 <= x <= float(t1) + 1e-9 for x in ticks),
              f"timeline svg {t0}..{t1} ({fn}): peak {m and m.group(1)}, want {peak}; "
              f"ticks {ticks}\n{show(p)[:1500]}")
        p = memtrace("timeline", *w, "--width", "40", log)
        lines = p.stdout.splitlines()
        check(p.returncode == 0 and len(lines) > 3 and
              lines[1] == f"window {float(t0):.3f} s to {float(t1):.3f} s: allocated in it, "
              "held at its end" and
              re.search(r"^ +%s s +%s s$" % (re.escape("%.3f" % float(t0)),
                                             re.escape("%.3f" % float(t1))), p.stdout, re.M),
              f"timeline text {t0}..{t1}\n{show(p)}")
        d = json_of("diff", "--format", "json", *w, log, log)
        for side in ("old", "new"):
            tot = d[side]["totals"]
            got = (tot["allocations"], tot["bytes_allocated"], tot["peak_bytes"],
                   tot["leaked_bytes"], tot["leaked_blocks"])
            check(got == (allocs, nbytes, peak, held, held_blocks) and
                  d[side]["window"]["to_s"] == float(t1),
                  f"diff {t0}..{t1} ({fn}) {side}: {got}, want "
                  f"{(allocs, nbytes, peak, held, held_blocks)}")
    t0, t1 = wins[2]
    p = memtrace("diff", "--from", t0, "--to", t1, log, log)
    check(p.returncode == 0 and
          re.search(r"^  held at window end +150,000 B +150,000 B +0 B$", p.stdout, re.M) and
          f"window {float(t0):.3f} s to {float(t1):.3f} s" in p.stdout, f"diff text\n{show(p)}")
    p = memtrace("diff", "--to", "99", log, log)
    check(p.returncode == 2 and p.stderr.count("\n") == 1 and
          "--to 99 is past the end of the log" in p.stderr, f"diff --to 99\n{show(p)}")


@case(60)
def case_window_errors():
    """--from after --to, a time past the end, an unknown word: one line, exit 2, in the house
    style; a directory or several logs refuse a window."""
    log, wins = phases_log("phases-err.mtr")
    for args, want in ((["report", "--from", "1", "--to", "0.5"], "--from 1 is after --to 0.5"),
                       (["peak", "--to", "99"], "--to 99 is past the end of the log ("),
                       (["leaks", "--from", "99"], "--from 99 is past the end of the log ("),
                       (["flamegraph", "-o", "-", "--from", "pek"],
                        "unknown --from 'pek'; did you mean 'peak'? (SECONDS, start, end, peak, "
                        "MARK)"),
                       (["export", "--to", "folded", "--to", "-1"], "unknown --to '-1'"),
                       (["html", "-o", "-", "--to", "1,5"],
                        "--to needs seconds since the start (1.5), start, end, peak or a mark's "
                        "name, got '1,5'"),
                       (["fragmentation", "--from", "peak", "--to", "0.1"],
                        "--from peak (0."),
                       (["lines", "--from", "x"], "--from 'x': the log has no marks")):
        p = memtrace(*args, log)
        cmd = args[0]
        check(p.returncode == 2 and p.stderr.count("\n") == 1 and
              p.stderr.startswith(f"memtrace: {cmd}: {want}") and
              p.stderr.endswith(f" (try 'memtrace {cmd} --help')\n") and p.stdout == "",
              f"{' '.join(args)}: want one line with {want!r}\n{show(p)}")
    p = memtrace("report", "--from", "0.1", log, log)
    check(p.returncode == 2 and p.stderr.count("\n") == 1 and "take one log" in p.stderr,
          f"report --from over two logs\n{show(p)}")


# Drags across the window chart from the bucket bound nearest FROM to the one nearest TO (the
# query of the page's address, ?drag=FROM-TO), as a user's mouse would, then leaves what the
# table shows in data-probe on the root element.
DRAG_JS = """
(function () {
  var m = /[?&]drag=([0-9.]+)-([0-9.]+)/.exec(location.search);
  var svg = document.getElementById('mt-wchart');
  var d = JSON.parse(document.getElementById('mt-wdata').getAttribute('data-json'));
  var r = svg.getBoundingClientRect(), nb = d.t.length - 1;
  function at(t) {
    var j = 0;
    while (j < nb && Math.abs(d.t[j + 1] - t) < Math.abs(d.t[j] - t)) j++;
    return r.left + (60 + 930 * j / nb) * r.width / 1000 + 0.5;
  }
  function ev(type, x) {
    (type === 'mouseup' ? window : svg).dispatchEvent(new MouseEvent(type,
      {clientX: x, clientY: r.top + r.height / 2, bubbles: true}));
  }
  ev('mousedown', at(+m[1]));
  ev('mousemove', at((+m[1] + +m[2]) / 2));
  ev('mousemove', at(+m[2]));
  ev('mouseup', at(+m[2]));
  var t = document.getElementById('mt-wtable'), rows = [];
  for (var i = 1; i < t.rows.length; i++)
    rows.push([t.rows[i].cells[0].textContent.trim(), +t.rows[i].cells[1].getAttribute('data-value'),
               +t.rows[i].cells[2].getAttribute('data-value'), +t.rows[i].cells[3].getAttribute('data-value')]);
  var fl = document.querySelector('svg.mt-flame[data-cost="allocated"]');
  var dragged = {flame: +fl.getAttribute('data-total'),
                 window: document.documentElement.getAttribute('data-window'),
                 hash: location.hash};
  var pick = document.getElementById('mt-wcost');
  pick.value = 'held';
  pick.dispatchEvent(new Event('change'));
  dragged.held = +fl.getAttribute('data-total');
  pick.value = 'allocated';
  pick.dispatchEvent(new Event('change'));
  dragged.wbands = Array.prototype.map.call(svg.querySelectorAll('polygon.wband'),
    function (p) { return +p.getAttribute('data-held-end'); });
  dragged.allocations = +document.querySelector('td[data-key="allocations"]').getAttribute('data-value');
  document.getElementById('mt-wback').click();
  document.documentElement.setAttribute('data-probe', JSON.stringify({
    from: +t.getAttribute('data-from'), to: +t.getAttribute('data-to'), rows: rows,
    bands: svg.querySelectorAll('polygon.band').length, dragged: dragged,
    back: {flame: +fl.getAttribute('data-total'),
           window: document.documentElement.getAttribute('data-window'),
           allocations: +document.querySelector('td[data-key="allocations"]').getAttribute('data-value'),
           wbands: svg.querySelectorAll('polygon.wband').length,
           notes: document.querySelectorAll('p.wnote').length,
           banner: document.getElementById('mt-wbanner').textContent}}));
})();
"""


@case(240)
def case_browser_windows():
    """Issue 18: the HTML page's window chart. A window chosen in the browser, by the address
    (#window=FROM-TO) or by dragging across the chart, shows exactly each phase's allocations,
    bytes and what was held at the window's end, with no server; the chart stacks a band per
    top site."""
    import html as html_lib
    import json
    from cases_viz import browse, chromium, console_errors
    chromium()  # skip before recording anything
    log, wins = phases_log("phases-html.mtr")
    page = os.path.join(it.TMP, "phases.html")
    p = memtrace("html", "-o", page, log)
    check(p.returncode == 0, f"memtrace html\n{show(p)}")
    with open(page, encoding="utf-8") as f:
        text = f.read()
    probe = page.replace(".html", ".probe.html")
    with open(probe, "w", encoding="utf-8") as f:
        f.write(text.replace("</body>", "<script>" + DRAG_JS + "</script>\n</body>"))
    for (fn, allocs, nbytes, frees, held, held_blocks, peak), (t0, t1) in zip(PHASES, wins):
        dom, err = browse(page, f"#window={t0}-{t1}")
        check(not console_errors(err) and re.search(r'<html[^>]*data-errors="0"', dom),
              f"console errors: {console_errors(err)}")
        m = re.search(r'<table id="mt-wtable"[^>]*>', dom)
        tag = m.group(0) if m else ""
        got = [re.search(r'data-%s="([^"]*)"' % k, tag) for k in ("allocations", "bytes", "held",
                                                                  "from", "to")]
        check(all(got), f"window table: {tag}")
        a, b, h, f0, f1 = (float(x.group(1)) for x in got)
        check((a, b, h) == (allocs, nbytes, held) and f0 <= float(t0) + 0.02 and
              f1 >= float(t1) - 0.02, f"#window={t0}-{t1} ({fn}): {a:.0f} allocations, "
              f"{b:.0f} B, {h:.0f} B held over {f0}..{f1}; want {allocs}, {nbytes}, {held}")
        # the flame graph of bytes allocated, the sites table and the banner follow it
        m = re.search(r'<svg[^>]*data-cost="allocated"[^>]*data-total="(\d+)"', dom)
        check(m and int(m.group(1)) == nbytes, f"#window={t0}-{t1} ({fn}): the flame graph's "
              f"total {m and m.group(1)}, want {nbytes}")
        box = re.search(r'<g class="f[^"]*" data-x="\d+" data-v="(\d+)"[^>]*><title>%s\n([^<]*)'
                        % fn, dom)
        check(box and int(box.group(1)) == nbytes and "allocated in the window" in box.group(2),
              f"#window={t0}-{t1}: the box {fn}: {box and box.groups()}")
        row = re.search(r'<tr data-w="\d+"><td class="n" data-value="(\d+)">[^<]*</td><td '
                        r'class="n" data-value="(\d+)">[^<]*</td><td[^>]*>[^<]*</td><td '
                        r'class="n" data-value="(\d+)">(?:(?!</tr>).)*<span class="frame">%s<'
                        % fn, dom, re.S)
        check(row and tuple(map(int, row.groups())) == (nbytes, allocs, held),
              f"#window={t0}-{t1}: the sites table's row {fn}: {row and row.groups()}")
        ban = re.search(r'<p id="mt-wbanner"[^>]*data-from="([\d.]+)" data-to="([\d.]+)"[^>]*>'
                        r'This page shows the window ', dom)
        check(ban and (float(ban.group(1)), float(ban.group(2))) == (f0, f1),
              f"#window={t0}-{t1}: the banner {ban and ban.groups()}")
        # the summary, the leak totals and the thread's row are those of memtrace report over
        # the bounds the banner gives (data-cli)
        cli = re.search(r'<p id="mt-wbanner"[^>]*data-cli="--from ([\d.]+) --to ([\d.]+|end)"', dom)
        check(cli, f"#window={t0}-{t1}: the banner has no data-cli")
        rep = json_of("report", "--format", "json", "--from", cli.group(1), "--to", cli.group(2),
                      log)
        summ = re.search(r'<table class="summary".*?</table>', dom, re.S).group(0)
        for key, want in (("allocations", allocs), ("frees", frees), ("bytes_allocated", nbytes),
                          ("leaked_bytes", held), ("leaked_blocks", held_blocks),
                          ("peak_heap_bytes", peak)):
            m = re.search(r'data-key="%s" data-value="(\d+)"' % key, summ)
            check(m and int(m.group(1)) == want == rep[key],
                  f"#window={t0}-{t1} ({fn}): the summary's {key} {m and m.group(1)}, want "
                  f"{want}, report {rep[key]}")
        check(re.search(r'<th>held at window end</th>', summ) and
              re.search(r'<th>peak heap in the window</th>', summ) and
              re.search(r'<th>peak RSS \(whole run\)</th>', summ),
              f"#window={t0}-{t1}: the summary's labels\n{summ}")
        m = re.search(r'<tr data-kind="window"><td>[^<]*</td><td class="n" data-value="(\d+)">'
                      r'[^<]*</td><td class="n" data-value="(\d+)">', dom)
        check(m and (int(m.group(1)), int(m.group(2))) == (held, held_blocks),
              f"#window={t0}-{t1}: the leak totals' window row {m and m.groups()}")
        m = re.search(r'data-key="thread_allocations" data-value="(\d+)">[^<]*</td><td class="n" '
                      r'data-key="thread_bytes_allocated" data-value="(\d+)">(?:(?!</tr>).)*'
                      r'data-key="thread_held_bytes" data-value="(\d+)" data-blocks="(\d+)"', dom,
                      re.S)
        th = rep["threads"][0]
        check(m and tuple(map(int, m.groups())) == (allocs, nbytes, held, held_blocks) ==
              (th["allocations"], th["bytes_allocated"], th["held_bytes"], th["held_blocks"]),
              f"#window={t0}-{t1}: the thread's row {m and m.groups()}, report {th}")
        m = re.search(r'<svg[^>]*data-cost="peak"[^>]*data-total="(\d+)"', dom)
        check(m and int(m.group(1)) == peak == rep["peak_heap_bytes"] and
              'id="flame-peak-wnote"' not in dom and 'id="flame-leaked-wnote"' in dom,
              f"#window={t0}-{t1} ({fn}): the peak's flame graph {m and m.group(1)}, want {peak}")
        dom, err = browse(probe, f"?drag={t0}-{t1}")
        check(not console_errors(err), f"console errors: {console_errors(err)}")
        m = re.search(r'data-probe="([^"]*)"', dom)
        check(m, f"the drag probe did not run:\n{dom[-1500:]}")
        r = json.loads(html_lib.unescape(m.group(1)))
        mine = [row for row in r["rows"] if row[0].startswith(fn + " ")]
        others = [row for row in r["rows"] if not row[0].startswith(fn + " ")]
        check(len(mine) == 1 and mine[0][1:] == [allocs, nbytes, held] and
              all(row[1:] == [0, 0, 0] for row in others) and r["bands"] == len(r["rows"]),
              f"drag {t0}..{t1} ({fn}): {r}")
        # the drag redraws the flame graph and names the window in the address; the banner's
        # link goes back to the whole run (650,000 B allocated in all)
        check(r["dragged"]["flame"] == nbytes and r["dragged"]["held"] == held and
              r["dragged"]["window"] and
              r["dragged"]["hash"].startswith("#window=") and r["back"]["flame"] == 650000 and
              r["back"]["window"] == "" and r["back"]["banner"].startswith(
                  "This page shows the whole run"), f"drag {t0}..{t1} ({fn}), then back: {r}")
        # the chart draws the window's own blocks, a band per site, as its table holds them;
        # the summary follows the drag, and the way back restores the run's
        check(r["dragged"]["allocations"] == allocs and
              sorted(r["dragged"]["wbands"]) == sorted(row[3] for row in r["rows"]) and
              (r["back"]["allocations"], r["back"]["wbands"], r["back"]["notes"]) == (350, 0, 0),
              f"drag {t0}..{t1} ({fn}): the summary and the chart's bands {r}")


def page_wdata(text):
    """The window data the page embeds (the data-json of #mt-wdata)."""
    import html as html_lib
    import json
    m = re.search(r'<div id="mt-wdata" data-json="([^"]*)"', text)
    check(m, "the page has no window data")
    return json.loads(html_lib.unescape(m.group(1)))


def snap(t, f, to):
    """The buckets [a, b) the page takes for #window=f-to (mt_html_window_js)."""
    nb, a = len(t) - 1, 0
    while a < nb and t[a + 1] <= f:
        a += 1
    b = a + 1
    while b < nb and t[b] < to:
        b += 1
    return a, b


def group_figures(alloc, held, a, b):
    """A group's flat lists over the buckets [a, b): (calls, bytes) allocated in them, and
    the bytes of those still held at the window's end (README, Time windows)."""
    calls = sum(alloc[i + 1] for i in range(0, len(alloc), 3) if a <= alloc[i] < b)
    nbytes = sum(alloc[i + 2] for i in range(0, len(alloc), 3) if a <= alloc[i] < b)
    kept = sum(held[i + 2] for i in range(0, len(held), 3) if a <= held[i] < b < held[i + 1])
    return calls, nbytes, kept


def flame_boxes(text, cost="allocated"):
    """The boxes of the page's flame graph of that cost, in order: (name, depth)."""
    m = re.search(r'<svg[^>]*class="mt-flame"[^>]*data-cost="%s".*?</svg>' % cost, text, re.S)
    check(m, f"the page has no flame graph of {cost}")
    return [(name, int(d)) for d, name in
            re.findall(r'<g class="f[^"]*"[^>]*data-d="(\d+)"><title>([^\n<]*)', m.group(0))]


def flame_parents(boxes):
    """Each box's parent index (-1 for the root), from the boxes' depths in page order."""
    parent, up = [], []
    for i, (_, depth) in enumerate(boxes):
        while up and boxes[up[-1]][1] >= depth:
            up.pop()
        parent.append(up[-1] if up else -1)
        up.append(i)
    return parent


@case(120)
def case_html_window_data():
    """Issue 18: the data the HTML page redraws its flame graph of bytes allocated and its top
    sites table from. For each phase's window, as the page snaps it to buckets, every site row
    and every box of the flame graph gets exactly that phase's calls and bytes allocated and
    what of them was held at the window's end; the whole run adds up to the run's figures."""
    log, wins = phases_log("phases-wdata.mtr")
    p = memtrace("html", "-o", "-", log)
    check(p.returncode == 0, f"memtrace html\n{show(p)}")
    d = page_wdata(p.stdout)
    check("flame" in d and "sites" in d and "h" in d["flame"],
          f"no per-window data for the flame graph and the sites: keys {sorted(d)}")
    rows = re.search(r'<table class="sites">(.*?)</table>', p.stdout, re.S).group(1)
    row_fn = {int(w): fn for w, fn in
              re.findall(r'<tr data-w="(\d+)">.*?<span class="frame">(\w+)</span>', rows, re.S)}
    check(sorted(row_fn.values()) == sorted(x[0] for x in PHASES) and
          len(d["sites"]["a"]) == len(row_fn), f"site rows {row_fn}")
    boxes = flame_boxes(p.stdout)
    check(len(boxes) == len(d["flame"]["a"]) == len(d["flame"]["h"]) and boxes[0] == ("all", 0),
          f"{len(boxes)} boxes, {len(d['flame']['a'])} groups of data")
    parent = flame_parents(boxes)
    nb = len(d["t"]) - 1
    phase = {x[0]: (x[1], x[2], x[4]) for x in PHASES}  # calls, bytes, held at the end
    for fn, (t0, t1) in list(zip(phase, wins)) + [("run", ("0", "99"))]:
        a, b = snap(d["t"], float(t0), float(t1))
        check((a, b) == (0, nb) if fn == "run" else b - a < nb // 2,
              f"{fn}: the window {t0}..{t1} snaps to the buckets {a}..{b} of {nb}")

        def want(name):
            return phase[name] if fn in (name, "run") else (0, 0, 0)
        for r, name in row_fn.items():
            got = group_figures(d["sites"]["a"][r], d["sites"]["h"][r], a, b)
            check(got == want(name), f"window {t0}..{t1} ({fn}), site row {name}: {got}, "
                  f"want {want(name)}")
        # every box: its own figures plus its children's, as the page adds them up
        tot = [list(group_figures(d["flame"]["a"][i], d["flame"]["h"][i], a, b))
               for i in range(len(boxes))]
        for i in range(len(boxes) - 1, 0, -1):
            tot[parent[i]] = [x + y for x, y in zip(tot[parent[i]], tot[i])]
        root = (350, 650000, 250000) if fn == "run" else phase[fn]
        check(tuple(tot[0]) == root, f"window {t0}..{t1} ({fn}): the flame graph's root "
              f"{tot[0]}, want {root}")
        named = {name: tuple(fig) for (name, _), fig in zip(boxes, tot) if name in phase}
        check(named == {name: want(name) for name in phase},
              f"window {t0}..{t1} ({fn}): the boxes {named}")


def run_figures(run, a, b):
    """The run's group over the buckets [a, b), as the page adds it up (mt_html_window_js):
    calls, bytes allocated, frees, bytes freed, and bytes and blocks held at the end."""
    al, h = run["a"], run["h"]
    s = [0] * 6
    for i in range(0, len(al), 5):
        if a <= al[i] < b:
            for k in range(4):
                s[k] += al[i + 1 + k]
    for i in range(0, len(h), 4):
        if a <= h[i] < b < h[i + 1]:
            s[4] += h[i + 2]
            s[5] += h[i + 3]
        if h[i] < a < h[i + 1] <= b:  # allocated before the window, freed in it
            s[2] -= h[i + 3]
            s[3] -= h[i + 2]
    return tuple(s)


def held4(h, a, b):
    return (sum(h[i + 2] for i in range(0, len(h), 4) if h[i] >= a and h[i] < b < h[i + 1]),
            sum(h[i + 3] for i in range(0, len(h), 4) if h[i] >= a and h[i] < b < h[i + 1]))


def peak_figures(d, a, b):
    """The peak inside the buckets [a, b), as the page takes it (mt_html_window_js, peakFig):
    bytes and blocks of the window's blocks then, and when, in microseconds."""
    pk, best, at = d["peak"], d["peak"]["heap0"][a], -1
    for j in range(a, b):
        if pk["m"][j] is not None and pk["m"][j] > best:
            best, at = pk["m"][j], j
    if at < 0:
        return 0, 0, round(d["t"][a] * 1e6) + (1 if a else 0)
    sp = pk["split"][at]
    return (sum(sp[i + 1] for i in range(0, len(sp), 3) if sp[i] >= a),
            sum(sp[i + 2] for i in range(0, len(sp), 3) if sp[i] >= a), pk["at"][at])


def cli_bounds(t, a, b):
    """--from/--to of the buckets [a, b): a bucket begins just after its bound (the page's
    banner, data-cli)."""
    nb = len(t) - 1
    f = "0" if a == 0 else "%.6f" % ((round(t[a] * 1e6) + 1) / 1e6)
    return f, ("end" if b == nb else "%.6f" % t[b])


@case(180)
def case_html_window_report():
    """Issue 18: every figure the HTML page redraws for a window is the one `memtrace report
    --format json` (and `leaks`) gives for the same window: the summary (allocations, frees,
    bytes allocated and freed, held at the end), the leak totals, each thread's row, each site
    row and the flame graph of bytes allocated. On a crafted log of three phases whose blocks
    are freed buckets later, some allocated before a window and freed inside it, a realloc, and
    a second thread allocating at exactly the buckets' bounds."""
    exe = os.path.join(it.ARGS.build_root, "tests", "bounds", "mt_craft")
    log = os.path.join(it.TMP, "crafted-phases.mtr")
    p = it.run([exe, "phases", log])
    check(p.returncode == 0 and os.path.isfile(log), f"mt_craft phases\n{show(p)}")
    p = memtrace("html", "-o", "-", log)
    check(p.returncode == 0, f"memtrace html\n{show(p)}")
    d = page_wdata(p.stdout)
    check("run" in d and "threads" in d, f"no run or thread groups: keys {sorted(d)}")
    t, nb = d["t"], len(d["t"]) - 1
    check(nb == 64 and round(t[1] * 1e6) == 100, f"buckets {t[:3]}.. of {nb}")
    rows = re.search(r'<table class="sites">(.*?)</table>', p.stdout, re.S).group(1)
    row_site = {int(w): addr for w, addr in
                re.findall(r'<tr data-w="(\d+)">.*?<span class="frame">(0x[0-9a-f]+)</span>', rows,
                           re.S)}
    check(sorted(row_site.values()) == ["0x1000", "0x2000", "0x3000"], f"site rows {row_site}")
    boxes = flame_boxes(p.stdout)
    parent = flame_parents(boxes)
    # the whole run, each phase, windows across phases, windows that begin or end at the second
    # thread's allocations (at 4500, 4600, ... us: bounds 45 to 49), one bucket alone
    wins = [(0, 64), (0, 1), (0, 20), (1, 31), (20, 30), (25, 35), (29, 32), (30, 31), (31, 45),
            (44, 46), (45, 50), (46, 64), (49, 51), (50, 52), (52, 53), (50, 64), (63, 64),
            (2, 64)]
    seen_pre_free = False
    for a, b in wins:
        f, to = cli_bounds(t, a, b)
        w = ["--from", f, "--to", to]
        rep = json_of("report", "--format", "json", *w, log)
        want = tuple(rep[k] for k in ("allocations", "bytes_allocated", "frees", "bytes_freed",
                                      "leaked_bytes", "leaked_blocks"))
        got = run_figures(d["run"], a, b)
        check(got == want, f"buckets {a}..{b} ({' '.join(w)}): the summary {got}, report {want}")
        pk = peak_figures(d, a, b)
        want_pk = (rep["peak_heap_bytes"], rep["peak_heap_blocks"], round(rep["peak_time_s"] * 1e6))
        check(pk == want_pk, f"buckets {a}..{b} ({' '.join(w)}): the peak {pk}, report {want_pk}")
        seen_pre_free |= any(d["run"]["h"][i] < a < d["run"]["h"][i + 1] <= b
                             for i in range(0, len(d["run"]["h"]), 4))
        lk = json_of("leaks", "--format", "json", *w, log)
        un = lk["totals"].get("unclassified") or {}
        check((un.get("bytes", 0), un.get("blocks", 0)) == got[4:],
              f"buckets {a}..{b}: the leak totals {got[4:]}, leaks {lk['totals']}")
        thr = {x["tid"]: x for x in rep["threads"]}
        for i, tid in enumerate(d["threads"]["tid"]):
            x = thr.get(tid, {})
            calls, nbytes, _ = group_figures(d["threads"]["a"][i], [], a, b)
            hb = held4(d["threads"]["h"][i], a, b)
            want_t = tuple(x.get(k, 0) for k in ("allocations", "bytes_allocated", "held_bytes",
                                                  "held_blocks"))
            check((calls, nbytes) + hb == want_t, f"buckets {a}..{b}: thread {tid} "
                  f"{(calls, nbytes) + hb}, report {want_t}")
        sites = {s["stack"][0]["address"]: (s["allocations"], s["bytes"], s["leaked_bytes"])
                 for s in rep["top_sites"]}
        for r, addr in row_site.items():
            got_s = group_figures(d["sites"]["a"][r], d["sites"]["h"][r], a, b)
            check(got_s == sites.get(addr, (0, 0, 0)), f"buckets {a}..{b}: site {addr} {got_s}, "
                  f"report {sites.get(addr)}")
        tot = [list(group_figures(d["flame"]["a"][i], d["flame"]["h"][i], a, b))
               for i in range(len(boxes))]
        for i in range(len(boxes) - 1, 0, -1):
            tot[parent[i]] = [x + y for x, y in zip(tot[parent[i]], tot[i])]
        check(tuple(tot[0]) == (want[0], want[1], want[4]),
              f"buckets {a}..{b}: the flame graph's root {tot[0]}")
    check(seen_pre_free, "no window has blocks allocated before it and freed inside it")
    # the flame graph of the peak: each box at the window's peak, as export --cost peak has it
    # (a site of no cost at the run's peak, 0x3000, is the root's own)
    pboxes = flame_boxes(p.stdout, "peak")
    check("peakflame" in d and len(d["peakflame"]) == len(pboxes) and
          sorted(x[0] for x in pboxes) == ["0x1000", "0x2000", "all"],
          f"peak flame graph {pboxes}, data {len(d.get('peakflame', []))} boxes")
    for a, b in wins:
        f, to = cli_bounds(t, a, b)
        pk = d["peak"]
        best, at = pk["heap0"][a], -1
        for j in range(a, b):
            if pk["m"][j] is not None and pk["m"][j] > best:
                best, at = pk["m"][j], j
        own = [sum(l[k + 2] for k in range(0, len(l), 3) if l[k] == at and l[k + 1] >= a)
               for l in d["peakflame"]]
        box = dict(zip((x[0] for x in pboxes), own))
        folded = memtrace("export", "--to", "folded", "--cost", "peak", "--from", f, "--to", to,
                          log)
        want = {ln.rsplit(" ", 1)[0]: int(ln.rsplit(" ", 1)[1])
                for ln in folded.stdout.splitlines() if ln.strip()}
        got = {"0x1000": box["0x1000"], "0x2000": box["0x2000"], "0x3000": box["all"]}
        check(folded.returncode == 0 and
              {k: v for k, v in got.items() if v} == {k: v for k, v in want.items() if v} and
              sum(own) == peak_figures(d, a, b)[0],
              f"buckets {a}..{b}: the peak's flame graph {got}, export folded {want}")


PY_PHASES = """\
import time
KEEP = []
def keep(n):
    return [str(i) * 3 for i in range(n)]  # kept to the end
def churn(n):
    return sum(len(str(i * i)) for i in range(n))  # temporaries only
def grow(n):
    return {i: (i, i) for i in range(n)}  # kept too
time.sleep(0.2)
KEEP.append(keep(20000))
time.sleep(0.2)
TOTAL = churn(50000)
time.sleep(0.2)
KEEP.append(grow(20000))
time.sleep(0.2)
"""


@case(180, needs="python_frames")
def case_html_window_lines():
    """Issue 18: the HTML page's table of the script line by line follows its window: for
    windows across the three phases of a script, each line's allocations, bytes allocated and
    bytes held at the window's end, own and incl., are those of `memtrace lines --from --to
    --format json`."""
    script = os.path.join(it.TMP, "py_phases.py")
    with open(script, "w", encoding="utf-8") as f:
        f.write(PY_PHASES)
    log, _ = it.py_run("py_phases.mtr", script)
    p = memtrace("html", "-o", "-", log)
    check(p.returncode == 0, f"memtrace html\n{show(p)}")
    d = page_wdata(p.stdout)
    check("lines" in d and len(d["lines"]["line"]) >= 3 and "flame" in d and "sites" in d,
          f"no lines, flame or sites in the window data: "
          f"{sorted(d)} {d.get('lines', {}).get('line')}")
    t, nb = d["t"], len(d["t"]) - 1
    L = d["lines"]
    # windows that end before the script does: past its end `lines` holds at the script's end,
    # the page at the window's (README)
    e = max(b for b in range(nb + 1) if t[b] < d.get("script_end_s", 0))
    check(e > 32, f"the script ended at {d.get('script_end_s')}, bounds {t}")
    for a, b in ((0, e), (0, e // 4), (e // 5, e // 2), (e // 4, 3 * e // 4), (e // 2, e),
                 (e // 3, e // 3 + 1), (1, e - 1)):
        f, to = cli_bounds(t, a, b)
        rep = json_of("lines", "--format", "json", "--from", f, "--to", to, log)
        rows = {row["line"]: row for fn in rep.get("functions") or [] for row in fn["lines"]}
        for i, line in enumerate(L["line"]):
            for k in ("own", "incl"):
                calls, nbytes, held = group_figures(L[k]["a"][i], L[k]["h"][i], a, b)
                r = rows.get(line, {}).get(k, {})
                want = (r.get("allocations", 0), r.get("bytes_allocated", 0),
                        r.get("end_bytes", 0))
                check((calls, nbytes, held) == want, f"buckets {a}..{b} (--from {f} --to {to}): "
                      f"line {line} {k} {(calls, nbytes, held)}, lines {want}")

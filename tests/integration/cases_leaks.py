# SPDX-License-Identifier: MIT
# The leak check: samples/leak_kinds holds one leak of each kind with exact sizes; exit codes,
# suppressions, the CI formats (SARIF, JUnit) and valgrind's totals.
import json
import os
import re
import shutil

import mt_harness as it
from mt_harness import (Skip, check, show, memtrace, record, report_json, leaks_json,
                        LEAK_KINDS, valgrind_totals)

case = it.suite("integration")


# ---- the leak check: samples/leak_kinds holds one leak of each kind with exact sizes ----

LEAKS_LINE = re.compile(r"^memtrace-leaks: definite=(\d+)/(\d+) indirect=(\d+)/(\d+) "
                        r"possible=(\d+)/(\d+) reachable=(\d+)/(\d+)\s*$", re.M)


def leak_sample():
    prog = os.path.join(it.ARGS.build_root, "samples", "leak_kinds")
    if not os.path.isfile(prog):
        raise Skip(f"{prog} is not built yet (samples/leak_kinds.c)")
    return prog


def leak_truth(stdout):
    m = LEAKS_LINE.findall(stdout)
    check(m, f"leak_kinds printed no memtrace-leaks line:\n{stdout[-2000:]}")
    v = [int(x) for x in m[-1]]
    return {k: (v[2 * i], v[2 * i + 1]) for i, k in enumerate(LEAK_KINDS)}


def recorded_leak_sample():
    """Runs leak_kinds under `memtrace run --leak-check`; returns (log, ground truth)."""
    prog = leak_sample()
    log = os.path.join(it.TMP, "leak_kinds.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    check(p.returncode == 0, f"memtrace run --leak-check leak_kinds\n{show(p)}")
    return log, leak_truth(p.stdout)


def leak_totals(rep):
    check(rep.get("classified") is True,
          f"the log has no leak scan (classified={rep.get('classified')}):\n{rep}")
    return {k: (rep["totals"][k]["bytes"], rep["totals"][k]["blocks"]) for k in LEAK_KINDS}


@case(60)
def case_leaks_kinds():
    log, truth = recorded_leak_sample()
    rep = leaks_json(log)
    got = leak_totals(rep)
    check(got == truth, f"leak totals {got}, the sample says {truth}")
    check(rep["suppressed"] == {"bytes": 0, "blocks": 0}, f"suppressed: {rep['suppressed']}")
    # default kinds: no reachable record; the lost list's head owns its nodes' bytes
    kinds = sorted(r["kind"] for r in rep["leaks"])
    check(kinds == ["definite", "definite", "indirect", "possible"], f"leak records: {kinds}")
    head = [r for r in rep["leaks"] if r["kind"] == "definite" and r["indirect_bytes"]]
    check(len(head) == 1 and head[0]["bytes"] + head[0]["indirect_bytes"] ==
          truth["definite"][0] - 100 + truth["indirect"][0],
          f"no definite record owning the indirect bytes: {rep['leaks']}")
    check(head[0]["stack"] and head[0]["stack"][0]["function"] == "lost_list",
          f"the lost list's stack does not start in lost_list: {head[0]['stack'][:3]}")
    check(rep["leaks"][0]["bytes"] + rep["leaks"][0]["indirect_bytes"] >=
          rep["leaks"][-1]["bytes"] + rep["leaks"][-1]["indirect_bytes"], "not biggest first")
    everything = leaks_json(log, "--kinds", "all")
    check(sum(1 for r in everything["leaks"] if r["kind"] == "reachable") >= 1,
          "--kinds all lists no reachable record")
    # `memtrace report` carries the same totals
    summary = report_json(log)
    check({k: (summary["leaks"][k]["bytes"], summary["leaks"][k]["blocks"])
           for k in LEAK_KINDS} == truth, f"report's leaks: {summary.get('leaks')}")
    text = memtrace("leaks", "--no-color", log)
    check(text.returncode == 0 and "are definitely lost in loss record 1 of 4" in text.stdout and
          "LEAK SUMMARY" in text.stdout, f"text report\n{show(text)}")
    # a log recorded without --leak-check says so
    plain = os.path.join(it.TMP, "plain.mtr")
    record(plain, leak_sample())
    rep = leaks_json(plain)
    check(rep["classified"] is False and rep["totals"]["definite"] is None and
          rep["totals"]["unclassified"]["bytes"] >= sum(b for b, _ in truth.values()),
          f"unclassified log: {rep['totals']}")


@case(90)
def case_leaks_exitcode():
    prog = leak_sample()
    p = memtrace("run", "--error-exitcode=3", "-o", os.path.join(it.TMP, "a.mtr"), "--", prog)
    check(p.returncode == 3, f"run --error-exitcode=3 on leak_kinds\n{show(p)}")
    check("definitely lost" in p.stderr, f"no leak report on stderr\n{show(p)}")
    last = p.stderr.strip().splitlines()[-1]
    # definite 196 + possible 64 fail; the largest group is lost_list's 96 + 96 indirect
    with open(os.path.join(it.ARGS.source_root, "samples", "leak_kinds.c")) as f:
        src = f.read().splitlines()
    head = 1 + next(i for i, l in enumerate(src) if "struct node **head = malloc(96);" in l)
    want = ("memtrace: leak check: exit status 3 (--error-exitcode): 260 bytes of leaks of a "
            "failing kind (--fail-on), the largest (definitely lost) allocated at "
            f"leak_kinds.c:{head} in lost_list; {prog} itself exited 0")
    check(last == want, f"the last line should say why the status is 3:\n{last!r}\n{want!r}")
    # -q: no report, exactly that line and where to see the report (it was the whole report)
    log = os.path.join(it.TMP, "q.mtr")
    p = memtrace("run", "-q", "--error-exitcode=3", "-o", log, "--", prog)
    check(p.returncode == 3 and p.stderr == f"{want}; see memtrace leaks {log}\n",
          f"-q: one line expected\n{show(p)}")
    # -q without --error-exitcode: the status stays the program's, the line says what fails
    log = os.path.join(it.TMP, "q2.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    check(p.returncode == 0 and p.stderr == want.replace(" exit status 3 (--error-exitcode):", "")
          + f"; see memtrace leaks {log}\n", f"-q --leak-check: one line expected\n{show(p)}")
    # --fail-leaked-above: 260 failing bytes pass a limit of 260, not one of 259
    for limit, status in (("260", 0), ("259", 3)):
        p = memtrace("run", "-q", "--error-exitcode=3", "--fail-leaked-above", limit, "-o",
                     os.path.join(it.TMP, f"l{limit}.mtr"), "--", prog)
        check(p.returncode == status and (status or p.stderr == ""),
              f"--fail-leaked-above {limit}: expected exit {status}\n{show(p)}")
    p = memtrace("run", "-q", "--error-exitcode", "3", "--fail-on", "reachable", "-o",
                 os.path.join(it.TMP, "b.mtr"), "--", prog)
    check(p.returncode == 3, f"--fail-on reachable: the sample keeps 200 bytes\n{show(p)}")
    # suppress every lost block: LSan format for two, valgrind format for the list
    lsan = os.path.join(it.TMP, "lsan.supp")
    with open(lsan, "w") as f:
        f.write("# LeakSanitizer\nleak:lost_block\nleak:possible_block\n")
    vg = os.path.join(it.TMP, "vg.supp")
    with open(vg, "w") as f:
        f.write("{\n   the lost list\n   Memcheck:Leak\n   match-leak-kinds: definite,indirect\n"
                "   fun:malloc\n   fun:lost_list\n   ...\n}\n")
    log = os.path.join(it.TMP, "c.mtr")
    p = memtrace("run", "-q", "--error-exitcode=3", "--suppressions", lsan,
                 "--suppressions=" + vg, "-o", log, "--", prog)
    check(p.returncode == 0, f"every lost block suppressed, yet\n{show(p)}")
    check(p.stderr == "", f"-q and no failing leak: nothing on stderr\n{show(p)}")
    rep = leaks_json(log, "--suppressions", lsan, "--suppressions", vg, "--error-exitcode", "4")
    for k in ("definite", "indirect", "possible"):
        check(rep["totals"][k] == {"bytes": 0, "blocks": 0}, f"{k} left: {rep['totals']}")
    check(rep["suppressed"]["bytes"] > 0, f"suppressed: {rep['suppressed']}")
    used = {s["name"]: s["matched_leaks"] for s in rep["suppressions"]}
    check(used == {"leak:lost_block": 1, "leak:possible_block": 1, "the lost list": 2},
          f"suppressions matched {used}")
    # `leaks` exits 0 unless asked; then with the code asked for
    check(memtrace("leaks", log).returncode == 0, "memtrace leaks without --error-exitcode")
    p = memtrace("leaks", "--error-exitcode", "4", os.path.join(it.TMP, "a.mtr"))
    check(p.returncode == 4, f"memtrace leaks --error-exitcode 4\n{show(p)}")
    # generated suppressions, fed back, suppress what they were made from
    gen = memtrace("leaks", "--gen-suppressions", "--kinds", "all", os.path.join(it.TMP, "a.mtr"))
    check(gen.returncode == 0 and "Memcheck:Leak" in gen.stdout, f"--gen-suppressions\n{show(gen)}")
    blocks = gen.stdout[gen.stdout.index("{"):]
    gfile = os.path.join(it.TMP, "gen.supp")
    with open(gfile, "w") as f:
        f.write(blocks)
    rep = leaks_json(os.path.join(it.TMP, "a.mtr"), "--suppressions", gfile, "--fail-on", "all",
                     "--error-exitcode", "5")
    check(all(rep["totals"][k]["bytes"] == 0 for k in LEAK_KINDS),
          f"generated suppressions left {rep['totals']}")
    # usage errors are one line and exit 2
    for argv in (["leaks", "--kinds", "lost", log], ["leaks", "--format", "xml", log],
                 ["leaks", "--suppressions", os.path.join(it.TMP, "nope.supp"), log],
                 ["run", "--fail-on", "bogus", "--", prog],
                 ["run", "--error-exitcode=300", "--", prog]):
        p = memtrace(*argv)
        check(p.returncode == 2 and p.stderr.count("\n") == 1 and
              p.stderr.startswith("memtrace: "), f"memtrace {' '.join(argv)}\n{show(p)}")
    bad = os.path.join(it.TMP, "bad.supp")
    with open(bad, "w") as f:
        f.write("{\n  x\n  Memcheck:Leak\n  fun:a\n  bogus line\n}\n")
    p = memtrace("leaks", "--suppressions", bad, log)
    check(p.returncode == 2 and f"{bad}:5:" in p.stderr, f"parse error with file:line\n{show(p)}")


@case(60)
def case_leaks_formats():
    import xml.etree.ElementTree as ET
    log, truth = recorded_leak_sample()
    p = memtrace("leaks", "--format", "sarif", "-o", os.path.join(it.TMP, "out.sarif"), log,
                 cwd=it.ARGS.source_root)
    check(p.returncode == 0, f"--format sarif\n{show(p)}")
    with open(os.path.join(it.TMP, "out.sarif")) as f:
        sarif = json.load(f)
    check(sarif["version"] == "2.1.0" and "sarif" in sarif["$schema"], "SARIF version/$schema")
    run0 = sarif["runs"][0]
    drv = run0["tool"]["driver"]
    check(drv["name"] == "memtrace" and drv["version"] and drv["informationUri"], f"driver {drv}")
    rule_ids = {r["id"] for r in drv["rules"]}
    res = run0["results"]
    check(len(res) == 4, f"{len(res)} SARIF results, expected 4 (2 definite, indirect, possible)")
    for r in res:
        check(r["ruleId"] in rule_ids and r["level"] in ("error", "warning") and
              r["message"]["text"], f"result {r}")
        loc = r["locations"][0]["physicalLocation"]
        # relative to the source root (memtrace ran there), so code-scanning UIs can place it
        check(loc["artifactLocation"]["uri"] == "samples/leak_kinds.c" and
              loc["artifactLocation"].get("uriBaseId") == "%SRCROOT%" and
              isinstance(loc["region"]["startLine"], int) and loc["region"]["startLine"] > 0,
              f"location {loc}")
        check(r["codeFlows"][0]["threadFlows"][0]["locations"], "no stack in codeFlows")
    levels = sorted((r["ruleId"], r["level"]) for r in res)
    check(("memtrace/definite-leak", "error") in levels and
          ("memtrace/indirect-leak", "warning") in levels, f"levels {levels}")
    p = memtrace("leaks", "--format", "junit", log)
    check(p.returncode == 0, f"--format junit\n{show(p)}")
    root = ET.fromstring(p.stdout)
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    check(suite is not None and suite.get("name") == "memtrace.leaks", "no memtrace.leaks suite")
    cases = suite.findall("testcase")
    # One case per listed leak, failed when --fail-on (default definite,possible) names its
    # kind: two definite and one possible fail, the indirect one passes.
    failed = sorted(c.get("classname") for c in cases if c.find("failure") is not None)
    check(len(cases) == 4 and suite.get("failures") == "3" and
          failed == ["memtrace.leaks.definite"] * 2 + ["memtrace.leaks.possible"],
          f"JUnit: {p.stdout[:2000]}")
    # --kinds none lists nothing, but the failing leaks still fail the suite (they once gave
    # a "no leaks" pass), in one case with their bytes.
    p = memtrace("leaks", "--format", "junit", "--kinds", "none", log)
    suite = ET.fromstring(p.stdout).find("testsuite")
    cases = suite.findall("testcase")
    check(len(cases) == 1 and cases[0].find("failure") is not None and
          suite.get("failures") == "1" and "260 bytes" in cases[0].find("failure").get("message"),
          f"JUnit --kinds none: {p.stdout[:2000]}")
    # --fail-on none: every leak listed, none failing
    p = memtrace("leaks", "--format", "junit", "--fail-on", "none", log)
    suite = ET.fromstring(p.stdout).find("testsuite")
    cases = suite.findall("testcase")
    check(len(cases) == 4 and suite.get("failures") == "0" and
          all(c.find("failure") is None for c in cases), f"JUnit --fail-on none: {p.stdout[:2000]}")
    # --kinds none --fail-on none: one passing case, which says there were leaks (it was a
    # "no leaks" pass for a log with 4 loss records of lost blocks)
    p = memtrace("leaks", "--format", "junit", "--kinds", "none", "--fail-on", "none", log)
    suite = ET.fromstring(p.stdout).find("testsuite")
    cases = suite.findall("testcase")
    check(len(cases) == 1 and suite.get("failures") == "0" and cases[0].get("name") ==
          "4 leaks (356 bytes) not listed (--kinds), none of a failing kind (--fail-on)",
          f"JUnit --kinds none --fail-on none: {p.stdout[:2000]}")
    # --kinds definite with --fail-on definite,possible: the possible leak is not listed but
    # still fails the suite, with its 64 bytes
    p = memtrace("leaks", "--format", "junit", "--kinds", "definite", log)
    suite = ET.fromstring(p.stdout).find("testsuite")
    cases = suite.findall("testcase")
    check(len(cases) == 3 and suite.get("failures") == "3" and
          cases[2].find("failure").get("message") ==
          "64 bytes of failing kinds (--fail-on), not listed here (--kinds)",
          f"JUnit --kinds definite: {p.stdout[:2000]}")


@case(300)
def case_leaks_valgrind():
    prog = leak_sample()
    if not shutil.which("valgrind"):
        raise Skip("valgrind is not installed")
    log, truth = recorded_leak_sample()
    got = leak_totals(leaks_json(log))
    vg, _ = valgrind_totals([prog])
    check(got == vg, f"memtrace {got} vs valgrind {vg}")
    check(got == truth, f"memtrace {got} vs the sample's {truth}")


@case(300)
def case_leaks_valgrind_cpp():
    """std::map of strings and a shared_ptr cycle: the kinds and bytes must be valgrind's."""
    prog = os.path.join(it.ARGS.build_root, "samples", "leak_cpp")
    if not shutil.which("valgrind"):
        raise Skip("valgrind is not installed")
    log = os.path.join(it.TMP, "leak_cpp.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    check(p.returncode == 0, f"memtrace run --leak-check leak_cpp\n{show(p)}")
    got = leak_totals(leaks_json(log))
    vg, _ = valgrind_totals([prog])
    check(got["definite"][1] > 0 and got["indirect"][1] > 0, f"leak_cpp leaks nothing? {got}")
    check(got == vg, f"memtrace {got} vs valgrind {vg}")


@case(120)
def case_leaks_sites_without_lines():
    """Four leaks from four calls in a function without line information: four loss records
    of 100, 200, 300 and 400 bytes, each at its own return address, as memcheck gives them
    (they were one record of 1,000 bytes at the first call's address)."""
    prog = it.built("tests", "integration", "leak_sites_nodebug")
    log = os.path.join(it.TMP, "leak_sites_nodebug.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    check(p.returncode == 0, f"memtrace run --leak-check leak_sites_nodebug\n{show(p)}")
    rep = leaks_json(log)
    mine = [k for k in rep["leaks"] if k["kind"] == "definite"]
    sizes = sorted(k["bytes"] for k in mine)
    check(sizes == [100, 200, 300, 400], f"definite loss records of {sizes} bytes, want 4")
    addresses = {k["stack"][0].get("address") for k in mine}
    check(len(addresses) == 4, f"the records' innermost frames: {addresses}")
    if shutil.which("valgrind"):
        vg = it.run(["valgrind", "--leak-check=full", prog], timeout=120)
        records = re.findall(r"definitely lost in loss record", vg.stderr)
        check(len(records) == len(mine), f"valgrind: {len(records)} records, memtrace "
              f"{len(mine)}")


LEAK_THREADS_LINE = re.compile(r"^memtrace-leak-threads: definite=(\d+)/(\d+) "
                               r"worker_blocks=(\d+)/(\d+)", re.M)


@case(60)
def case_leaks_threads_running():
    """Threads still running at exit: held still, their blocks reachable, no hang."""
    prog = os.path.join(it.ARGS.build_root, "samples", "leak_threads")
    log = os.path.join(it.TMP, "leak_threads.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    check(p.returncode == 0, f"memtrace run --leak-check leak_threads\n{show(p)}")
    m = LEAK_THREADS_LINE.search(p.stdout)
    check(m, f"leak_threads printed no result line\n{show(p)}")
    definite, worker = (int(m[1]), int(m[2])), (int(m[3]), int(m[4]))
    got = leak_totals(leaks_json(log))
    check(got["definite"] == definite, f"definite {got['definite']}, the sample says {definite}")
    check(got["indirect"] == (0, 0), f"indirect {got['indirect']}")
    # Reachable: the workers' blocks, plus whatever glibc keeps (nothing of its own here).
    check(got["reachable"][0] >= worker[0] and got["reachable"][1] >= worker[1],
          f"reachable {got['reachable']} does not hold the workers' {worker}")

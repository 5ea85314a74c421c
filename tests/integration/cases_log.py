# SPDX-License-Identifier: MIT
# Reading the log: what is not a log, a log cut in the middle of a chunk, and the same reports
# whether the log is decoded on a second thread or not.
import json
import os

import mt_harness as it
from mt_harness import check, show, run, memtrace, record, report_json

case = it.suite("integration")


@case(30)
def case_report_not_a_log():
    bad = os.path.join(it.TMP, "notalog.mtr")
    with open(bad, "w") as f:
        f.write("this is not a memtrace log\n" * 10)
    p = memtrace("report", bad)
    check(p.returncode != 0, f"report of a non-log should fail\n{show(p)}")
    lines = p.stderr.strip().splitlines()
    check(len(lines) == 1 and lines[0].startswith("memtrace: "),
          f"expected one 'memtrace: ...' line on stderr\n{show(p)}")
    p = memtrace("report", os.path.join(it.TMP, "does-not-exist.mtr"))
    check(p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1,
          f"report of a missing file\n{show(p)}")
    empty = os.path.join(it.TMP, "empty.mtr")
    open(empty, "w").close()
    p = memtrace("report", empty)
    check(p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1,
          f"report of an empty file\n{show(p)}")


def chunk_offsets(path):
    """File offsets of the chunks of a log (docs/log-format.md: 32-byte header, then chunks of
    a 16-byte header "MTCK" (deflate), "MTZF" or "MTZC" (zstd), compressed length, raw length,
    crc32, and the compressed bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"MEMTRACE", f"{path} is not a memtrace log")
    offs, pos = [], int.from_bytes(data[10:12], "little")
    while pos + 16 <= len(data) and data[pos:pos + 4] in (b"MTCK", b"MTZF", b"MTZC"):
        offs.append(pos)
        pos += 16 + int.from_bytes(data[pos + 4:pos + 8], "little")
    return offs, len(data)


@case(180)
def case_report_truncated():
    log = os.path.join(it.TMP, "big.mtr")
    # PYTHONMALLOC=malloc sends every object through malloc: plenty of events, several chunks.
    env = dict(os.environ, PYTHONMALLOC="malloc")
    record(log, "/usr/bin/python3", "-c",
           "x = [str(i) * 3 for i in range(300000)]\nfor i in range(300000): x[i % 1000] = [i]",
           env=env)
    full = report_json(log)
    offs, size = chunk_offsets(log)
    check(len(offs) >= 3, f"expected several chunks in {log} ({size} bytes), found {len(offs)}")
    # Cut in the middle of a chunk past the first: what precedes it must still be reported.
    mid = offs[len(offs) // 2]
    cut_at = mid + 16 + (offs[len(offs) // 2 + 1] - mid - 16) // 2
    cut = os.path.join(it.TMP, "cut.mtr")
    with open(log, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(cut_at))
    p = memtrace("report", cut)
    check(p.stdout.strip() != "", f"a truncated log should still give a report\n{show(p)}")
    check("truncat" in p.stderr.lower() or "truncat" in p.stdout.lower(),
          f"the report should say the log is truncated\n{show(p)}")
    check(len(p.stderr.strip().splitlines()) <= 2, f"expected a short warning\n{show(p)}")
    pj = memtrace("report", "--format", "json", cut)
    check(pj.stdout.strip() != "", f"json report of a truncated log\n{show(pj)}")
    part = json.loads(pj.stdout)
    check(part.get("truncated") is True, f"JSON should say truncated: {part.get('truncated')}")
    check(0 < part.get("allocations", 0) < full["allocations"],
          f"truncated report should cover part of the run: {part.get('allocations')} of "
          f"{full['allocations']}")


# ---- the writer's compressor ----

def libdeflate_levels():
    """{level: function deflating bytes as libdeflate at that level does (raw deflate)} for the
    writer's levels 6 and 9, through ctypes; None when the build has no libdeflate
    (mt_config.h) or the library cannot be loaded."""
    import ctypes
    with open(os.path.join(it.ARGS.build_root, "mt_config.h")) as f:
        if "#define MT_HAVE_LIBDEFLATE 1" not in f.read():
            return None
    try:
        lib = ctypes.CDLL("libdeflate.so.0")
    except OSError:
        return None
    lib.libdeflate_alloc_compressor.restype = ctypes.c_void_p
    lib.libdeflate_alloc_compressor.argtypes = [ctypes.c_int]
    lib.libdeflate_deflate_compress.restype = ctypes.c_size_t
    lib.libdeflate_deflate_compress.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                                ctypes.c_char_p, ctypes.c_size_t]

    def deflater(level):
        comp = lib.libdeflate_alloc_compressor(level)

        def deflate(raw):
            out = ctypes.create_string_buffer(len(raw) + len(raw) // 8 + 4096)
            n = lib.libdeflate_deflate_compress(comp, raw, len(raw), out, len(out))
            return out.raw[:n]
        return deflate
    return {6: deflater(6), 9: deflater(9)}


def varint(b, i):
    """The LEB128 varint at b[i:]: (value, index after it)."""
    v = shift = 0
    while True:
        v |= (b[i] & 0x7f) << shift
        shift += 7
        i += 1
        if b[i - 1] < 0x80:
            return v, i


def timed_records(raw):
    """The timed records of a raw chunk: the counts of its clock pairs (stream T, the sixth)."""
    lens, i = [], 0
    for _ in range(9):
        n, i = varint(raw, i)
        lens.append(n)
    i += sum(lens[:5])
    end, total = i + lens[5], 0
    while i < end:
        n, i = varint(raw, i)
        _, i = varint(raw, i)
        total += n
    return total


def deflate_levels_of(log, levels):
    """Per chunk of the log: the levels whose libdeflate output it is byte for byte (both,
    now and then: levels 6 and 9 can parse a chunk alike), after checking that it inflates to
    what its header's lengths and CRC say; and whether the chunk before it deflated 16:1 or
    better, or its timed records took 2 bits each or less (io/deflater.h)."""
    import zlib
    offs, _ = chunk_offsets(log)
    with open(log, "rb") as f:
        data = f.read()
    got, dense = [], False
    for off in offs:
        clen = int.from_bytes(data[off + 4:off + 8], "little")
        rlen = int.from_bytes(data[off + 8:off + 12], "little")
        crc = int.from_bytes(data[off + 12:off + 16], "little")
        packed = data[off + 16:off + 16 + clen]
        raw = zlib.decompress(packed, -15)
        check(len(raw) == rlen and zlib.crc32(raw) == crc,
              f"chunk at {off}: {len(raw)} bytes, crc {zlib.crc32(raw):#x}; header says "
              f"{rlen}, {crc:#x}")
        got.append(({lv for lv, fn in levels.items() if fn(raw) == packed}, dense, rlen, clen))
        dense = rlen >= 16 * clen or timed_records(raw) >= 4 * clen
    return got


@case(120)
def case_log_deflated_by_libdeflate():
    """Under `memtrace run` with MEMTRACE_LOG_ZSTD=0 (deflate chunks, as a starved program
    thread writes them) every chunk is libdeflate's output byte for byte (the writer thread's
    deflate was the largest cost of recording with zlib: io/deflater.c): level 6, or level 9
    after a chunk that deflated 16:1 or better or whose records took 2 bits each: a Python
    run's chunks (its first two sparse, the rest dense), and those of a program repeating one
    allocation (dense from the first on). The Python run makes about 2 MB of records, so that
    at least two full buffers follow a dense chunk however the 200 ms timer cuts the rest (with
    0.7 MB a loaded machine cut it into one dense chunk and one level-9 chunk only)."""
    levels = libdeflate_levels()
    if levels is None:
        raise it.Skip("built without libdeflate")
    log = os.path.join(it.TMP, "deflated.mtr")
    env = dict(os.environ, PYTHONMALLOC="malloc", MEMTRACE_LOG_ZSTD="0")
    record(log, "/usr/bin/python3", "-c", "x = [str(i) * 3 for i in range(1000000)]", env=env)
    exe = it.build_c("dense_churn", r"""
#include <stdlib.h>
int main(void)
{
    for (int i = 0; i < 3000000; i++) {
        void *volatile p = malloc(48);
        free(p);
    }
    return 0;
}
""")
    dense_log = os.path.join(it.TMP, "dense.mtr")
    # without REPEAT (log version 6), which says the whole loop in one chunk of 3 KB
    record(dense_log, exe, env=dict(os.environ, MEMTRACE_LOG_REPEAT="0", MEMTRACE_LOG_ZSTD="0"))
    for path, min_dense in ((log, 2), (dense_log, 10)):
        got = deflate_levels_of(path, levels)
        check(len(got) >= 2, f"expected several chunks in {path}, found {len(got)}")
        check(all(levels_of for levels_of, _, _, _ in got),
              f"{path}: a chunk is neither libdeflate level 6's output nor level 9's: {got}")
        check(6 in got[0][0], f"{path}: the first chunk is not level 6's: {got}")
        off_rule = [i for i, (levels_of, after_dense, _, _) in enumerate(got)
                    if (9 if after_dense else 6) not in levels_of]
        check(not off_rule, f"{path}: chunks {off_rule} break the rule: {got}")
        n_dense = sum(levels_of == {9} for levels_of, _, _, _ in got)
        check(n_dense >= min_dense,
              f"{path}: {n_dense} chunks only level 9 makes, not {min_dense}: {got}")


# ---- the analysis on two cores gives what it gives on one ----

@case(180)
def case_analysis_threads_same():
    """Every report is byte for byte the same whether the log is decoded on a second thread
    (the default) or on the replay's own (MEMTRACE_ANALYSIS_THREADS=1): logs of several chunks,
    threads, the leak check, mmap, and a log cut in the middle of a chunk."""
    logs = []
    big = os.path.join(it.TMP, "big.mtr")
    record(big, "/usr/bin/python3", "-c",
           "x = [str(i) * 3 for i in range(200000)]\nfor i in range(200000): x[i % 1000] = [i]",
           env=dict(os.environ, PYTHONMALLOC="malloc"))
    offs, size = chunk_offsets(big)
    check(len(offs) >= 3, f"expected several chunks in {big} ({size} bytes), found {len(offs)}")
    cut = os.path.join(it.TMP, "cut.mtr")
    mid = offs[len(offs) // 2]
    with open(big, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(mid + 16 + (offs[len(offs) // 2 + 1] - mid - 16) // 2))
    logs += [big, cut]
    for name, opts in (("leak_kinds", ["--leak-check"]), ("threads", []), ("fragment", []),
                       ("mmap_user", [])):
        exe = os.path.join(it.ARGS.build_root, "samples", name)
        if not os.path.isfile(exe):
            continue
        log = os.path.join(it.TMP, name + ".mtr")
        p = memtrace("run", *opts, "-o", log, "--", exe)
        check(os.path.isfile(log), f"memtrace run {name} wrote no log\n{show(p)}")
        logs.append(log)
    one = dict(os.environ, MEMTRACE_ANALYSIS_THREADS="1")
    for log in logs:
        for cmd in ("report", "peak", "leaks", "fragmentation"):
            args = [it.ARGS.memtrace, cmd, "--format", "json", log]
            a, b = run(args), run(args, env=one)
            check(a.stdout.strip() != "", f"memtrace {cmd} {log} printed nothing\n{show(a)}")
            check((a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr),
                  f"memtrace {cmd} --format json {os.path.basename(log)} differs with "
                  f"MEMTRACE_ANALYSIS_THREADS=1\n--- two threads ---\n{show(a)}\n"
                  f"--- one thread ---\n{show(b)}")


# ---- REPEAT: a loop's records said once ----

ROWS_C = r"""
#include <stdlib.h>
#include <string.h>
#define ROWS 300000
static void *keep[ROWS];
int main(void)
{
    for (int i = 0; i < ROWS; i++) {
        char *row = malloc(40); /* kept: carved after the last one */
        char *tmp = malloc(200); /* a temporary: the same block every turn */
        memcpy(row, tmp, 8);
        free(tmp);
        keep[i] = realloc(row, 72);
    }
    for (int i = 0; i < ROWS; i++)
        free(keep[i]);
    return 0;
}
"""

# The loop's log, its chunks deflated alone (MEMTRACE_LOG_ZSTD=0, as version 7): 5.1 KB with
# REPEAT, 12.9 KB without (MEMTRACE_LOG_REPEAT=0, the records of version 5); its samples are a
# third of what is left. zstd's frame finds much of the loop without REPEAT (7.2 KB, 5.3 with).
ROWS_LOG_MAX = 8000


def reencode(src, dst, *opts):
    tool = os.path.join(it.ARGS.build_root, "tests", "integration", "mt_log_reencode")
    p = run([tool, *opts, src, dst])
    check(p.returncode == 0 and os.path.isfile(dst), f"mt_log_reencode {src}\n{show(p)}")


@case(180)
def case_log_repeat_periodic():
    """A loop of 300,000 turns (a kept block, a temporary, a realloc) is a log under
    ROWS_LOG_MAX bytes, which the same records without REPEAT are not; and every report of
    the log is byte for byte that of its records re-encoded without repeats (and the other way
    round: a log recorded without them, re-encoded with them)."""
    exe = it.build_c("rows", ROWS_C, "-O0")
    rep_dir, plain_dir = os.path.join(it.TMP, "rep"), os.path.join(it.TMP, "plain")
    for d in (rep_dir, plain_dir):
        os.makedirs(d, exist_ok=True)
    rep = os.path.join(rep_dir, "rows.mtr")
    plain = os.path.join(plain_dir, "rows.mtr")
    deflated = dict(os.environ, MEMTRACE_LOG_ZSTD="0")
    record(rep, exe, env=deflated)
    record(plain, exe, env=dict(deflated, MEMTRACE_LOG_REPEAT="0"))
    size, plain_size = os.path.getsize(rep), os.path.getsize(plain)
    check(size < ROWS_LOG_MAX, f"the loop's log is {size} bytes, not under {ROWS_LOG_MAX}")
    check(plain_size >= ROWS_LOG_MAX,
          f"without REPEAT the loop's log is {plain_size} bytes: the bound proves nothing")
    stats = it.json_of("logstats", "--format", "json", rep)
    check(stats["log_version"] == 10, f"log version {stats['log_version']}")
    check(stats["records"].get("repeat", {}).get("count", 0) > 0, f"no REPEAT in {rep}: {stats}")
    stats = it.json_of("logstats", "--format", "json", plain)
    check("repeat" not in stats["records"], f"MEMTRACE_LOG_REPEAT=0 wrote REPEATs: {stats}")
    summary = it.report_json(rep)
    check((summary["allocations"], summary["frees"]) == (900000, 900000),
          f"allocations, frees: {summary['allocations']}, {summary['frees']}")
    # the same events encoded the other way (the reports name the file: LOG in both)
    pairs = []
    for log, opts in ((rep, ["--no-repeat"]), (plain, [])):
        other_dir = os.path.join(os.path.dirname(log), "other")
        os.makedirs(other_dir, exist_ok=True)
        other = os.path.join(other_dir, "rows.mtr")
        reencode(log, other, *opts)
        pairs.append((log, other))
    check(os.path.getsize(pairs[1][1]) < ROWS_LOG_MAX,
          f"re-encoded with repeats, the plain log is {os.path.getsize(pairs[1][1])} bytes")
    for a_log, b_log in pairs:
        same_reports(a_log, b_log)


def same_reports(a_log, b_log):
    """report, leaks, peak and fragmentation JSON of two logs of the same events: identical,
    but for the logs' own paths."""
    for cmd in ("report", "leaks", "peak", "fragmentation"):
        a = memtrace(cmd, "--format", "json", a_log)
        b = memtrace(cmd, "--format", "json", b_log)
        check(a.stdout.strip() != "", f"memtrace {cmd} {a_log} printed nothing\n{show(a)}")
        a.stdout, b.stdout = a.stdout.replace(a_log, "LOG"), b.stdout.replace(b_log, "LOG")
        check((a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr),
              f"memtrace {cmd} --format json differs between {a_log} and {b_log}\n"
              f"--- {a_log} ---\n{show(a)}\n--- {b_log} ---\n{show(b)}")


# ---- site codes (version 7): an allocation's node and size said by the one before ----

WALK_C = r"""
#include <stdlib.h>
#define DEPTH 14
#define PASSES 16
static unsigned walk(unsigned depth, unsigned path)
{
    if (depth == 0) {
        char *p = malloc(16 + (path % 61) * 8); /* each leaf its own size, every pass */
        p[0] = (char)path;
        unsigned r = (unsigned char)p[0];
        free(p);
        return r;
    }
    unsigned r;
    if (path >> (depth - 1) & 1) /* two call sites: a stack of its own for every path */
        r = walk(depth - 1, path) + 1;
    else
        r = walk(depth - 1, path) + 2;
    return r;
}
int main(void)
{
    unsigned s = 0;
    for (int pass = 0; pass < PASSES; pass++)
        for (unsigned path = 0; path < 1u << DEPTH; path++)
            s += walk(DEPTH, path);
    return s == 0;
}
"""
WALK_LEAVES, WALK_PASSES = 1 << 14, 16

# A compiler's allocations in miniature: 16,384 stacks allocating in the same order pass after
# pass, a period of 16,384 allocations, far beyond deflate's 32 KiB window and REPEAT's 256
# records. Version 6 says every allocation's node again (527 KB); version 7 says each stack's
# node and size in the first pass (a node code and a size code), then 0s (38 KB). The bound:
# 4 bytes a stack.
WALK_LOG_MAX = 4 * WALK_LEAVES


@case(120)
def case_log_site_codes():
    """A program that walks 16,384 call paths in the same order 16 times writes a log under
    4 bytes a path, which the same events written as version 6 are not; and the reports of
    both are byte for byte the same."""
    exe = it.build_c("walk", WALK_C, "-O0")
    v7_dir, v6_dir = os.path.join(it.TMP, "walk7"), os.path.join(it.TMP, "walk6")
    for d in (v7_dir, v6_dir):
        os.makedirs(d, exist_ok=True)
    log, old = os.path.join(v7_dir, "walk.mtr"), os.path.join(v6_dir, "walk.mtr")
    record(log, exe)
    reencode(log, old, "--v6")
    size, old_size = os.path.getsize(log), os.path.getsize(old)
    check(size < WALK_LOG_MAX, f"the walk's log is {size} bytes, not under {WALK_LOG_MAX}")
    check(old_size >= WALK_LOG_MAX,
          f"as version 6 the walk's log is {old_size} bytes: the bound proves nothing")
    stats = it.json_of("logstats", "--format", "json", log)
    check(stats["log_version"] == 10, f"log version {stats['log_version']}")
    check(it.json_of("logstats", "--format", "json", old)["log_version"] == 6,
          "mt_log_reencode --v6 wrote another version")
    summary = it.report_json(log)
    want = WALK_LEAVES * WALK_PASSES
    check((summary["allocations"], summary["frees"]) == (want, want),
          f"allocations, frees: {summary['allocations']}, {summary['frees']}, not {want}")
    same_reports(log, old)


# ---- zstd (version 8): one frame through the chunks ----

AGAIN_C = r"""
#include <stdlib.h>
int main(void)
{
    for (int pass = 0; pass < AGAIN_PASSES; pass++) {
        unsigned x = 12345;
        for (int i = 0; i < AGAIN_N; i++) {
            x = x * 1103515245u + 12345u;
            void *volatile p = malloc((x >> 16) % 3000 + 1);
            free(p);
        }
    }
    return 0;
}
"""
AGAIN_PASSES, AGAIN_N = 8, 40000

# The same 40,000 random sizes, pass after pass: no model predicts a size, REPEAT's 256 records
# and deflate's 32 KiB window do not reach the pass before (some 200 KB of raw log), zstd's
# frame does. Measured: 552 KB as version 7, 90 KB as zstd (6.2 times smaller); the bound
# leaves room for the samples.
ZSTD_AGAIN_RATIO = 4


def chunk_magics(path):
    with open(path, "rb") as f:
        data = f.read()
    return [data[off:off + 4] for off in chunk_offsets(path)[0]]


@case(180)
def case_log_zstd_frame():
    """The recorder's chunks are one zstd frame: the first chunk starts it (MTZF), the others
    go on with it (MTZC; a deflate chunk, MTCK, only from a starved program thread), and the
    counts are exact. The same records with every chunk deflated alone (MEMTRACE_LOG_ZSTD=0),
    re-encoded as zstd and as version 7, give byte for byte the same reports; as zstd a
    program that allocates the same random sizes pass after pass is ZSTD_AGAIN_RATIO times
    smaller."""
    exe = it.build_c("again", AGAIN_C, "-O0", f"-DAGAIN_PASSES={AGAIN_PASSES}",
                     f"-DAGAIN_N={AGAIN_N}")
    dirs = {k: os.path.join(it.TMP, k) for k in ("z", "d", "z2", "v7")}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    logs = {k: os.path.join(d, "again.mtr") for k, d in dirs.items()}
    record(logs["z"], exe)
    magics = chunk_magics(logs["z"])
    zstd = [m for m in magics if m != b"MTCK"]
    check(len(magics) >= 2 and zstd and zstd[0] == b"MTZF" and b"MTZC" in zstd and
          set(magics) <= {b"MTZF", b"MTZC", b"MTCK"}, f"{logs['z']}: chunks {magics}")
    want = AGAIN_PASSES * AGAIN_N
    summary = it.report_json(logs["z"])
    check((summary["allocations"], summary["frees"]) == (want, want),
          f"allocations, frees: {summary['allocations']}, {summary['frees']}, not {want}")
    record(logs["d"], exe, env=dict(os.environ, MEMTRACE_LOG_ZSTD="0"))
    check(set(chunk_magics(logs["d"])) == {b"MTCK"},
          f"MEMTRACE_LOG_ZSTD=0 wrote {chunk_magics(logs['d'])}")
    reencode(logs["d"], logs["z2"])
    reencode(logs["d"], logs["v7"], "--v7")
    check(it.json_of("logstats", "--format", "json", logs["v7"])["log_version"] == 7,
          "mt_log_reencode --v7 wrote another version")
    z2_magics = chunk_magics(logs["z2"])
    check(z2_magics[0] == b"MTZF" and set(z2_magics[1:]) == {b"MTZC"}, f"chunks {z2_magics}")
    sizes = {k: os.path.getsize(v) for k, v in logs.items()}
    check(sizes["z2"] * ZSTD_AGAIN_RATIO <= sizes["v7"], f"sizes {sizes}")
    same_reports(logs["d"], logs["z2"])
    same_reports(logs["d"], logs["v7"])


# ---- ALLOC_PREV (version 9): an address named by the recent allocation that had it ----

BINS_C = r"""
#include <stdlib.h>
static void *keep[BINS_N], *tmp[BINS_N];
int main(void)
{
    unsigned x = 12345;
    for (int i = 0; i < BINS_N; i++) {
        tmp[i] = malloc(200);
        keep[i] = malloc(200); /* between the others: no two freed blocks merge */
    }
    for (int pass = 0; pass < BINS_PASSES; pass++) {
        for (int i = BINS_N - 1; i > 0; i--) { /* freed in a random order */
            x = x * 1103515245u + 12345u;
            int j = (int)((x >> 8) % (unsigned)(i + 1));
            void *t = tmp[i];
            tmp[i] = tmp[j];
            tmp[j] = t;
        }
        for (int i = 0; i < BINS_N; i++)
            free(tmp[i]);
        for (int i = 0; i < BINS_N; i++)
            tmp[i] = malloc(200);
    }
    for (int i = 0; i < BINS_N; i++) {
        free(tmp[i]);
        free(keep[i]);
    }
    return 0;
}
"""
BINS_N, BINS_PASSES = 20000, 10


@case(180)
def case_log_alloc_prev():
    """20,000 blocks freed in a random order and allocated again, 10 times: glibc hands them
    back from its bins, not from the 16 most recent frees that the reuse stacks hold, so
    version 8 writes each one's address; versions 9 and 10 name each by the allocation that
    had its address (ALLOC_PREV) and their address stream is nearly empty. The same events as
    version 10 and re-encoded as versions 9 and 8 give byte for byte the same reports."""
    exe = it.build_c("bins", BINS_C, "-O0", f"-DBINS_N={BINS_N}", f"-DBINS_PASSES={BINS_PASSES}")
    dirs = {k: os.path.join(it.TMP, "bins" + k) for k in ("10", "9", "8")}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    logs = {k: os.path.join(d, "bins.mtr") for k, d in dirs.items()}
    record(logs["10"], exe)
    reencode(logs["10"], logs["9"], "--v9")
    reencode(logs["10"], logs["8"], "--v8")
    want = 2 * BINS_N + BINS_PASSES * BINS_N
    summary = it.report_json(logs["10"])
    check((summary["allocations"], summary["frees"]) == (want, want),
          f"allocations, frees: {summary['allocations']}, {summary['frees']}, not {want}")
    stats = {k: it.json_of("logstats", "--format", "json", v) for k, v in logs.items()}
    versions = tuple(stats[k]["log_version"] for k in ("10", "9", "8"))
    check(versions == (10, 9, 8), f"log versions {versions}")
    check("alloc_prev" not in stats["8"]["records"], "version 8 with ALLOC_PREV records")
    addr = {k: v["streams"]["address"]["raw_bytes"] for k, v in stats.items()}
    # version 8: 3 bytes or more for each of the 200,000 blocks the reuse stacks missed
    check(addr["10"] < 64 and addr["9"] < 64 and addr["8"] > 3 * (BINS_PASSES * BINS_N - 1000),
          f"address stream raw bytes: {addr}")
    sizes = {k: os.path.getsize(v) for k, v in logs.items()}
    check(sizes["10"] * 5 < sizes["8"] * 4, f"sizes {sizes}")
    same_reports(logs["10"], logs["9"])
    same_reports(logs["10"], logs["8"])


# ---- churn (shared/bench): exact counts and the right source line ----

#!/usr/bin/env python3
"""gen_utility: same seed same bytes, every line's format and the count of
steps, and the injected anomalies against the definition: each judged
(>= 3 same-hour prices in the 14 days before) and flagged by
tools/gen/utility_truth.py, the natural flags rare; the checker itself
against a direct computation. usage: test_gen_utility.py GEN_BBO GEN_UTILITY
SRC_ROOT"""
import datetime
import os
import re
import statistics
import subprocess
import sys
import tempfile

GEN = sys.argv[2]
sys.path.insert(0, os.path.join(sys.argv[3], "tools", "gen"))
import utility_truth  # noqa: E402

STEP = {"1h": 3600000, "15m": 900000, "1m": 60000}
DAY = 86400000


def run(*args, check=True):
    p = subprocess.run([GEN, *args], capture_output=True, text=True,
                       timeout=60)
    if check and p.returncode != 0:
        raise SystemExit(f"FAIL: gen_utility {args}: rc {p.returncode} "
                         f"{p.stderr}")
    return p


def check_format(path, weeks, step, header, start):
    with open(path) as f:
        lines = f.read().split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    if header:
        assert lines[0] == "ts,price", lines[0]
        lines = lines[1:]
    assert len(lines) == weeks * 7 * DAY // STEP[step], len(lines)
    t0 = utility_truth.parse_ts(start)
    for i, line in enumerate(lines):
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ,\d+\.\d\d", line), line
        ts = utility_truth.parse_ts(line.split(",")[0])
        assert ts == t0 + i * STEP[step], (i, line)
        assert 20 < float(line.split(",")[1]) < 1000, line


def direct(rows):
    """The definition computed naively with statistics.stdev (floats)."""
    out = set()
    for ts, _, price in rows:
        hist = [float(p) for t, _, p in rows
                if ts - 14 * DAY <= t < ts
                and (t // 3600000) % 24 == (ts // 3600000) % 24]
        if len(hist) >= 3 and float(price) >= statistics.mean(hist) + \
                2 * statistics.stdev(hist):
            out.add(ts)
    return out


def check_anomalies(path, truth, k, max_natural):
    with open(path) as f:
        rows, bad = utility_truth.read_rows(f)
    assert bad == 0
    judged = utility_truth.judge(rows)
    flagged = {r[0][0] for r in judged if r[4]}
    judged_ts = {r[0][0]: r[1] for r in judged}
    want = [utility_truth.parse_ts(w) for w in open(truth).read().split()]
    assert len(want) == len(set(want)) == k, want
    assert want == sorted(want)
    for w in want:
        assert judged_ts.get(w, 0) >= 3, f"anomaly {w} not judged"
        assert w in flagged, f"anomaly {w} not flagged"
    natural = len(flagged) - k
    assert natural <= max_natural, f"{natural} natural flags"
    return rows, flagged, natural


def main():
    tmp = tempfile.mkdtemp(prefix="gen_utility_")
    p = lambda name: os.path.join(tmp, name)  # noqa: E731

    run("--seed", "5", "--out", p("a.csv"), "--truth", p("a.txt"))
    run("--seed", "5", "--out", p("b.csv"), "--truth", p("b.txt"))
    run("--seed", "6", "--out", p("c.csv"))
    rd = lambda n: open(p(n), "rb").read()  # noqa: E731
    assert rd("a.csv") == rd("b.csv") and rd("a.txt") == rd("b.txt")
    assert rd("a.csv") != rd("c.csv")
    assert run("--seed", "5").stdout.encode() == rd("a.csv")
    print("PASS determinism")

    # Defaults: 4 weeks hourly from Thursday 2024-01-04, 5 anomalies; the
    # checker's exact arithmetic agrees with a naive float computation.
    check_format(p("a.csv"), 4, "1h", False, "2024-01-04T00:00:00Z")
    rows, flagged, natural = check_anomalies(p("a.csv"), p("a.txt"), 5, 0)
    assert flagged == direct(rows), "utility_truth disagrees with direct"
    print("PASS hourly: 5 anomalies flagged, checker == direct")

    # Several seeds, hourly: no natural flags at all.
    for seed in range(1, 6):
        run("--seed", str(seed), "--weeks", "8", "--anomalies", "12",
            "--header", "--out", p("s.csv"), "--truth", p("s.txt"))
        check_format(p("s.csv"), 8, "1h", True, "2024-01-04T00:00:00Z")
        check_anomalies(p("s.csv"), p("s.txt"), 12, 0)
    print("PASS hourly seeds 1-5, 8 weeks, 12 anomalies, 0 natural flags")

    # Finer steps: natural flags rare (the first days' short histories).
    for step, limit in (("15m", 0.01), ("1m", 0.005)):
        run("--step", step, "--weeks", "3", "--anomalies", "20",
            "--start", "2024-05-02T00:00", "--out", p("f.csv"),
            "--truth", p("f.txt"))
        check_format(p("f.csv"), 3, step, False, "2024-05-02T00:00:00Z")
        n = 3 * 7 * DAY // STEP[step]
        _, _, natural = check_anomalies(p("f.csv"), p("f.txt"), 20,
                                        int(n * limit))
        print(f"PASS step {step}: 20 anomalies, {natural} natural of {n}")

    # The checker's command line: --judged fails on a ts not flagged.
    tool = os.path.join(sys.argv[3], "tools", "gen", "utility_truth.py")
    out = subprocess.run([sys.executable, tool, p("a.csv"), "--judged",
                          p("a.txt")], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.split() == \
        open(p("a.txt")).read().split(), out
    with open(p("wrong.txt"), "w") as f:
        f.write("2024-01-10T03:00:00Z\n")
    out = subprocess.run([sys.executable, tool, p("a.csv"), "--judged",
                          p("wrong.txt")], capture_output=True, text=True)
    assert out.returncode == 1 and "not flagged" in out.stderr, out
    print("PASS utility_truth.py --judged")

    # --help and bad arguments.
    h = run("--help").stdout
    for flag in ("--seed", "--weeks", "--step", "--start", "--anomalies",
                 "--truth", "--header", "--out"):
        assert flag in h, flag
    for bad in (["--weeks", "0"], ["--step", "2h"], ["--anomalies", "-1"],
                ["--start", "2024-13-01"], ["--start", "2024-01-01T00:00:30"],
                ["--weeks", "1", "--anomalies", "200"], ["--bogus"], ["x"]):
        r = run(*bad, check=False)
        assert r.returncode == 2 and r.stderr and not r.stdout, (bad, r)
    print("PASS help and bad arguments")


if __name__ == "__main__":
    main()

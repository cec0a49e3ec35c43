#!/usr/bin/env python3
"""gen_bbo: same seed same bytes, every line's format, the counts of crossed
and malformed lines against --stats and the rates, ts order, --help and
bad flags.  usage: test_gen_bbo.py GEN_BBO GEN_UTILITY SRC_ROOT"""
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

GEN = sys.argv[1]
PRICE = r"\d+\.\d{4}"
ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"


def run(*args, check=True):
    p = subprocess.run([GEN, *args], capture_output=True, text=True,
                       timeout=60)
    if check and p.returncode != 0:
        raise SystemExit(f"FAIL: gen_bbo {args}: rc {p.returncode} "
                         f"{p.stderr}")
    return p


def iso_ms(text):
    """Milliseconds of a valid ISO timestamp, None if the date is not."""
    try:
        dt = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return None
    epoch = datetime.datetime(1970, 1, 1)
    return (dt - epoch) // datetime.timedelta(milliseconds=1)


def classify(line, epoch):
    """('ok', ts, bid, ask) or ('malformed', kind)."""
    ts_re = r"-?\d+" if epoch else ISO
    m = re.fullmatch(f"({ts_re}),({PRICE}),({PRICE})", line)
    if m:
        ts = int(m[1]) if epoch else iso_ms(m[1])
        if ts is not None:
            return ("ok", ts, float(m[2]), float(m[3]))
        return ("malformed", "bad_timestamp")
    if re.fullmatch(f"({ts_re}),({PRICE})", line):
        return ("malformed", "missing_field")
    if re.fullmatch(f"({ts_re}),{PRICE}x,{PRICE}", line):
        return ("malformed", "bad_number")
    if re.fullmatch(f"\\d+x,{PRICE},{PRICE}", line) and epoch:
        return ("malformed", "bad_timestamp")
    if re.fullmatch(r"[a-z!?*&%@ ]{5,30}", line):
        return ("malformed", "garbage")
    raise SystemExit(f"FAIL: line of no known form: {line!r}")


def check_file(path, stats, epoch, header, tps, hours):
    with open(path) as f:
        lines = f.read().split("\n")
    assert lines[-1] == "", "file must end with a newline"
    lines = lines[:-1]
    if header:
        assert lines[0] == "ts,bid,ask", lines[0]
        lines = lines[1:]
    assert len(lines) == hours * 3600 * tps == stats["lines"], \
        (len(lines), stats["lines"])
    counts = {"crossed": 0, "malformed": 0, "equal_ts": 0}
    kinds = {}
    prev = None
    for line in lines:
        c = classify(line, epoch)
        if c[0] == "malformed":
            counts["malformed"] += 1
            kinds[c[1]] = kinds.get(c[1], 0) + 1
            continue
        _, ts, bid, ask = c
        assert prev is None or ts >= prev, f"ts goes back at {line}"
        counts["equal_ts"] += ts == prev
        counts["crossed"] += bid >= ask
        prev = ts
    for k in ("crossed", "malformed"):
        assert counts[k] == stats[k], (k, counts[k], stats[k])
    assert kinds == {k: v for k, v in stats["malformed_kinds"].items() if v}
    assert stats["valid"] == stats["lines"] - stats["malformed"]
    assert counts["equal_ts"] > 0, "no ticks share a millisecond"
    return counts


def main():
    tmp = tempfile.mkdtemp(prefix="gen_bbo_")
    p = lambda name: os.path.join(tmp, name)  # noqa: E731

    # Determinism: same seed same bytes, a different seed other bytes.
    run("--seed", "7", "--out", p("a.csv"), "--stats", p("a.json"))
    run("--seed", "7", "--out", p("b.csv"))
    run("--seed", "8", "--out", p("c.csv"))
    a, b, c = (open(p(n), "rb").read() for n in ("a.csv", "b.csv", "c.csv"))
    assert a == b, "same seed, different bytes"
    assert a != c, "different seeds, same bytes"
    assert run("--seed", "7").stdout.encode() == a, "stdout differs from --out"
    print("PASS determinism")

    # Defaults: 1 hour at 10 ticks/s, ISO timestamps, 0.1% of each defect.
    stats = json.load(open(p("a.json")))
    counts = check_file(p("a.csv"), stats, False, False, 10, 1)
    start = iso_ms("2024-01-02T09:30:00.000Z")
    assert start <= stats["first_ts_ms"] < start + 100
    assert start + 3600000 - 100 <= stats["last_ts_ms"] < start + 3600000
    assert 10 <= stats["crossed"] <= 80 and 10 <= stats["malformed"] <= 80
    assert stats["widened"] > 0, "the spread never widened in an hour"
    print("PASS defaults", counts)

    # Epoch ms, a header, high rates: counts follow the rates.
    run("--seed", "3", "--ts-format", "epoch_ms", "--header",
        "--crossed-rate", "0.05", "--malformed-rate", "0.1",
        "--ticks-per-second", "20", "--start", "2024-03-01T00:00:00.500Z",
        "--out", p("e.csv"), "--stats", p("e.json"))
    stats = json.load(open(p("e.json")))
    check_file(p("e.csv"), stats, True, True, 20, 1)
    n = stats["lines"]
    assert abs(stats["crossed"] / n - 0.05) < 0.005, stats
    assert abs(stats["malformed"] / n - 0.1) < 0.005, stats
    assert all(v > n * 0.02 for v in stats["malformed_kinds"].values())
    assert stats["first_ts_ms"] >= iso_ms("2024-03-01T00:00:00.500Z")
    print("PASS epoch_ms, header, rates", stats)

    # Zero rates: nothing crossed or malformed.
    run("--crossed-rate", "0", "--malformed-rate", "0", "--out",
        p("z.csv"), "--stats", p("z.json"))
    stats = json.load(open(p("z.json")))
    check_file(p("z.csv"), stats, False, False, 10, 1)
    assert stats["crossed"] == 0 and stats["malformed"] == 0
    print("PASS zero rates")

    # --help tells the flags; bad flags and values exit 2 with a message.
    h = run("--help")
    for flag in ("--seed", "--hours", "--ticks-per-second", "--start",
                 "--ts-format", "--header", "--crossed-rate",
                 "--malformed-rate", "--out", "--stats"):
        assert flag in h.stdout, flag
    for bad in (["--bogus"], ["--hours", "0"], ["--hours", "x"],
                ["--ts-format", "unix"], ["--crossed-rate", "1.5"],
                ["--malformed-rate", "nan"], ["--start", "2024-02-30"],
                ["--crossed-rate", "0.6", "--malformed-rate", "0.5"],
                ["extra"]):
        r = run(*bad, check=False)
        assert r.returncode == 2 and r.stderr and not r.stdout, (bad, r)
    r = run("--out", os.path.join(tmp, "no", "such", "dir"), check=False)
    assert r.returncode == 1 and r.stderr, r
    print("PASS help and bad arguments")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""utility_truth.py: what the utility_anomaly definition flags in a file.

A record (ts, price) of a CSV `ts,price` (header line optional; ts
ISO-8601 or epoch milliseconds, UTC) is anomalous when
price >= mean + 2 * sd, mean and sd (sample standard deviation) taken over
the prices with the same UTC hour of day whose ts lies in [ts - 14 days, ts),
with at least 3 such prices (otherwise it is not judged). The arithmetic is
exact (prices as scaled integers, the comparison squared), so the answer
does not depend on rounding. Independent of sluice: plain Python.

usage: utility_truth.py FILE [--details] [--judged FILE]
Prints the flagged records' ts, one per line in file order (--details:
ts,price,mean,sd,count). --judged FILE: exit 1 unless every ts listed in FILE
(e.g. gen_utility's --truth) is judged and flagged. Malformed lines are
skipped and counted on stderr.
"""
import argparse
import bisect
import datetime
import decimal
import math
import sys

HOUR_MS = 3600 * 1000
WINDOW_MS = 14 * 24 * HOUR_MS


def parse_ts(text):
    """Milliseconds since the epoch, or None if text is not a timestamp."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    delta = dt - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1000 + \
        delta.microseconds // 1000


def read_rows(lines):
    """[(ts_ms, ts_text, Decimal price)] and the number of bad lines."""
    rows, bad = [], 0
    for k, line in enumerate(lines):
        line = line.rstrip("\r\n")
        if k == 0 and line.replace(" ", "") == "ts,price":
            continue
        fields = line.split(",")
        ts = parse_ts(fields[0]) if len(fields) == 2 else None
        try:
            price = decimal.Decimal(fields[1]) if ts is not None else None
        except decimal.InvalidOperation:
            price = None
        if price is None or not price.is_finite():
            bad += 1
            continue
        rows.append((ts, fields[0].strip(), price))
    return rows, bad


def judge(rows):
    """[(row, n, mean, sd, flagged)] for every judged row, in row order."""
    scale = max([0] + [-r[2].as_tuple().exponent for r in rows])
    groups = {}
    for idx, (ts, _, price) in enumerate(rows):
        groups.setdefault((ts // HOUR_MS) % 24, []).append(
            (ts, int(price.scaleb(scale)), idx))
    out = []
    for group in groups.values():
        group.sort()
        times = [g[0] for g in group]
        sums, sqs = [0], [0]
        for _, v, _ in group:
            sums.append(sums[-1] + v)
            sqs.append(sqs[-1] + v * v)
        for ts, v, idx in group:
            lo = bisect.bisect_left(times, ts - WINDOW_MS)
            hi = bisect.bisect_left(times, ts)
            n = hi - lo
            if n < 3:
                continue
            s, q = sums[hi] - sums[lo], sqs[hi] - sqs[lo]
            # price >= s/n + 2 sd  <=>  n*v - s >= 0 and
            # (n*v - s)^2 * (n - 1) >= 4 * n * (n*q - s^2)
            d = n * v - s
            flagged = d >= 0 and d * d * (n - 1) >= 4 * n * (n * q - s * s)
            mean = s / n / 10 ** scale
            sd = math.sqrt((n * q - s * s) / (n * (n - 1))) / 10 ** scale
            out.append((idx, n, mean, sd, flagged))
    out.sort()
    return [(rows[i], n, m, sd, f) for i, n, m, sd, f in out]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--details", action="store_true")
    ap.add_argument("--judged", metavar="FILE")
    args = ap.parse_args()
    with open(args.file) as f:
        rows, bad = read_rows(f)
    if bad:
        print(f"utility_truth: {bad} malformed lines skipped", file=sys.stderr)
    judged = judge(rows)
    for (ts, text, price), n, mean, sd, flagged in judged:
        if flagged:
            print(f"{text},{price},{mean!r},{sd!r},{n}" if args.details
                  else text)
    if args.judged:
        flagged = {r[0][0] for r in judged if r[4]}
        with open(args.judged) as f:
            want = [line.strip() for line in f if line.strip()]
        missed = [w for w in want if parse_ts(w) not in flagged]
        if missed:
            print("utility_truth: not flagged: " + " ".join(missed),
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""OVER aggregation in SQL streams (docs/sql.md "OVER aggregation in
streams") against `streamctl sql` over the same rows.

- Random rows split over queue batches, some held back a few batches so
  that they arrive behind the watermark: the test computes each batch's
  watermark itself (max event time of the batches before - delay), drops
  the late rows as the documentation says, and the stream's rows must
  equal `streamctl sql` over the rows left (doubles to 1e-9), emitted in
  event-time order per partition, with the late rows counted. Frames:
  RANGE with and without EXCLUDE CURRENT ROW, ROWS with EXCLUDE GROUP,
  ROWS and RANGE mixed in one query, an outer query filtering on the
  windowed values; the last rows are flushed by a far-future row.
- Restart from a checkpoint mid-stream gives the same rows.
- State stays bounded by the frame: the progress entry's state bytes
  over a long stream do not grow with it.
- The utility-anomaly query over tools/gen/gen_utility output equals
  tools/gen/utility_truth.py.
- Refused: no watermark, ORDER BY another column, UNBOUNDED frames.

usage: test_sql_over_stream.py STREAMCTL SRCDIR GEN_UTILITY [--seed N]
"""

import csv
import datetime
import json
import math
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_streamctl  # noqa: E402

STREAMCTL = SRCDIR = GEN_UTILITY = None
SCHEMA = "k string, ts timestamp, p double"
DELAY_MS = 2000
BASE_MS = 1704067200000  # 2024-01-01T00:00:00Z
FAR = "2100-01-01T00:00:00Z"


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def iso(ms):
    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def ms_of(text):
    dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return round((dt - epoch).total_seconds() * 1000)


def gen_rows(rng, n, ties):
    """Rows in event-time order; with ties, equal timestamps in a partition."""
    rows, t = [], BASE_MS
    for _ in range(n):
        if not ties or rng.random() > 0.3:
            t += rng.randint(1, 1500)
        p = None if rng.random() < 0.05 else rng.randint(-80, 80) / 8
        rows.append({"k": rng.choice("abc"), "ts": t, "p": p})
    if not ties:  # one row per ms: unique in every partition
        seen = set()
        rows = [r for r in rows if not (r["ts"] in seen or seen.add(r["ts"]))]
    return rows


def split(rng, rows):
    """Batches of rows, some rows held back 1-3 batches (maybe late)."""
    batches = []
    i = 0
    while i < len(rows):
        m = rng.randint(1, 8)
        batches.append(list(rows[i:i + m]))
        i += m
    for b in range(len(batches)):
        for r in list(batches[b]):
            if rng.random() < 0.12 and b + 1 < len(batches):
                batches[b].remove(r)
                batches[min(len(batches) - 1, b + rng.randint(1, 3))].append(r)
    return batches


def on_time(batches):
    """The rows not late (event time > the batch's watermark) and the
    number of late ones, as the docs define the watermark."""
    kept, late, wm, top = [], 0, None, None
    for b in batches:
        for r in b:
            if wm is not None and r["ts"] <= wm:
                late += 1
            else:
                kept.append(r)
        if b:
            m = max(r["ts"] for r in b)
            top = m if top is None else max(top, m)
            wm = top - DELAY_MS
    return kept, late


def job_of(sql, batches, conf=None):
    recs = [[dict(r, ts=iso(r["ts"])) for r in b] for b in batches]
    recs += [[{"k": "zz", "ts": FAR, "p": 0}], []]  # flush: watermark far on
    c = {"clock": "manual", "max_batches": len(recs)}
    c.update(conf or {})
    return {"name": "over_stream", "batch_interval": "1s", "conf": c,
            "sources": {"src": {"type": "queue", "schema": SCHEMA,
                                "watermark": {"column": "ts",
                                              "delay": "%dms" % DELAY_MS},
                                "batches": recs}},
            "streams": {"q": {"sql": sql}},
            "sinks": [{"from": "q", "type": "console", "format": "json"}]}


def run_job(tmp, job, args=()):
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    rc, out, err = run_streamctl(STREAMCTL, ["run"] + list(args) + [path],
                                 tmp, 120)
    check(rc == 0, "streamctl run exit %d: %s" % (rc, err[-1500:]))
    batches = [json.loads(l)["records"] for l in out.splitlines()
               if l.startswith("{")]
    return batches, err


def run_sql(tmp, sql, rows):
    path = os.path.join(tmp, "src.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow([r["k"], iso(r["ts"]), "" if r["p"] is None else r["p"]])
    rc, out, err = run_streamctl(
        STREAMCTL, ["sql", "--format", "json", "--table",
                    "src=%s:%s" % (path, SCHEMA), sql], tmp, 120)
    check(rc == 0, "streamctl sql exit %d: %s" % (rc, err[-1500:]))
    return [json.loads(l) for l in out.splitlines() if l]


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b)) or \
            (math.isnan(a) and math.isnan(b))
    return a == b


def key(r):
    return tuple((0, "") if v is None else (1, v) if isinstance(v, str)
                 else (1, "%.6f" % v) for v in r.values())


def compare(got, want, what):
    got, want = sorted(got, key=key), sorted(want, key=key)
    check(len(got) == len(want),
          "%s: %d rows streamed, %d by streamctl sql" % (what, len(got),
                                                          len(want)))
    for g, w in zip(got, want):
        check(g.keys() == w.keys() and all(same(g[c], w[c]) for c in g),
              "%s: streamed %r, streamctl sql %r" % (what, g, w))


R5 = ("(PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '5' SECONDS "
      "PRECEDING AND CURRENT ROW%s)")
ROWS3 = "(PARTITION BY k ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW%s)"
QUERIES = [
    (True, "SELECT k, ts, p, avg(p) OVER {a} AS m, stddev_samp(p) OVER {a} "
           "AS sd, count(p) OVER {a} AS n, min(p) OVER {a} AS lo, count(*) "
           "OVER {a} AS c FROM src".format(a=R5 % "")),
    (True, "SELECT k, ts, p, sum(p) OVER {a} AS s, max(p) OVER {a} AS hi, "
           "var_pop(p) OVER {a} AS v, avg(p) OVER {a} AS m "
           "FROM src".format(a=R5 % " EXCLUDE CURRENT ROW")),
    (False, "SELECT k, ts, p, sum(p) OVER {r} AS s, stddev_pop(p) OVER {r} "
            "AS sd, max(p) OVER {g} AS hi, avg(p) OVER {a} AS m FROM "
            "src".format(r=ROWS3 % "", g=ROWS3 % " EXCLUDE GROUP",
                         a=R5 % " EXCLUDE CURRENT ROW")),
    (True, "SELECT * FROM (SELECT k, ts, p, avg(p) OVER {a} AS m, "
           "stddev_samp(p) OVER {a} AS sd, count(p) OVER {a} AS n FROM src) "
           "WHERE n >= 3 AND p >= m + 0.5 * sd".format(
               a=R5 % " EXCLUDE CURRENT ROW")),
]


def case_differential(tmp, seed):
    rng = random.Random(seed)
    for qi, (ties, sql) in enumerate(QUERIES):
        rows = gen_rows(rng, 400, ties)
        batches = split(rng, rows)
        kept, late = on_time(batches)
        check(late > 0, "the data should hold late rows")
        out, err = run_job(tmp, job_of(sql, batches))
        got = [r for b in out for r in b]
        for k in "abc":  # event-time order per partition
            ts = [ms_of(r["ts"]) for r in got if r["k"] == k]
            check(ts == sorted(ts), "query %d: %s out of order" % (qi, k))
        check(", %d late;" % late in err,
              "query %d: %d late rows expected: %s" % (qi, late, err[-400:]))
        compare(got, run_sql(tmp, sql, kept), "query %d" % qi)
        print("query %d: %d rows (%d late dropped) as streamctl sql"
              % (qi, len(got), late))


def case_restart(tmp, seed):
    rng = random.Random(seed + 1)
    sql = QUERIES[2][1]
    batches = split(rng, gen_rows(rng, 200, False))
    whole, _ = run_job(tmp, job_of(sql, batches))
    ck = os.path.join(tmp, "ck")
    half = len(batches) // 2
    first, _ = run_job(tmp, job_of(sql, batches, {"checkpoint.path": ck,
                                                  "max_batches": half}))
    rest, _ = run_job(tmp, job_of(sql, batches, {"checkpoint.path": ck}))
    check(len(first) == half, "first run: %d batches" % len(first))
    got = [r for b in first + rest for r in b]
    compare(got, [r for b in whole for r in b], "restart at batch %d" % half)
    check(len(got) > 50, "restart: only %d rows" % len(got))
    print("restart from a checkpoint after %d of %d batches: same %d rows"
          % (half, len(batches) + 2, len(got)))


def case_bounded(tmp):
    """A long stream: the state's bytes track the frame, not the stream."""
    rows = [{"k": "a", "ts": BASE_MS + i * 250, "p": float(i % 7)}
            for i in range(3000)]
    batches = [rows[i:i + 10] for i in range(0, len(rows), 10)]
    sql = ("SELECT ts, avg(p) OVER %s AS m, sum(p) OVER %s AS s FROM src"
           % (R5 % "", ROWS3 % ""))
    prog = os.path.join(tmp, "progress.jsonl")
    out, _ = run_job(tmp, job_of(sql, batches), ["--progress", prog])
    check(sum(len(b) for b in out) == len(rows), "bounded: rows lost")
    with open(prog) as f:
        sizes = [sum(s["bytes"] for s in json.loads(l).get("state", []))
                 for l in f if l.strip()]
    early, late = max(sizes[20:60]), max(sizes[-60:-3])
    check(early > 0 and late <= 1.5 * early,
          "state bytes grew with the stream: %d early, %d late"
          % (early, late))
    print("state bytes bounded by the frame: %d after 60 batches, at most "
          "%d after %d" % (early, late, len(sizes)))


def case_utility(tmp):
    data = os.path.join(tmp, "utility.csv")
    subprocess.run([GEN_UTILITY, "--seed", "11", "--weeks", "5",
                    "--anomalies", "6", "--out", data], check=True,
                   timeout=60)
    truth = subprocess.run(
        [sys.executable, os.path.join(SRCDIR, "tools/gen/utility_truth.py"),
         data], check=True, capture_output=True, text=True, timeout=120)
    want = sorted(ms_of(l) for l in truth.stdout.split())
    with open(data) as f:
        recs = [{"ts": t, "price": float(p)} for t, p in
                (l.strip().split(",") for l in f if l.strip())]
    batches = [recs[i:i + 24] for i in range(0, len(recs), 24)]
    batches += [[{"ts": FAR, "price": 0.0}], []]
    w = ("(PARTITION BY hour(ts) ORDER BY ts RANGE BETWEEN INTERVAL '14' "
         "DAYS PRECEDING AND CURRENT ROW EXCLUDE CURRENT ROW)")
    sql = ("SELECT ts, price, m, sd, n FROM (SELECT ts, price, avg(price) "
           "OVER {w} AS m, stddev_samp(price) OVER {w} AS sd, count(price) "
           "OVER {w} AS n FROM src) WHERE n >= 3 AND price >= m + 2 * sd"
           .format(w=w))
    job = {"name": "utility", "batch_interval": "1s",
           "conf": {"clock": "manual", "max_batches": len(batches)},
           "sources": {"src": {"type": "queue",
                               "schema": "ts timestamp, price double",
                               "watermark": {"column": "ts", "delay": "1h"},
                               "batches": batches}},
           "streams": {"q": {"sql": sql}},
           "sinks": [{"from": "q", "type": "console", "format": "json"}]}
    out, _ = run_job(tmp, job)
    got = sorted(ms_of(r["ts"]) for b in out for r in b)
    check(len(want) >= 6, "utility_truth flags only %d" % len(want))
    check(got == want, "utility anomalies: streamed %r, truth %r"
          % ([iso(t) for t in got], [iso(t) for t in want]))
    print("utility_anomaly over %d hourly prices: the %d anomalies of "
          "utility_truth.py" % (len(recs), len(got)))


def case_refused(tmp):
    over = "sum(p) OVER (PARTITION BY k ORDER BY %s)"
    cases = [
        (None, over % "ts RANGE INTERVAL '1' SECOND PRECEDING",
         "needs a watermark on its input"),
        ("ts", over % "p ROWS 2 PRECEDING", "must ORDER BY its input's "
         "watermarked column"),
        ("ts", over % "ts", "must be bounded"),
    ]
    for wm, call, msg in cases:
        job = job_of("SELECT k, %s AS s FROM src" % call, [])
        if not wm:
            del job["sources"]["src"]["watermark"]
        path = os.path.join(tmp, "job.json")
        with open(path, "w") as f:
            json.dump(job, f)
        rc, out, err = run_streamctl(STREAMCTL, ["validate", path], tmp, 60)
        check(rc == 3 and "column 18: " in out + err and msg in out + err,
              "%s: exit %d, %s" % (call, rc, out + err))
    print("%d refused OVER forms fail with their position" % len(cases))


def main(argv):
    global STREAMCTL, SRCDIR, GEN_UTILITY
    seed = 13
    if "--seed" in argv:
        i = argv.index("--seed")
        seed = int(argv[i + 1])
        del argv[i:i + 2]
    STREAMCTL, SRCDIR, GEN_UTILITY = argv[1:4]
    print("seed %d" % seed)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            case_refused(tmp)
            case_differential(tmp, seed)
            case_restart(tmp, seed)
            case_utility(tmp)
            case_bounded(tmp)
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Differential test of OVER aggregation (`agg(x) OVER (PARTITION BY ...
ORDER BY k frame)`) in `streamctl sql` against Python's sqlite3, which
implements ROWS and RANGE frames with numeric offsets and EXCLUDE as the
SQL standard says (SQLite >= 3.28).

Random tables (ids, partition keys with NULLs, order keys with many ties
and NULLs, longs, doubles drawn as k/8 so that sums are exact, NULLs),
random calls of count(*), count, sum, avg, min, max and the variance
family (SQLite has no variance: an exact Python window aggregate over
fractions stands in), random frames (ROWS/RANGE, n PRECEDING, UNBOUNDED
PRECEDING, CURRENT ROW, the default, no ORDER BY) and every EXCLUDE.
Rows compare by id, doubles to 1e-9 relative. Under ROWS the argument
is a function of the order key, and rows compare as a multiset of
(partition keys, order key, result): which position each of several
peers takes is arbitrary in SQL, so only that multiset has one answer.

Then the utility-anomaly shape of issue 13 over a timestamp column: the
same hour of day partition, a 14-day RANGE with EXCLUDE CURRENT ROW,
filtered in an outer query on count >= 3 and kwh >= mean + 2 * stddev,
against the same query in SQLite over epoch milliseconds; and errors
with positions for the forms that are refused, also in SQL streams
(without a watermark on their input).

usage: test_sql_over.py STREAMCTL [SRCDIR] [--seed N] [--queries N]
"""

import fractions
import json
import math
import os
import random
import sqlite3
import subprocess
import sys
import tempfile

STREAMCTL = None
COLS = [("id", "long"), ("g", "long"), ("h", "string"), ("k", "long"),
        ("d", "double"), ("a", "long"), ("x", "double")]


class ExactVar:
    """A SQLite window aggregate: exact variance (fractions) of the frame."""
    ddof, root = 1, False

    def __init__(self):
        self.vals = []

    def step(self, v):
        if v is not None:
            self.vals.append(fractions.Fraction(v))

    def inverse(self, v):
        if v is not None:
            self.vals.remove(fractions.Fraction(v))

    def value(self):
        n = len(self.vals)
        if n - self.ddof <= 0:
            return None
        m = sum(self.vals) / n
        r = float(sum((v - m) ** 2 for v in self.vals) / (n - self.ddof))
        return math.sqrt(r) if self.root else r

    finalize = value


def var_class(ddof, root):
    return type("V%d%d" % (ddof, root), (ExactVar,),
                {"ddof": ddof, "root": root})


def connect():
    db = sqlite3.connect(":memory:")
    for name, ddof, root in [("var_samp", 1, False), ("var_pop", 0, False),
                             ("stddev_samp", 1, True),
                             ("stddev_pop", 0, True)]:
        db.create_window_function(name, 1, var_class(ddof, root))
    return db


def maybe(rnd, v, p=0.12):
    return None if rnd.random() < p else v


def random_table(rnd, n):
    rows = []
    for i in range(n):
        rows.append((i, maybe(rnd, rnd.randint(0, 3)),
                     maybe(rnd, rnd.choice("pq")),
                     maybe(rnd, rnd.randint(0, n // 3 + 1), 0.08),
                     maybe(rnd, rnd.randint(0, 40) / 4, 0.08),
                     maybe(rnd, rnd.randint(-50, 50)),
                     maybe(rnd, rnd.randint(-400, 400) / 8)))
    return rows


def write_csv(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(",".join("" if v is None else str(v) for v in r) + "\n")


def random_call(rnd):
    fn = rnd.choice(["count", "count", "sum", "avg", "min", "max",
                     "var_samp", "var_pop", "stddev_samp", "stddev_pop"])
    arg = "*" if fn == "count" and rnd.random() < 0.4 else \
        rnd.choice(["a", "x"])
    part = rnd.choice(["", "PARTITION BY g ", "PARTITION BY g, h ",
                       "PARTITION BY h "])
    key = rnd.choice(["k", "k", "d"])
    order = "" if rnd.random() < 0.1 else "ORDER BY %s " % key
    frame = ""
    if order and rnd.random() < 0.9:
        unit = rnd.choice(["ROWS", "RANGE"])
        if unit == "ROWS" and arg != "*":
            # The order of peers (ties of the key) is arbitrary, so a ROWS
            # frame's rows are too: only an argument that is the same for
            # all peers gives one answer (in any engine).
            arg = rnd.choice([key, "%s * 3 - 7" % key])
        n = rnd.randint(0, 6) if unit == "ROWS" or key == "k" else \
            rnd.choice([0.5, 1.25, 3, 7.5])
        start = rnd.choice(["%s PRECEDING" % n, "%s PRECEDING" % n,
                            "UNBOUNDED PRECEDING", "CURRENT ROW"])
        frame = "%s BETWEEN %s AND CURRENT ROW " % (unit, start) \
            if rnd.random() < 0.8 else "%s %s " % (unit, start)
        frame += rnd.choice(["", "EXCLUDE CURRENT ROW ", "EXCLUDE GROUP ",
                             "EXCLUDE TIES ", "EXCLUDE NO OTHERS "])
    call = "%s(%s) OVER (%s%s%s)" % (fn, arg, part, order, frame)
    if "ROWS" not in frame:
        return call, None
    # which peer gets which position is arbitrary: compare the rows as
    # (partition keys, order key, result), a multiset
    return call, "%s, %s" % (part[len("PARTITION BY "):] or "0", key)


def run_sluice(csv, query, schema=None):
    schema = schema or ", ".join("%s %s" % c for c in COLS)
    r = subprocess.run([STREAMCTL, "sql", "--format", "json", "--table",
                        "t=%s:%s" % (csv, schema), query],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return None, r.stderr
    return [list(json.loads(line).values())
            for line in r.stdout.splitlines() if line.strip()], None


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (bool, str)) or isinstance(b, (bool, str)):
        return a == b
    a, b = float(a), float(b)
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def sort_key(row):
    return [(v is not None, str(type(v) is str), v if v is not None else 0)
            for v in row]


def same_rows(got, want, by_id=True):
    if len(got) != len(want):
        return False
    key = (lambda r: r[0]) if by_id else sort_key
    return all(len(g) == len(w) and all(close(x, y) for x, y in zip(g, w))
               for g, w in zip(sorted(got, key=key), sorted(want, key=key)))


def fail(seed, query, got, want):
    print("seed %d\nquery: %s\nsluice: %s\nsqlite: %s" %
          (seed, query, got, want))
    sys.exit(1)


def differential(d, seed, nqueries):
    rnd = random.Random(seed)
    ran = 0
    for t in range(max(1, nqueries // 10)):
        rows = random_table(rnd, rnd.choice([1, 5, 30, 120]))
        csv = os.path.join(d, "t%d.csv" % t)
        write_csv(csv, rows)
        db = connect()
        db.execute("CREATE TABLE t(%s)" % ", ".join(c for c, _ in COLS))
        db.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?)", rows)
        # several calls per query: each its own WINDOW node
        for _ in range(10):
            calls = [random_call(rnd) for _ in range(rnd.randint(1, 3))]
            rows_call = [c for c in calls if c[1]]
            if rows_call:
                q = "SELECT %s, %s FROM t" % (rows_call[0][1], rows_call[0][0])
            else:
                # aliases: equal calls would be equal JSON keys
                q = "SELECT id, %s FROM t" % ", ".join(
                    "%s AS c%d" % (c[0], i) for i, c in enumerate(calls))
            want = [list(r) for r in db.execute(q)]
            got, err = run_sluice(csv, q)
            if got is None or not same_rows(got, want, not rows_call):
                fail(seed, q, err or got, want)
            ran += 1
    print("%d random OVER queries agree with sqlite3" % ran)


def outer_filter(d, seed):
    """The OVER result used in an outer query (a sub-query in FROM)."""
    rnd = random.Random(seed + 1)
    rows = random_table(rnd, 200)
    csv = os.path.join(d, "outer.csv")
    write_csv(csv, rows)
    db = connect()
    db.execute("CREATE TABLE t(%s)" % ", ".join(c for c, _ in COLS))
    db.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?)", rows)
    w = "PARTITION BY g ORDER BY k RANGE BETWEEN 10 PRECEDING AND CURRENT " \
        "ROW EXCLUDE CURRENT ROW"
    q = ("SELECT id, x, m, sd FROM (SELECT id, x, avg(x) OVER (%s) AS m, "
         "stddev_samp(x) OVER (%s) AS sd, count(x) OVER (%s) AS n FROM t) "
         "WHERE n >= 3 AND x >= m + 0.5 * sd" % (w, w, w))
    want = [list(r) for r in db.execute(q)]
    got, err = run_sluice(csv, q)
    if got is None or not same_rows(got, want) or len(want) < 5:
        fail(seed, q, err or got, want)
    print("outer filter over OVER values: %d rows agree" % len(want))


def anomaly(d, seed):
    """Issue 13's utility-anomaly query over hourly meter readings."""
    rnd = random.Random(seed + 2)
    t0 = 1704067200  # 2024-01-01 00:00:00 UTC
    rows = []
    for meter in ["m1", "m2", "m3"]:
        for h in range(24 * 60):
            if rnd.random() < 0.1:
                continue  # missing readings: frames of varying size
            ts = t0 + 3600 * h + rnd.choice([0, 0, 0, 60])
            kwh = rnd.randint(0, 80) / 8
            if rnd.random() < 0.02:
                kwh += 40  # a spike
            rows.append((meter, ts, kwh))
    csv = os.path.join(d, "readings.csv")
    with open(csv, "w") as f:
        for m, ts, kwh in rows:
            f.write("%s,%s,%s\n" % (
                m, __import__("time").strftime("%Y-%m-%d %H:%M:%S",
                                               __import__("time").gmtime(ts)),
                kwh))
    over = ("OVER (PARTITION BY meter, hour(ts) ORDER BY ts RANGE BETWEEN "
            "INTERVAL '14' DAYS PRECEDING AND CURRENT ROW EXCLUDE CURRENT ROW)")
    q = ("SELECT meter, ts, kwh, m, sd, n FROM (SELECT meter, ts, kwh, "
         "avg(kwh) %s AS m, stddev_samp(kwh) %s AS sd, count(kwh) %s AS n "
         "FROM t) WHERE n >= 3 AND kwh >= m + 2 * sd ORDER BY meter, ts"
         % (over, over, over))
    got, err = run_sluice(csv, q, "meter string, ts timestamp, kwh double")
    db = connect()
    db.execute("CREATE TABLE t(meter, ts, kwh)")
    db.executemany("INSERT INTO t VALUES (?,?,?)",
                   [(m, ts * 1000, k) for m, ts, k in rows])
    sover = ("OVER (PARTITION BY meter, strftime('%%H', ts / 1000, "
             "'unixepoch') ORDER BY ts RANGE BETWEEN %d PRECEDING AND "
             "CURRENT ROW EXCLUDE CURRENT ROW)" % (14 * 86400 * 1000))
    sq = ("SELECT meter, ts, kwh, m, sd, n FROM (SELECT meter, ts, kwh, "
          "avg(kwh) %s AS m, stddev_samp(kwh) %s AS sd, count(kwh) %s AS n "
          "FROM t) WHERE n >= 3 AND kwh >= m + 2 * sd ORDER BY meter, ts"
          % (sover, sover, sover))
    want = [list(r) for r in db.execute(sq)]
    if got is None or len(got) != len(want) or len(want) < 10:
        fail(seed, q, err or got, want)
    for g, w in zip(got, want):
        ts = __import__("calendar").timegm(
            __import__("time").strptime(g[1][:19], "%Y-%m-%dT%H:%M:%S"))
        if g[0] != w[0] or ts * 1000 != w[1] or \
                not all(close(a, b) for a, b in zip(g[2:], w[2:])):
            fail(seed, q, g, w)
    print("anomaly query: %d alerts agree with sqlite3" % len(want))


ERRORS = [
    # (query, message part, the text the caret must point at)
    ("SELECT sum(a) OVER (ORDER BY k ROWS BETWEEN 1 FOLLOWING AND CURRENT "
     "ROW) FROM t", "FOLLOWING", "FOLLOWING"),
    ("SELECT sum(a) OVER (ORDER BY k ROWS BETWEEN 1 PRECEDING AND 1 "
     "FOLLOWING) FROM t", "must end at CURRENT ROW", "1 FOLLOWING"),
    ("SELECT sum(a) OVER (ORDER BY k DESC) FROM t", "DESC", "DESC"),
    ("SELECT sum(a) OVER (ORDER BY k, d) FROM t", "one key", ", d"),
    ("SELECT first(a) OVER (ORDER BY k) FROM t", "not supported with OVER",
     "first(a)"),
    ("SELECT sum(a) OVER (ORDER BY k RANGE INTERVAL 1 DAY PRECEDING) FROM t",
     "must be an INTERVAL for a timestamp", "INTERVAL 1 DAY"),
    ("SELECT sum(a) OVER (ORDER BY h RANGE 2 PRECEDING) FROM t",
     "numeric one", "2 PRECEDING"),
    ("SELECT sum(a) OVER (ROWS 1.5 PRECEDING) FROM t", "non-negative integer",
     "1.5"),
    ("SELECT id FROM t WHERE sum(a) OVER (ORDER BY k) > 1", "only allowed",
     "sum(a) OVER"),
    ("SELECT g, sum(a), count(*) OVER (ORDER BY g) FROM t GROUP BY g",
     "sub-query", "count(*) OVER"),
]


def errors(d):
    csv = os.path.join(d, "e.csv")
    write_csv(csv, [(1, 1, "p", 1, 1.0, 1, 1.0)])
    for q, part, at in ERRORS:
        got, err = run_sluice(csv, q)
        if got is not None or part not in err:
            print("query %s: expected an error with %r, got %s" %
                  (q, part, got if got is not None else err))
            sys.exit(1)
        # the caret line under the query line points at `at`
        lines = err.splitlines()
        col = q.index(at)
        caret = [i for i, l in enumerate(lines) if l.strip() == "^"]
        if not caret or lines[caret[0]].index("^") != \
                lines[caret[0] - 1].index(q[:20]) + col:
            print("query %s: caret not at %r:\n%s" % (q, at, err))
            sys.exit(1)
    print("%d refused forms fail with their position" % len(ERRORS))


def streams(d):
    """A SQL stream refuses OVER without a watermark on its input (it never
    runs it per batch); test_sql_over_stream.py runs it with one."""
    job = {"name": "over", "batch_interval": "1s",
           "conf": {"clock": "manual", "max_batches": 1},
           "sources": {"src": {"type": "queue", "schema": "k string, v long",
                               "batches": [[{"k": "a", "v": 1}]]}},
           "streams": {"q": {"sql": "SELECT k, sum(v) OVER (PARTITION BY k "
                                    "ORDER BY v) AS s FROM src"}},
           "sinks": [{"from": "q", "type": "console", "format": "json"}]}
    path = os.path.join(d, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    for cmd, rc in [("validate", 3), ("run", 1)]:
        r = subprocess.run([STREAMCTL, cmd, path], capture_output=True,
                           text=True, timeout=60)
        msg = r.stdout + r.stderr
        if r.returncode != rc or "column 18: OVER aggregation in a SQL " \
                "stream needs a watermark" not in msg:
            print("%s: exit %d, %s" % (cmd, r.returncode, msg))
            sys.exit(1)
    print("SQL streams refuse OVER without a watermark, with its position")


def main():
    global STREAMCTL
    args = sys.argv[1:]
    seed, nq = 13, 300
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    if "--queries" in args:
        i = args.index("--queries")
        nq = int(args[i + 1])
        del args[i:i + 2]
    STREAMCTL = args[0]
    if sqlite3.sqlite_version_info < (3, 28, 0) or \
            not hasattr(sqlite3.Connection, "create_window_function"):
        print("sqlite3 too old for window frames with EXCLUDE: skipped")
        sys.exit(77)
    print("seed %d" % seed)
    with tempfile.TemporaryDirectory() as d:
        differential(d, seed, nq)
        outer_filter(d, seed)
        anomaly(d, seed)
        errors(d)
        streams(d)


if __name__ == "__main__":
    main()

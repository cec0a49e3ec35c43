#!/usr/bin/env python3
"""`streamctl sql` GROUP BY over a large CSV against sqlite3 on the same file.

Generates BUILD/bench/sql/t.csv (--mb MiB, default 1024; deleted at the end
unless --keep) of rows `id long, key string, v double, n long` (keys drawn
from --keys distinct words, values k/8), then times in the same run, --runs
times each (default 3; medians printed):

  (a) sluice: streamctl sql --table t=t.csv:SCHEMA --format csv QUERY,
      process start to exit (reading the file, parsing, aggregating);
  (b) sqlite3 query alone: the same QUERY on a table already imported into
      a file database (the import is not timed here);
  (c) sqlite3 end to end: `.import` of the CSV into a fresh database plus
      the query.

QUERY = SELECT key, count(*), sum(v), avg(n), min(id), max(v) FROM t GROUP BY
key. The results of (a) and (b) are compared (same groups, numbers to 1e-9
relative) before any figure is printed. Target (issue 12): sluice faster
than (b). Uses the sqlite3 command-line shell when installed (the fair
baseline: its own C import), else Python's sqlite3 module (then (c) is an
executemany import, slower than the shell's).

usage: bench_sql.py [--build-dir build] [--mb N] [--keys N] [--runs N] [--keep]
"""

import argparse
import csv
import io
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

QUERY = ("SELECT key, count(*), sum(v), avg(n), min(id), max(v) FROM t "
         "GROUP BY key")
SCHEMA = "id long, key string, v double, n long"


def generate(path, mb, keys, seed=7):
    rng = random.Random(seed)
    words = ["k%05d%s" % (i, "xyz"[i % 3]) for i in range(keys)]
    target = mb * 1024 * 1024
    size = 0
    i = 0
    with open(path, "w") as f:
        while size < target:
            buf = io.StringIO()
            for _ in range(10000):
                buf.write("%d,%s,%s,%d\n" % (
                    i, words[rng.randrange(keys)],
                    repr(rng.randint(-8000, 8000) / 8.0),
                    rng.randint(0, 1000)))
                i += 1
            s = buf.getvalue()
            f.write(s)
            size += len(s)
    return i


def timed(args, **kw):
    t0 = time.monotonic()
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("%s failed (%d): %s" % (args[0], r.returncode,
                                         r.stderr[-2000:]))
    return dt, r.stdout


def rows_of(text):
    return sorted(tuple(r) for r in csv.reader(io.StringIO(text)) if r)


def same(a, b):
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x[0] != y[0]:
            return False
        for u, v in zip(x[1:], y[1:]):
            fu, fv = float(u), float(v)
            if abs(fu - fv) > 1e-9 * max(abs(fu), abs(fv), 1.0):
                return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    streamctl = os.path.join(a.build_dir, "tools", "streamctl")
    d = os.path.join(a.build_dir, "bench", "sql")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "t.csv")
    shell = shutil.which("sqlite3")
    try:
        t0 = time.monotonic()
        n = generate(path, a.mb, a.keys)
        print("generated %s: %d rows, %.0f MiB in %.1f s" % (
            path, n, os.path.getsize(path) / 1048576,
            time.monotonic() - t0))
        with open(path, "rb") as f:  # page cache, for both sides
            while f.read(1 << 24):
                pass
        db = os.path.join(d, "t.db")
        sl_t, q_t, e2e_t = [], [], []
        sl_out = q_out = None
        for run in range(a.runs):
            dt, sl_out = timed([streamctl, "sql", "--format", "csv",
                                "--table", "t=%s:%s" % (path, SCHEMA),
                                QUERY])
            sl_t.append(dt)
            if os.path.exists(db):
                os.unlink(db)
            create = ("CREATE TABLE t (id INTEGER, key TEXT, v REAL, "
                      "n INTEGER);")
            if shell:
                t0 = time.monotonic()
                timed([shell, db], input="%s\n.mode csv\n.import %s t\n"
                      % (create, path))
                imp = time.monotonic() - t0
                dt, q_out = timed([shell, "-csv", db, QUERY + ";"])
            else:
                t0 = time.monotonic()
                con = sqlite3.connect(db)
                con.execute(create)
                with open(path) as f:
                    con.executemany("INSERT INTO t VALUES (?,?,?,?)",
                                    csv.reader(f))
                con.commit()
                con.close()
                imp = time.monotonic() - t0
                t0 = time.monotonic()
                con = sqlite3.connect(db)
                out = io.StringIO()
                csv.writer(out).writerows(con.execute(QUERY))
                con.close()
                dt, q_out = time.monotonic() - t0, out.getvalue()
            q_t.append(dt)
            e2e_t.append(imp + dt)
            print("run %d: sluice %.2f s, sqlite3 query %.2f s, import %.2f s"
                  % (run + 1, sl_t[-1], dt, imp))
        sl_rows = [r for r in rows_of(sl_out) if r[0] != "key"]
        if not same(sl_rows, rows_of(q_out)):
            sys.exit("results differ: sluice %d groups, sqlite3 %d"
                     % (len(sl_rows), len(rows_of(q_out))))
        s, q, e = (statistics.median(x) for x in (sl_t, q_t, e2e_t))
        print("\nmedians over %d runs, %d rows, %d groups (%s):" % (
            a.runs, n, len(sl_rows), "sqlite3 shell" if shell
            else "python sqlite3"))
        print("  sluice (streamctl sql, end to end)  %7.2f s" % s)
        print("  sqlite3 query alone                 %7.2f s   sluice is "
              "%.1fx %s" % (q, q / s if s else 0,
                            "faster: PASS" if s < q else "slower: MISS"))
        print("  sqlite3 import + query              %7.2f s   sluice is "
              "%.1fx faster" % (e, e / s if s else 0))
    finally:
        if not a.keep:
            shutil.rmtree(d, ignore_errors=True)


main()

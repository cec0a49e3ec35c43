#!/usr/bin/env python3
"""The utility-anomaly query over a year of per-minute prices: `streamctl
sql` (the OVER aggregation in batch) against sqlite3's window query on the
same data, in the same run.

Generates BUILD/bench/anomaly/prices.csv with tools/gen/gen_utility
(--weeks 52 --step 1m: 524,160 rows `ts,price`), then times, --runs times
each (medians printed):

  (a) sluice: streamctl sql --table prices=FILE:SCHEMA --format csv QUERY,
      process start to exit;
  (b) sqlite3 query alone: the same query (epoch seconds, RANGE in
      seconds, sample standard deviation from sums) on a table already
      imported into a file database;
  (c) sqlite3 import + query.

A record is anomalous when price >= mean + 2 * sd over the prices with the
same UTC hour of day whose ts lies in [t - 14 days, t) (at least 3 such):
RANGE BETWEEN 14 days PRECEDING AND CURRENT ROW EXCLUDE GROUP. The two
sets of (ts, price) are compared before any figure is printed (MISMATCH
and exit 1 otherwise). The streaming run of the same query is measured
once streaming OVER exists (issue 13). Not a ctest test:

  python3 tools/bench/bench_anomaly.py --build-dir build
"""

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

FRAME = ("(PARTITION BY hour(ts) ORDER BY ts RANGE BETWEEN INTERVAL 14 DAYS "
         "PRECEDING AND CURRENT ROW EXCLUDE GROUP)")
QUERY = ("SELECT ts, price FROM (SELECT ts, price, "
         "avg(price) OVER %s AS m, stddev_samp(price) OVER %s AS sd, "
         "count(price) OVER %s AS n FROM prices) "
         "WHERE n >= 3 AND price >= m + 2 * sd" % (FRAME, FRAME, FRAME))
LITE_FRAME = ("(PARTITION BY h ORDER BY ts RANGE BETWEEN 1209600 PRECEDING "
              "AND CURRENT ROW EXCLUDE GROUP)")
LITE_QUERY = (
    "SELECT ts, price FROM (SELECT ts, price, "
    "count(price) OVER %s AS n, sum(price) OVER %s AS s, "
    "sum(price * price) OVER %s AS s2 FROM prices) "
    "WHERE n >= 3 AND price >= s / n + "
    "2 * sqrt(max((s2 - s * s / n) / (n - 1), 0))"
    % (LITE_FRAME, LITE_FRAME, LITE_FRAME))


def timed(args, **kw):
    t0 = time.monotonic()
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit("%s failed (%d): %s" % (args[0], r.returncode,
                                         r.stderr[-2000:]))
    return time.monotonic() - t0, r.stdout


def epoch(iso):
    return int(time.mktime(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S"))
               - time.timezone)


def import_db(csv_path, db_path):
    if os.path.exists(db_path):
        os.unlink(db_path)
    t0 = time.monotonic()
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE prices (ts INTEGER, h INTEGER, price REAL)")
    with open(csv_path) as f:
        rows = []
        for line in f:
            ts, price = line.rstrip("\n").split(",")
            s = epoch(ts)
            rows.append((s, (s // 3600) % 24, float(price)))
    db.executemany("INSERT INTO prices VALUES (?, ?, ?)", rows)
    db.commit()
    db.close()
    return time.monotonic() - t0


def lite_query(db_path):
    t0 = time.monotonic()
    db = sqlite3.connect(db_path)
    got = db.execute(LITE_QUERY).fetchall()
    db.close()
    return time.monotonic() - t0, sorted((ts, round(p, 2)) for ts, p in got)


def sluice_rows(text):
    out = []
    for line in text.splitlines()[1:]:
        ts, price = line.split(",")
        out.append((epoch(ts.replace(" ", "T")), round(float(price), 2)))
    return sorted(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    streamctl = os.path.join(a.build_dir, "tools", "streamctl")
    gen = os.path.join(a.build_dir, "tools", "gen", "gen_utility")
    d = os.path.join(a.build_dir, "bench", "anomaly")
    os.makedirs(d, exist_ok=True)
    csv_path, db_path = os.path.join(d, "prices.csv"), os.path.join(d, "p.db")
    subprocess.run([gen, "--seed", "7", "--weeks", str(a.weeks), "--step",
                    "1m", "--anomalies", "20", "--out", csv_path], check=True)
    nrows = sum(1 for _ in open(csv_path))
    print("%d rows, load average %.2f" % (nrows, os.getloadavg()[0]))
    spec = "prices=%s:ts timestamp, price double" % csv_path
    sl, lq, li = [], [], []
    for _ in range(a.runs):
        dt, out = timed([streamctl, "sql", "--table", spec, "--format", "csv",
                         "--max-rows", "10000000", QUERY])
        sl.append(dt)
        li.append(import_db(csv_path, db_path))
        dt, want = lite_query(db_path)
        lq.append(dt)
        got = sluice_rows(out)
        if got != want:
            print("MISMATCH: sluice %d rows, sqlite3 %d rows; first "
                  "differences: %r" % (len(got), len(want),
                                       sorted(set(got) ^ set(want))[:5]))
            return 1
    print("anomalies: %d (both engines)" % len(got))
    m = statistics.median
    print("  sluice (streamctl sql, end to end)  %7.2f s" % m(sl))
    print("  sqlite3 query alone                 %7.2f s   sluice %.1fx"
          % (m(lq), m(lq) / m(sl)))
    print("  sqlite3 import (Python) + query     %7.2f s   sluice %.1fx"
          % (m(li) + m(lq), (m(li) + m(lq)) / m(sl)))
    if shutil.which("sqlite3") is None:
        print("  (the sqlite3 shell is not installed: Python's module ran "
              "the query)")
    os.unlink(db_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

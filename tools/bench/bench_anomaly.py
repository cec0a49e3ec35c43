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
  (c) sqlite3 import + query;
  (d) sluice streaming, one file: the same query as a SQL stream
      (streaming OVER) in a job (streamctl run) whose directory source's
      path is the CSV, `"trigger": "available_now"`, watermark delay 1 h:
      one batch of every row, then the last batch (watermark at the end
      of time) emits the OVER rows the watermark held back; process
      start to exit;
  (e) sluice streaming, weekly files: the same rows cut into one file per
      week (--weeks files, mtimes in order), read one per batch
      (`max_files_per_trigger` 1) by the same job, so the per-hour
      histories go from batch to batch through the state store as on a
      live stream (the cut itself is not timed).

A record is anomalous when price >= mean + 2 * sd over the prices with the
same UTC hour of day whose ts lies in [t - 14 days, t) (at least 3 such):
RANGE BETWEEN 14 days PRECEDING AND CURRENT ROW EXCLUDE GROUP. The two
sets of (ts, price) are compared before any figure is printed (MISMATCH
and exit 1 otherwise); so are the streaming runs' (d, e). Not a ctest
test:

  python3 tools/bench/bench_anomaly.py --build-dir build
"""

import argparse
import json
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


def stream_job(d, name, path, per_batch):
    """A job file running QUERY as a SQL stream over the directory source
    `path` (a file or a directory), available_now."""
    src = {"type": "directory", "path": path, "format": "csv",
           "schema": "ts timestamp, price double",
           "watermark": {"column": "ts", "delay": "1h"}}
    if per_batch:
        src["max_files_per_trigger"] = per_batch
    job = os.path.join(d, name + ".json")
    with open(job, "w") as f:
        json.dump({"name": name, "batch_interval": "1s",
                   "trigger": "available_now", "sources": {"prices": src},
                   "streams": {"q": {"sql": QUERY}},
                   "sinks": [{"from": "q", "type": "console",
                              "format": "json"}]}, f)
    return job


def weekly_files(csv_path, d):
    """csv_path cut into one file per 7 days of rows, mtimes in order."""
    wd = os.path.join(d, "weekly")
    shutil.rmtree(wd, ignore_errors=True)
    os.makedirs(wd)
    with open(csv_path) as f:
        lines = f.readlines()
    per = 7 * 24 * 60  # per-minute rows
    t = time.time() - 3600
    for i in range(0, len(lines), per):
        path = os.path.join(wd, "week-%03d.csv" % (i // per))
        with open(path, "w") as f:
            f.writelines(lines[i:i + per])
        os.utime(path, (t + i // per, t + i // per))
    return wd


def stream_rows(text):
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            for r in json.loads(line)["records"]:
                out.append((epoch(r["ts"]), round(float(r["price"]), 2)))
    return sorted(out)


def compare(what, got, want):
    if got != want:
        print("MISMATCH: %s %d rows, sqlite3 %d rows; first differences: %r"
              % (what, len(got), len(want), sorted(set(got) ^ set(want))[:5]))
        return False
    return True


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
    one = stream_job(d, "anomaly_one", csv_path, 0)
    weekly = stream_job(d, "anomaly_weekly", weekly_files(csv_path, d), 1)
    sl, lq, li, s1, sw = [], [], [], [], []
    for _ in range(a.runs):
        dt, out = timed([streamctl, "sql", "--table", spec, "--format", "csv",
                         "--max-rows", "10000000", QUERY])
        sl.append(dt)
        dt, out1 = timed([streamctl, "run", one])
        s1.append(dt)
        dt, outw = timed([streamctl, "run", weekly])
        sw.append(dt)
        li.append(import_db(csv_path, db_path))
        dt, want = lite_query(db_path)
        lq.append(dt)
        got = sluice_rows(out)
        if not (compare("sluice batch", got, want) and
                compare("sluice stream (one file)", stream_rows(out1), want)
                and compare("sluice stream (weekly files)", stream_rows(outw),
                            want)):
            return 1
    print("anomalies: %d (sluice batch, both streaming runs, sqlite3)"
          % len(got))
    m = statistics.median
    print("  sluice (streamctl sql, end to end)  %7.2f s" % m(sl))
    print("  sluice stream, one file (2 batches) %7.2f s" % m(s1))
    print("  sluice stream, %3d weekly batches   %7.2f s"
          % (len(os.listdir(os.path.join(d, "weekly"))), m(sw)))
    print("  sqlite3 query alone                 %7.2f s   sluice %.1fx"
          % (m(lq), m(lq) / m(sl)))
    print("  sqlite3 import (Python) + query     %7.2f s   sluice %.1fx"
          % (m(li) + m(lq), (m(li) + m(lq)) / m(sl)))
    print("  sqlite3 query alone / sluice stream: one file %.1fx, weekly "
          "%.1fx" % (m(lq) / m(s1), m(lq) / m(sw)))
    if shutil.which("sqlite3") is None:
        print("  (the sqlite3 shell is not installed: Python's module ran "
              "the query)")
    os.unlink(db_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

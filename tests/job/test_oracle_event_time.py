#!/usr/bin/env python3
"""Event-time cases of Spark's test vectors (tests/oracle/spark_vectors.json,
issue 13) run through sluice's SQL: each case becomes a job file run by
`streamctl run` (a queue source with a schema, the manual clock; select-only
cases in append mode, groupBy cases in complete mode) and the same query run
by `streamctl sql` over a CSV file. Output lines name the case as
"SUITE / TEST [via]". Suites are handled by the HANDLERS table, so that
EventTimeWatermarkSuite's cases can be added beside
DataFrameTimeWindowingSuite's.

Usage: test_oracle_event_time.py STREAMCTL SOURCE_ROOT
"""

import csv
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_streamctl  # noqa: E402

SCHEMA = "time timestamp, value long, id string"


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def interval(params, what):
    """A window parameter of the case as a Spark interval string."""
    if what + "_ms" in params:
        return "%d milliseconds" % params[what + "_ms"]
    if what + "_s" in params:
        return "%d seconds" % params[what + "_s"]
    return None


def window_call(params):
    args = ["time", "'%s'" % interval(params, "window")]
    slide, start = interval(params, "slide"), interval(params, "start_offset")
    if slide or start:
        args.append("'%s'" % (slide or args[1].strip("'")))
    if start:
        args.append("'%s'" % start)
    return "window(%s)" % ", ".join(args)


def windowing_query(case):
    """(SQL, output mode, key) of a DataFrameTimeWindowingSuite case: the
    window as its start and end text (CAST to string, as Spark's test
    compares strings), then the count or the value."""
    w = window_call(case["params"])
    cols = ("CAST(window.start AS STRING) AS ws, "
            "CAST(window.end AS STRING) AS we")
    if case["op"].startswith("groupBy"):
        return ("SELECT %s, count(*) AS n FROM src GROUP BY %s" % (cols, w),
                "complete", "n")
    return ("SELECT %s, value FROM (SELECT %s, value FROM src)" % (cols, w),
            "append", "value")


def records(case):
    out = []
    for row in case["input"]:
        r = {"time": row[0], "value": row[1]}
        if len(row) > 2:
            r["id"] = row[2]
        out.append(r)
    return out


def run_job(tmp, sql, mode, rows):
    job = {"name": "event_time", "batch_interval": "1s",
           "conf": {"clock": "manual", "max_batches": 1},
           "sources": {"src": {"type": "queue", "schema": SCHEMA,
                               "batches": [rows]}},
           "streams": {"q": {"sql": sql, "output_mode": mode}},
           "sinks": [{"from": "q", "type": "console", "format": "json"}]}
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    rc, out, err = run_streamctl(STREAMCTL, ["run", path], tmp, 60)
    check(rc == 0, "streamctl run exit %d: %s" % (rc, err[-800:]))
    got = []
    for line in out.splitlines():
        if line.startswith("{"):
            got = json.loads(line)["records"]  # complete: the last batch
    return got


def run_sql(tmp, sql, rows):
    path = os.path.join(tmp, "src.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow([r["time"], r["value"], r.get("id", "")])
    rc, out, err = run_streamctl(
        STREAMCTL, ["sql", "--format", "json", "--table",
                    "src=%s:%s" % (path, SCHEMA), sql], tmp, 60)
    check(rc == 0, "streamctl sql exit %d: %s" % (rc, err[-800:]))
    return [json.loads(line) for line in out.splitlines() if line]


def windowing(case, tmp, via):
    sql, mode, key = windowing_query(case)
    rows = records(case)
    got = run_job(tmp, sql, mode, rows) if via == "run" else run_sql(
        tmp, sql, rows)
    got = sorted([r["ws"], r["we"], r[key]] for r in got)
    want = sorted(case["expected"])
    check(got == want, "%s\n got  %r\n want %r" % (sql, got, want))


HANDLERS = {"DataFrameTimeWindowingSuite": windowing}


def main(argv):
    global STREAMCTL
    STREAMCTL = argv[1]
    path = os.path.join(argv[2], "tests", "oracle", "spark_vectors.json")
    with open(path) as f:
        cases = [c for c in json.load(f) if c["suite"] in HANDLERS]
    check(cases, "no event-time cases in %s" % path)
    failed = 0
    for case in cases:
        for via in ("run", "sql"):
            name = "%s / %s [%s]" % (case["suite"], case["test"], via)
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    HANDLERS[case["suite"]](case, tmp, via)
                    print("ok: %s" % name)
                except Failure as e:
                    failed += 1
                    print("FAIL: %s: %s" % (name, e))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

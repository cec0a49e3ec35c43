#!/usr/bin/env python3
"""The trigger available_now (issue 13): a job reads what its sources hold
at start, in batches back to back on the system clock, then one last
batch with the watermark at +infinity emits every event-time group, and
the job stops by itself with exit 0.

- queue: append-mode windows that the watermark alone would never close
  are all emitted by the last batch; entries are taken up to the end seen
  at start;
- directory: every file present at start is read (existing files
  included), a file moved in after the start is not; a `path` naming one
  file reads that file only (a sibling file is ignored);
- refused for sources without an end (socket, rate, generator), with the
  source named;
- progress: the last batch's event_time watermark is the end of time.

Usage: test_trigger_available_now.py STREAMCTL SOURCE_ROOT
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from joblib import Failure, run_module_cases, run_streamctl  # noqa: E402

STREAMCTL = None


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def iso(s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))


def write(tmp, job):
    path = os.path.join(tmp, "job.json")
    with open(path, "w") as f:
        json.dump(job, f)
    return path


def records(out, stream="c"):
    got = []
    for line in out.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            if o["stream"] == stream:
                got.append(o["records"])
    return got


def windows_job(tmp, source, delay="10s"):
    source = dict(source)
    source["watermark"] = {"column": "ts", "delay": delay}
    return write(tmp, {
        "name": "an", "batch_interval": "1s", "trigger": "available_now",
        "sources": {"src": source},
        "streams": {"c": {"sql": "SELECT window.start AS s, count(*) AS n, "
                                 "sum(v) AS total FROM src "
                                 "GROUP BY window(ts, '10 seconds')",
                          "output_mode": "append"}},
        "sinks": [{"from": "c", "type": "console", "format": "json"}]})


def case_queue(tmp):
    # One entry holds every row: without the trigger the watermark (max -
    # 1 h) never passes a window, so append mode would print nothing.
    rows = [{"ts": iso(100 + i), "v": i} for i in range(25)]
    job = windows_job(tmp, {"type": "queue", "schema": "ts timestamp, v long",
                            "batches": [rows[:10], [], rows[10:]]}, "1h")
    t0 = time.monotonic()
    rc, out, err = run_streamctl(STREAMCTL, ["run", job, "--progress",
                                             os.path.join(tmp, "p.jsonl")],
                                 tmp, 60)
    took = time.monotonic() - t0
    check(rc == 0, "exit %d: %s" % (rc, err[-600:]))
    got = [r for b in records(out) for r in b]
    want = {iso(100): (10, sum(range(10))), iso(110): (10, sum(range(10, 20))),
            iso(120): (5, sum(range(20, 25)))}
    check({r["s"].replace(".000Z", "Z"): (r["n"], r["total"]) for r in got}
          == want and len(got) == 3, "windows %r" % got)
    check(all(b == [] for b in records(out)[:-1]),
          "emitted before the end: %r" % records(out))
    # 3 entries and the last batch; back to back (the interval is 1 s)
    check(len(records(out)) == 4 and took < 3.5,
          "%d batches in %.1f s" % (len(records(out)), took))
    with open(os.path.join(tmp, "p.jsonl")) as f:
        last = [json.loads(line) for line in f][-1]
    # the largest timestamp, as ISO-8601 text writes it
    check(last["event_time"]["watermark"] == "+292278994-08-17T07:12:55.807Z",
          "last watermark %r" % last["event_time"])


def case_directory(tmp):
    d = os.path.join(tmp, "in")
    os.makedirs(d)
    for k in range(3):
        with open(os.path.join(d, "f%d.csv" % k), "w") as f:
            for i in range(10):
                f.write("%s,%d\n" % (iso(1000 + 10 * k + i), 1))
    job = windows_job(tmp, {"type": "directory", "path": d, "format": "csv",
                            "schema": "ts timestamp, v long",
                            "max_files_per_trigger": 1})
    rc, out, err = run_streamctl(STREAMCTL, ["run", job], tmp, 60)
    check(rc == 0, "exit %d: %s" % (rc, err[-600:]))
    got = sorted((r["s"], r["n"]) for b in records(out) for r in b)
    check(got == [(iso(1000 + 10 * k).replace("Z", ".000Z"), 10)
                  for k in range(3)], "windows %r" % got)
    # one file per batch, then the last batch
    check(len(records(out)) == 4, "batches %r" % records(out))


def case_one_file(tmp):
    d = os.path.join(tmp, "in")
    os.makedirs(d)
    for name, n in (("a.csv", 4), ("b.csv", 7)):
        with open(os.path.join(d, name), "w") as f:
            for i in range(n):
                f.write("%s,%d\n" % (iso(50 + i), i))
    job = windows_job(tmp, {"type": "directory",
                            "path": os.path.join(d, "b.csv"),
                            "format": "csv", "schema": "ts timestamp, v long"})
    rc, out, _ = run_streamctl(STREAMCTL, ["validate", job], tmp, 30)
    check(rc == 0, "validate of a file path: %r" % out)
    rc, out, err = run_streamctl(STREAMCTL, ["run", job], tmp, 60)
    check(rc == 0, "exit %d: %s" % (rc, err[-600:]))
    got = sorted((r["s"], r["n"]) for b in records(out) for r in b)
    check(got == [(iso(50).replace("Z", ".000Z"), 7)], "windows %r" % got)


def case_refused(tmp):
    for src, name in (({"type": "rate", "rows_per_second": 5}, "rate"),
                      ({"type": "socket", "host": "127.0.0.1",
                        "port": 9}, "socket")):
        job = write(tmp, {
            "name": "an", "batch_interval": "1s",
            "trigger": "available_now", "sources": {"src": src},
            "streams": {"c": {"sql": "SELECT * FROM src"}},
            "sinks": [{"from": "c", "type": "console"}]})
        rc, out, err = run_streamctl(STREAMCTL, ["run", job], tmp, 30)
        check(rc != 0 and "available_now" in err and "no end" in err,
              "%s: exit %d, %r" % (name, rc, err[-400:]))
    bad = write(tmp, {"name": "an", "batch_interval": "1s",
                      "trigger": "once", "sources": {},
                      "streams": {}, "sinks": []})
    rc, out, err = run_streamctl(STREAMCTL, ["validate", bad], tmp, 30)
    check(rc == 3 and "$.trigger" in out + err, "bad trigger: %r" % err)


if __name__ == "__main__":
    sys.exit(run_module_cases(globals()))
